import * as fs from "node:fs";
import * as path from "node:path";
import { Dataset, subset } from "./types";
import { shapes10 } from "./synthetic";
import { CIFAR10_RECORD, CifarKind, detectCifarDir, loadCifarDir, loadCifarFiles, pickleError } from "./cifar";
import { loadImageFolder } from "./imageFolder";
import { fileKind } from "../io/regularFile";
import { dataSpecPath, parseDataSpec, type ParsedSpec } from "./specSyntax";

/**
 * Data specs, as written in configs and on the command line:
 *   synthetic:shapes10?n=2000&seed=1&offset=0   the built-in procedural set
 *   path/to/cifar-10-batches-bin                 CIFAR-10 / CIFAR-100 binary directory
 *   path/to/data_batch_1.bin                     one CIFAR binary file (train.bin/test.bin: CIFAR-100)
 *   path/to/images                               root/<class>/*.png|jpg (or root/{train,test}/<class>/...)
 * Paths may carry `?n=N` (keep N samples), `?offset=K` (start at sample K, as synthetic specs do:
 * samples K..K+N-1), `?format=cifar10|cifar100` (overrides the guess from file names),
 * `?labels=coarse` (CIFAR-100), `?size=S` and `?maxPixels=P` (image folders: output side; largest
 * image accepted, width·height, default 40 M). Relative paths resolve against `baseDir` (the
 * config's folder).
 */
export interface DataSpecOptions {
  baseDir?: string;
  split?: "train" | "test";
}

const SYNTHETIC_DEFAULT_N = { train: 2000, test: 1000 };
const SYNTHETIC_PARAMS = new Set(["n", "seed", "offset"]);
const PATH_PARAMS = new Set(["n", "offset", "format", "labels", "size", "maxPixels"]);

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

/** A spec's parameters checked without touching the disk: what `hyperat check` and example tests need. */
export interface CheckedSpec {
  parsed: ParsedSpec;
  n?: number;
  offset: number;
  /** Synthetic only. */
  seed?: number;
  format?: CifarKind;
  labels?: "fine" | "coarse";
  size?: number;
  maxPixels?: number;
}

/** Validates a spec's form and parameters (names and values); throws naming the spec. */
export function checkDataSpec(spec: string, split: "train" | "test" = "train"): CheckedSpec {
  const parsed = parseDataSpec(spec);
  const p = parsed.params;
  if (parsed.kind === "synthetic") {
    if (parsed.target !== "shapes10") throw new Error(`data spec "${spec}": unknown synthetic dataset "${parsed.target}" (known: shapes10)`);
    checkKnown(spec, p, SYNTHETIC_PARAMS);
    return { parsed, n: intParam(spec, p, "n", 1) ?? SYNTHETIC_DEFAULT_N[split], seed: intParam(spec, p, "seed", 0) ?? 0, offset: intParam(spec, p, "offset", 0) ?? 0 };
  }
  checkKnown(spec, p, PATH_PARAMS);
  const labels = p.labels;
  if (labels !== undefined && labels !== "fine" && labels !== "coarse") throw new Error(`data spec "${spec}": labels must be "fine" or "coarse", got "${labels}"`);
  const format = p.format;
  if (format !== undefined && format !== "cifar10" && format !== "cifar100") throw new Error(`data spec "${spec}": format must be "cifar10" or "cifar100", got "${format}"`);
  return { parsed, n: intParam(spec, p, "n", 1), offset: intParam(spec, p, "offset", 0) ?? 0, format, labels, size: intParam(spec, p, "size", 1), maxPixels: intParam(spec, p, "maxPixels", 1) };
}

/**
 * Samples [offset, offset+n) of a loaded set. Without an offset a too-large n keeps the whole
 * set (as before offsets existed); with one, a window past the end is an error.
 */
function window(spec: string, ds: Dataset, offset: number, n: number | undefined): Dataset {
  if (offset === 0 && (n === undefined || n >= ds.n)) return ds;
  if (offset >= ds.n) throw new Error(`data spec "${spec}": offset=${offset} is past the end of ${ds.source} (${ds.n} samples)`);
  const count = n ?? ds.n - offset;
  if (offset + count > ds.n) throw new Error(`data spec "${spec}": samples [${offset}, ${offset + count}) are outside ${ds.source} (${ds.n} samples)`);
  return subset(ds, Array.from({ length: count }, (_, i) => offset + i));
}

