// Inline facts shown after key lines of a *.hyperat.json (configDecorations.ts renders them):
// eps and step size as decimals, the trainable parameter count next to the LoRA/hypernetwork
// settings, and for the latest run of this config each defense's sampled share and last robust
// accuracy. Pure over the document text so it is unit-tested without VS Code.
// The ESM build: esbuild cannot bundle the UMD main (it requires "./impl/format" dynamically).
import { parseTree, findNodeAtLocation, type Node } from "jsonc-parser/lib/esm/main.js";
import { parseFraction } from "../core/config/fraction";
import { compactCount, percent } from "./format";
import type { RunSummary } from "../protocol/runs";

export interface ConfigFact {
  /** Offset in the document of the key whose line gets the fact. */
  offset: number;
  text: string;
}

export interface ConfigFactInputs {
  /** Trainable parameters of this config's method (hyperat: hypernetwork + head; lora-at: LoRA + head), if computable. */
  trainableParams?: number;
  /** Total backbone parameters, to show the trainable share. */
  totalParams?: number;
  /** The latest run started from this config: each defense's sampled share and last robust accuracy. */
  latestRun?: { id: string; defenses: Array<{ name: string; share: number; lastRobustAccuracy?: number }> };
}

/** The property node's key offset, so the decoration lands on the key's line. */
function keyOffset(root: Node, path: (string | number)[]): number | undefined {
  const value = findNodeAtLocation(root, path);
  if (!value) return undefined;
  const prop = value.parent;
  return prop?.type === "property" && prop.children?.[0] ? prop.children[0].offset : value.offset;
}

function fractionFact(root: Node, path: string[]): ConfigFact | undefined {
  const node = findNodeAtLocation(root, path);
  if (!node || (typeof node.value !== "string" && typeof node.value !== "number")) return undefined;
  try {
    const f = parseFraction(node.value, path.join("."));
    return { offset: keyOffset(root, path)!, text: `${path[path.length - 1]} = ${Number(f.value.toPrecision(4))}` };
  } catch {
    return undefined; // configProblems/the schema report malformed values
  }
}

function trainableFact(root: Node, inputs: ConfigFactInputs): ConfigFact[] {
  if (inputs.trainableParams === undefined) return [];
  const method = findNodeAtLocation(root, ["method"])?.value ?? "hyperat";
  // "220K params (148.72% of 148K)" read like a bug: a hypernetwork can be larger than the
  // backbone it tunes. Say which part trains and which stays frozen (issue 16 item 8).
  const what = method === "hyperat" ? "hypernetwork + head" : method === "lora-at" ? "LoRA + head" : "all weights";
  const frozen = inputs.totalParams && method !== "full-at" ? `; backbone ${compactCount(inputs.totalParams)} frozen` : "";
  const text = `${what} ${compactCount(inputs.trainableParams)} trainable${frozen}`;
  // The count belongs to the block that defines the trainable part for this method.
  const key = method === "hyperat" ? "hypernet" : method === "lora-at" ? "lora" : "method";
  const offset = keyOffset(root, [key]) ?? keyOffset(root, ["method"]) ?? keyOffset(root, ["lora"]);
  return offset === undefined ? [] : [{ offset, text }];
}

function defenseFacts(root: Node, inputs: ConfigFactInputs): ConfigFact[] {
  const run = inputs.latestRun;
  const list = findNodeAtLocation(root, ["defenses"]);
  if (!run || list?.type !== "array") return [];
  // The run once on the "defenses" line; each defense line then stays short.
  const out: ConfigFact[] = [{ offset: keyOffset(root, ["defenses"])!, text: `latest run ${run.id}` }];
  (list.children ?? []).forEach((item, i) => {
    const name = findNodeAtLocation(root, ["defenses", i, "name"])?.value;
    const facts = run.defenses.find((d) => d.name === name);
    if (typeof name !== "string" || !facts) return;
    const robust = facts.lastRobustAccuracy === undefined ? "" : ` · robust ${percent(facts.lastRobustAccuracy)}`;
    // On the "name" line (the item's own line when it is written on one line).
    const offset = keyOffset(root, ["defenses", i, "name"]) ?? item.offset;
    out.push({ offset, text: `sampled ${percent(facts.share, 0)}${robust}` });
  });
  return out;
}

/** The run whose facts decorate a config: the newest completed run of it, else the newest with a
 * validation (a best), else the newest. A stopped 1-step run no longer becomes "the latest run"
 * with sampled 100% / 0% / 0% and no robust numbers (issue 16 item 7). */
export function runForDecorations<R extends Pick<RunSummary, "configPath" | "createdAt" | "state" | "best">>(runs: readonly R[], configPath: string): R | undefined {
  const mine = runs.filter((r) => r.configPath === configPath).sort((a, b) => b.createdAt.localeCompare(a.createdAt));
  return mine.find((r) => r.state === "completed") ?? mine.find((r) => r.best) ?? mine[0];
}

/** All facts for a document; an unparsable document yields none. */
export function configFacts(text: string, inputs: ConfigFactInputs = {}): ConfigFact[] {
  const root = parseTree(text);
  if (!root || root.type !== "object") return [];
  const facts = [fractionFact(root, ["attack", "eps"]), fractionFact(root, ["attack", "stepSize"])].filter(
    (f): f is ConfigFact => f !== undefined,
  );
  return [...facts, ...trainableFact(root, inputs), ...defenseFacts(root, inputs)];
}
