// Semantic problems in a *.hyperat.json that the JSON schema cannot express (the schema itself
// is bound through contributes.jsonValidation): a data or model file that does not exist, an eps
// outside [0,1] pixel space or one the shared fraction parser rejects ("9/0"), a LoRA target the
// model does not have, an unknown defense or attack name (errors, not the schema's warnings).
// Pure over the text plus an injected file-existence check, so configDiagnostics.ts only
// converts ranges.
// The ESM build: esbuild cannot bundle the UMD main (it requires "./impl/format" dynamically).
import { parseTree, findNodeAtLocation, type Node } from "jsonc-parser/lib/esm/main.js";
import { isAbsolute, join } from "node:path";
import { parseFraction } from "../core/config/fraction";
import { dataSpecPath } from "../core/data/specSyntax";
import { isHfModelId } from "../core/model/hfModelId";
import { attackListErrors } from "../core/attacks/attackNames";
import schema from "../../schemas/hyperat.schema.json";

export interface ConfigProblem {
  offset: number;
  length: number;
  /** JSON path of the offending value, e.g. "/attack/eps". */
  path: string;
  message: string;
  severity: "error" | "warning";
}

/** Module types every ViT block has (the schema's enum for lora.targets is the single source). */
export const MODEL_MODULES: readonly string[] = schema.properties.lora.properties.targets.items.enum;

const DATA_KEYS = ["train", "val", "test"] as const;

function at(node: Node, path: string, message: string, severity: ConfigProblem["severity"] = "error"): ConfigProblem {
  return { offset: node.offset, length: node.length, path, message, severity };
}

/** The file or folder a data spec names, read by the engine's own spec parser; undefined for a
 * generator ("synthetic:...") or a malformed spec (the daemon names what is wrong with it). */
function dataPath(spec: string): string | undefined {
  try {
    return dataSpecPath(spec);
  } catch {
    return undefined;
  }
}

function missingFiles(root: Node, configDir: string, exists: (p: string) => boolean): ConfigProblem[] {
  const out: ConfigProblem[] = [];
  const check = (path: (string | number)[], what: string, fileOf: (text: string) => string | undefined) => {
    const node = findNodeAtLocation(root, path);
    if (node?.type !== "string") return;
    const rel = fileOf(node.value as string);
    if (rel === undefined || rel === "") return;
    const abs = isAbsolute(rel) ? rel : join(configDir, rel);
    if (!exists(abs)) out.push(at(node, `/${path.join("/")}`, `${what} not found: ${abs}`));
  };
  for (const k of DATA_KEYS) check(["data", k], `${k} data`, dataPath);
  check(["model", "path"], "model file", (p) => (isHfModelId(p) ? undefined : p)); // hf: ids are checked by the daemon
  return out;
}

function epsProblems(root: Node): ConfigProblem[] {
  const out: ConfigProblem[] = [];
  for (const key of ["eps", "stepSize"]) {
    const node = findNodeAtLocation(root, ["attack", key]);
    if (!node || (node.type !== "string" && node.type !== "number")) continue;
    let value: number;
    try {
      // The engine's own parser (src/core/config/fraction.ts): what it rejects is an error here too,
      // e.g. "9/0", which the schema's pattern accepts.
      value = parseFraction(node.value as string | number, `attack.${key}`).value;
    } catch (e) {
      out.push(at(node, `/attack/${key}`, (e as Error).message));
      continue;
    }
    if (value > 1) {
      out.push(at(node, `/attack/${key}`, `attack.${key} = ${value} is larger than 1, but images live in [0,1] pixel space (did you mean ${node.value}/255?)`));
    } else if (value === 0 && key === "eps") {
      out.push(at(node, "/attack/eps", "attack.eps = 0 trains without adversarial examples", "warning"));
    }
  }
  return out;
}

function targetProblems(root: Node, modules: readonly string[]): ConfigProblem[] {
  const list = findNodeAtLocation(root, ["lora", "targets"]);
  if (list?.type !== "array") return [];
  return (list.children ?? []).flatMap((item, i) =>
    item.type === "string" && !modules.includes(item.value as string)
      ? [at(item, `/lora/targets/${i}`, `LoRA target "${item.value}" is not a module of the model's blocks (${modules.join(", ")})`)]
      : [],
  );
}

/** Defense names the engine has (the schema's enum mirrors src/core/train/defenses/registry.ts). */
export const DEFENSE_NAMES: readonly string[] = schema.properties.defenses.items.properties.name.enum;

/** Unknown defense and attack names are errors: the JSON schema's enum only gives a warning. */
function nameProblems(root: Node): ConfigProblem[] {
  const out: ConfigProblem[] = [];
  const list = findNodeAtLocation(root, ["defenses"]);
  for (const [i, item] of (list?.type === "array" ? list.children ?? [] : []).entries()) {
    const node = item.type === "object" ? findNodeAtLocation(item, ["name"]) : undefined;
    if (node?.type === "string" && !DEFENSE_NAMES.includes(node.value as string)) {
      out.push(at(node, `/defenses/${i}/name`, `unknown defense "${node.value}"; known: ${DEFENSE_NAMES.join(", ")}`));
    }
  }
  for (const [path, allowAuto] of [[["evaluation", "attacks"], true], [["training", "validationAttack"], false]] as const) {
    const node = findNodeAtLocation(root, [...path]);
    if (node?.type !== "string") continue;
    const errors = attackListErrors(node.value as string, allowAuto);
    if (errors.length) out.push(at(node, `/${path.join("/")}`, `${path.join(".")}: ${errors.join("; ")}`));
  }
  return out;
}

/** Problems in a config document at `configPath`; an unparsable document yields none (the JSON language service reports it). */
export function configProblems(
  text: string,
  configDir: string,
  exists: (absPath: string) => boolean,
  modules: readonly string[] = MODEL_MODULES,
): ConfigProblem[] {
  const root = parseTree(text);
  if (!root || root.type !== "object") return [];
  return [...missingFiles(root, configDir, exists), ...epsProblems(root), ...targetProblems(root, modules), ...nameProblems(root)];
}
