import Ajv, { ErrorObject } from "ajv";
import schema from "../../../schemas/hyperat.schema.json";
import { isHfModelId, parseHfModelId } from "../model/hfModelId";
import { RunConfig } from "./types";
import { parseFraction } from "./fraction";
import { ConfigError } from "./configError";

const ajv = new Ajv({ allErrors: true, useDefaults: true, strict: false, verbose: true });
const validateSchema = ajv.compile(schema);

function describe(e: ErrorObject): string {
  const p = e.params as Record<string, unknown>;
  switch (e.keyword) {
    case "enum":
      return `must be one of ${(p.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(", ")}`;
    case "additionalProperties":
      return `unknown property "${String(p.additionalProperty)}"`;
    case "required":
      return `missing required property "${String(p.missingProperty)}"`;
    case "type":
      return `must be ${String(p.type).replace(/,/g, " or ")}`;
    case "const":
      return `must be ${JSON.stringify(p.allowedValue)}`;
    case "maximum":
    case "minimum":
    case "exclusiveMaximum":
    case "exclusiveMinimum":
      return `must be ${String(p.comparison)} ${String(p.limit)}${maximumReason(e)}`;
    default:
      return e.message ?? e.keyword;
  }
}

/** The schema's reason for an upper bound (its description says why, from "At most"). */
function maximumReason(e: ErrorObject): string {
  if (e.keyword !== "maximum") return "";
  const desc = (e.parentSchema as { description?: string } | undefined)?.description ?? "";
  const at = desc.indexOf("At most");
  return at >= 0 ? ` (${desc.slice(at).replace(/\.$/, "")})` : "";
}

/** The offending value, quoted, for the message ("got 1e+300"). */
function gotValue(doc: unknown, pointer: string): string {
  let v: unknown = doc;
  for (const key of pointer.split("/").slice(1)) {
    if (v === null || typeof v !== "object") return "";
    v = (v as Record<string, unknown>)[key.replace(/~1/g, "/").replace(/~0/g, "~")];
  }
  if (v === undefined || (typeof v === "object" && v !== null)) return "";
  const text = JSON.stringify(v);
  return `, got ${text.length > 60 ? text.slice(0, 57) + "..." : text}`;
}

function errorPath(e: ErrorObject): string {
  if (e.keyword === "additionalProperties") return `${e.instancePath}/${String((e.params as Record<string, unknown>).additionalProperty)}`;
  if (e.keyword === "required") return `${e.instancePath}/${String((e.params as Record<string, unknown>).missingProperty)}`;
  return e.instancePath;
}

/**
 * Validates a parsed `*.hyperat.json` against schemas/hyperat.schema.json (the same schema the
 * editor uses), fills defaults, then checks what a schema cannot express. Throws ConfigError
 * naming the JSON path and the expected value. The input is not modified.
 */
export function validateConfig(input: unknown, file?: string): RunConfig {
  const doc = structuredClone(input);
  if (doc === null || typeof doc !== "object" || Array.isArray(doc)) {
    throw new ConfigError("", "a config must be a JSON object", file);
  }
  if (!validateSchema(doc)) {
    const errs = validateSchema.errors ?? [];
    // Prefer the most specific error: anyOf/oneOf wrappers repeat their children, and the
    // deepest path is where the value went wrong ({ "from": "train", "n": 0 } at /data/val/n).
    const leaves = errs.filter((x) => x.keyword !== "anyOf" && x.keyword !== "oneOf");
    const e = leaves.reduce((best, x) => (errorPath(x).length > errorPath(best).length ? x : best), leaves[0] ?? errs[0]);
    // Alternatives at one path ("auto" or an integer) read as one message, not the first of them.
    const alternatives = [...new Set(leaves.filter((x) => errorPath(x) === errorPath(e)).map(describe))];
    const others = leaves.filter((x) => errorPath(x) !== errorPath(e)).length;
    const more = others > 0 ? ` (and ${others} more problem${others > 1 ? "s" : ""})` : "";
    const got = e.keyword === "additionalProperties" || e.keyword === "required" ? "" : gotValue(doc, e.instancePath);
    throw new ConfigError(errorPath(e), alternatives.join(", or ") + got + more, file);
  }
  const cfg = doc as RunConfig;
  semanticChecks(cfg, file);
  return cfg;
}

