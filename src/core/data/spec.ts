import * as fs from "node:fs";
import * as path from "node:path";
import { Dataset, subset } from "./types";
import { shapes10 } from "./synthetic";
import { detectCifarDir, loadCifarDir, loadCifarFiles, pickleError } from "./cifar";
import { loadImageFolder } from "./imageFolder";
import { fileKind } from "../io/regularFile";

/**
 * Data specs, as written in configs and on the command line:
 *   synthetic:shapes10?n=2000&seed=1&offset=0   the built-in procedural set
 *   path/to/cifar-10-batches-bin                 CIFAR-10 / CIFAR-100 binary directory
 *   path/to/data_batch_1.bin                     one CIFAR binary file (train.bin/test.bin: CIFAR-100)
 *   path/to/images                               root/<class>/*.png|jpg (or root/{train,test}/<class>/...)
 * Paths may carry `?n=N` (keep the first N samples), `?labels=coarse` (CIFAR-100),
 * `?size=S` and `?maxPixels=P` (image folders: output side; largest image accepted, width·height,
 * default 40 M). Relative paths resolve against `baseDir` (the config's folder).
 */
export interface DataSpecOptions {
  baseDir?: string;
  split?: "train" | "test";
}

export interface ParsedSpec {
  kind: "synthetic" | "path";
  /** Generator name (synthetic) or the path as written. */
  target: string;
  params: Record<string, string>;
}

const SYNTHETIC_DEFAULT_N = { train: 2000, test: 1000 };
const SYNTHETIC_PARAMS = new Set(["n", "seed", "offset"]);
const PATH_PARAMS = new Set(["n", "labels", "size", "maxPixels"]);

export function parseDataSpec(spec: string): ParsedSpec {
  const q = spec.indexOf("?");
  const head = q >= 0 ? spec.slice(0, q) : spec;
  const params: Record<string, string> = {};
  if (q >= 0) {
    for (const [k, v] of new URLSearchParams(spec.slice(q + 1))) {
      if (k in params) throw new Error(`data spec "${spec}": parameter "${k}" is given twice`);
      params[k] = v;
    }
  }
  if (head.startsWith("synthetic:")) return { kind: "synthetic", target: head.slice("synthetic:".length), params };
  if (head.trim() === "") throw new Error(`data spec "${spec}": empty path`);
  return { kind: "path", target: head, params };
}

function intParam(spec: string, params: Record<string, string>, key: string, min: number): number | undefined {
  if (params[key] === undefined) return undefined;
  const v = Number(params[key]);
  if (params[key].trim() === "" || !Number.isInteger(v) || v < min) {
    throw new Error(`data spec "${spec}": ${key}=${JSON.stringify(params[key])} must be an integer >= ${min}`);
  }
  return v;
}

function checkKnown(spec: string, params: Record<string, string>, known: Set<string>): void {
  for (const k of Object.keys(params)) {
    if (!known.has(k)) throw new Error(`data spec "${spec}": unknown parameter "${k}" (known: ${[...known].join(", ")})`);
  }
}

/** Loads the dataset a spec names. Errors name the spec and what is wrong. */
export async function loadDataSpec(spec: string, opts: DataSpecOptions = {}): Promise<Dataset> {
  const split = opts.split ?? "train";
  const parsed = parseDataSpec(spec);
  const p = parsed.params;
  if (parsed.kind === "synthetic") {
    if (parsed.target !== "shapes10") throw new Error(`data spec "${spec}": unknown synthetic dataset "${parsed.target}" (known: shapes10)`);
    checkKnown(spec, p, SYNTHETIC_PARAMS);
    const n = intParam(spec, p, "n", 1) ?? SYNTHETIC_DEFAULT_N[split];
    const seed = intParam(spec, p, "seed", 0) ?? 0;
    const offset = intParam(spec, p, "offset", 0) ?? 0;
    return shapes10({ n, seed, offset, split });
  }
  checkKnown(spec, p, PATH_PARAMS);
  const limit = intParam(spec, p, "n", 1);
  const labels = p.labels;
  if (labels !== undefined && labels !== "fine" && labels !== "coarse") throw new Error(`data spec "${spec}": labels must be "fine" or "coarse", got "${labels}"`);
  const size = intParam(spec, p, "size", 1);
  const maxPixels = intParam(spec, p, "maxPixels", 1);
  const resolved = path.resolve(opts.baseDir ?? process.cwd(), parsed.target);
  if (!fs.existsSync(resolved)) throw new Error(`data spec "${spec}": ${resolved} does not exist`);
  const st = fs.statSync(resolved);
  if (!st.isFile() && !st.isDirectory()) {
    throw new Error(`data spec "${spec}": ${resolved} is a ${fileKind(st)}; data must be a regular file or a directory`);
  }
  const cap = (ds: Dataset) => (limit !== undefined && limit < ds.n ? subset(ds, Array.from({ length: limit }, (_, i) => i)) : ds);
  const wrap = async <T>(load: () => T | Promise<T>): Promise<T> => {
    try {
      return await load();
    } catch (e) {
      throw new Error(`data spec "${spec}": ${(e as Error).message}`);
    }
  };

  if (st.isFile()) {
    const base = path.basename(resolved);
    if (!base.endsWith(".bin")) {
      if (/^(data_batch_\d+|test_batch|train|test)$/.test(base)) throw new Error(`data spec "${spec}": ${pickleError(resolved).message}`);
      throw new Error(`data spec "${spec}": ${resolved} is a file but not a CIFAR .bin file`);
    }
    const kind = base === "train.bin" || base === "test.bin" ? "cifar100" : "cifar10";
    return cap(await wrap(() => loadCifarFiles([resolved], { kind, labels: labels as "fine" | "coarse" | undefined }, resolved)));
  }
  const cifar = await wrap(() => detectCifarDir(resolved));
  if (cifar) return cap(await wrap(() => loadCifarDir(resolved, split, { labels: labels as "fine" | "coarse" | undefined })));
  // Image folder; a root with train/ and test/ holds one class tree per split.
  const splitDir = path.join(resolved, split);
  const hasSplits = fs.existsSync(path.join(resolved, "train")) && fs.existsSync(path.join(resolved, "test"));
  const root = hasSplits ? splitDir : resolved;
  return wrap(() => loadImageFolder(root, { size: size ?? 32, limit, maxPixels }));
}

/** The file-system path a spec names (query removed), or undefined for a synthetic spec. */
export function dataSpecPath(spec: string): string | undefined {
  const p = parseDataSpec(spec);
  return p.kind === "path" ? p.target : undefined;
}

/** The spec with its path made absolute against `baseDir`, query kept; synthetic specs unchanged. */
export function resolveDataSpec(spec: string, baseDir: string): string {
  const p = dataSpecPath(spec);
  if (p === undefined) return spec;
  const q = spec.indexOf("?");
  return path.resolve(baseDir, p) + (q >= 0 ? spec.slice(q) : "");
}