/** CIFAR-10 or -100 from a file name: train.bin/test.bin are CIFAR-100's names. */
function guessFileKind(base: string): CifarKind {
  return base === "train.bin" || base === "test.bin" ? "cifar100" : "cifar10";
}

/** Loads the dataset a spec names. Errors name the spec and what is wrong. */
export async function loadDataSpec(spec: string, opts: DataSpecOptions = {}): Promise<Dataset> {
  const split = opts.split ?? "train";
  const c = checkDataSpec(spec, split);
  const parsed = c.parsed;
  if (parsed.kind === "synthetic") return shapes10({ n: c.n!, seed: c.seed!, offset: c.offset, split });
  const resolved = path.resolve(opts.baseDir ?? process.cwd(), parsed.target);
  if (!fs.existsSync(resolved)) throw new Error(`data spec "${spec}": ${resolved} does not exist`);
  const st = fs.statSync(resolved);
  if (!st.isFile() && !st.isDirectory()) {
    throw new Error(`data spec "${spec}": ${resolved} is a ${fileKind(st)}; data must be a regular file or a directory`);
  }
  const cap = (ds: Dataset) => window(spec, ds, c.offset, c.n);
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
    const kind = c.format ?? guessFileKind(base);
    const guessed = c.format === undefined && kind === "cifar100" ? resolved : undefined;
    return cap(await wrap(() => withCifar10Hint(() => loadCifarFiles([resolved], { kind, labels: c.labels }, resolved), guessed)));
  }
  const cifar = await wrap(() => detectCifarDir(resolved));
  if (cifar) {
    const guessed = c.format === undefined && cifar.kind === "cifar100" ? path.join(cifar.dir, `${split}.bin`) : undefined;
    return cap(await wrap(() => withCifar10Hint(() => loadCifarDir(resolved, split, { labels: c.labels, kind: c.format }), guessed)));
  }
  if (c.format !== undefined) throw new Error(`data spec "${spec}": format=${c.format} given, but ${resolved} holds no CIFAR .bin files`);
  // Image folder; a root with train/ and test/ holds one class tree per split.
  const splitDir = path.join(resolved, split);
  const hasSplits = fs.existsSync(path.join(resolved, "train")) && fs.existsSync(path.join(resolved, "test"));
  const root = hasSplits ? splitDir : resolved;
  const limit = c.n !== undefined ? c.offset + c.n : undefined;
  return cap(await wrap(() => loadImageFolder(root, { size: c.size ?? 32, limit, maxPixels: c.maxPixels })));
}

/**
 * Runs a CIFAR load whose kind was guessed as CIFAR-100 from file names; when it fails on a
 * file that divides into CIFAR-10 records, the error says so and names the override.
 */
async function withCifar10Hint<T>(load: () => Promise<T>, guessedCifar100File: string | undefined): Promise<T> {
  try {
    return await load();
  } catch (e) {
    if (guessedCifar100File === undefined || !fs.existsSync(guessedCifar100File)) throw e;
    const bytes = fs.statSync(guessedCifar100File).size;
    if (bytes === 0 || bytes % CIFAR10_RECORD !== 0) throw e;
    throw new Error(
      `${(e as Error).message}. Its ${bytes} bytes are a whole number of CIFAR-10 records (${bytes / CIFAR10_RECORD}): ` +
        `${path.basename(guessedCifar100File)} is CIFAR-100's file name, so add ?format=cifar10 to read it as CIFAR-10`,
    );
  }
}

/** The spec with its path made absolute against `baseDir`, query kept; synthetic specs unchanged. */
export function resolveDataSpec(spec: string, baseDir: string): string {
  const p = dataSpecPath(spec);
  if (p === undefined) return spec;
  const q = spec.indexOf("?");
  return path.resolve(baseDir, p) + (q >= 0 ? spec.slice(q) : "");
}