function semanticChecks(cfg: RunConfig, file?: string): void {
  const eps = parseFractionAt(cfg.attack.eps, "/attack/eps", file);
  if (!(eps > 0 && eps <= 1)) throw new ConfigError("/attack/eps", `must be in (0, 1] (pixel space), got ${eps}`, file);
  const step = parseFractionAt(cfg.attack.stepSize, "/attack/stepSize", file);
  if (!(step > 0 && step <= 1)) throw new ConfigError("/attack/stepSize", `must be in (0, 1], got ${step}`, file);
  const names = cfg.defenses.map((d) => d.name);
  const dup = names.find((n, i) => names.indexOf(n) !== i);
  if (dup) throw new ConfigError(`/defenses/${names.lastIndexOf(dup)}/name`, `defense "${dup}" is listed twice`, file);
  if (cfg.method !== "hyperat" && cfg.defenses.length > 1) {
    // Baselines train one defense; say which one instead of silently ignoring the rest.
    cfg.defenses = cfg.defenses.slice(0, 1);
  }
  if (cfg.model.path !== undefined && isHfModelId(cfg.model.path)) {
    try {
      parseHfModelId(cfg.model.path);
    } catch (e) {
      throw new ConfigError("/model/path", (e as Error).message, file);
    }
  }
  const micro = cfg.training.microBatchSize;
  if (typeof micro === "number" && micro > cfg.training.batchSize) {
    throw new ConfigError("/training/microBatchSize", `${micro} is larger than training.batchSize ${cfg.training.batchSize} (a micro-batch is a part of the batch)`, file);
  }
  if (cfg.model.path === undefined && cfg.model.patchSize !== undefined && cfg.model.imgSize % cfg.model.patchSize !== 0) {
    throw new ConfigError("/model/patchSize", `imgSize ${cfg.model.imgSize} is not divisible by patchSize ${cfg.model.patchSize}`, file);
  }
}

function parseFractionAt(v: string | number, path: string, file?: string): number {
  try {
    return parseFraction(v, path).value;
  } catch (e) {
    throw new ConfigError(path, (e as Error).message.replace(`${path}: `, ""), file);
  }
}

/**
 * Config text without a leading UTF-8 byte-order mark: editors (Notepad, VS Code's "UTF-8 with
 * BOM") write one, and JSON.parse rejects it as an unexpected token (issue 15).
 */
export function stripBom(text: string): string {
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

/** Parses JSON text with a ConfigError that names the line and column of a syntax error. */
export function parseConfigText(rawText: string, file?: string): RunConfig {
  const text = stripBom(rawText);
  if (text.trim() === "") throw new ConfigError("", "the file is empty; a config is a JSON object ({} takes every default)", file);
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    const msg = (e as Error).message;
    const pos = /position (\d+)/.exec(msg)?.[1] ?? syntaxErrorOffset(text);
    let where = "";
    if (pos !== undefined) {
      const before = text.slice(0, Number(pos));
      const line = before.split("\n").length;
      where = ` at line ${line}, column ${before.length - before.lastIndexOf("\n")}`;
    }
    throw new ConfigError("", `invalid JSON${where}: ${msg}`, file);
  }
  return validateConfig(doc, file);
}

/**
 * Offset of the character V8 rejects when its message carries no position (Node 20:
 * `Unexpected token '}', "..." is not valid JSON`). A prefix that is valid so far only fails at
 * its end; the shortest prefix that fails earlier ends with the bad character. Failing early is
 * monotonic in the prefix length, so a binary search finds it.
 */
function syntaxErrorOffset(text: string): number | undefined {
  const failsEarly = (k: number): boolean => {
    try {
      JSON.parse(text.slice(0, k));
      return false;
    } catch (e) {
      const msg = (e as Error).message;
      if (/end of JSON input/.test(msg)) return false;
      const pos = /position (\d+)/.exec(msg);
      return pos ? Number(pos[1]) < k : true;
    }
  };
  if (!failsEarly(text.length)) return undefined;
  let lo = 1;
  let hi = text.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (failsEarly(mid)) hi = mid;
    else lo = mid + 1;
  }
  return lo - 1;
}
