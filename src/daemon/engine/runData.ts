import * as fs from "node:fs/promises";
import * as path from "node:path";
import { RunConfig } from "../../core/config/types";
import { loadDataSpec } from "../../core/data/spec";
import { Dataset } from "../../core/data/types";
import { holdOut, isHeldOut } from "../../core/data/heldOut";
import { writeFileAtomic } from "../../core/io/files";

/** A run's file recording which training images `{ from: "train", n }` held out. */
export const DATA_SPLIT_FILE = "data-split.json";

/**
 * Datasets by spec, kept for the life of the engine: one process opens a session, merges and
 * evaluates the same run in a row (the CLI, the demo), and the synthetic generator or a CIFAR
 * parse should run once, not once per operation.
 */
const loaded = new Map<string, Promise<Dataset>>();

function cached(key: string, load: () => Promise<Dataset>): Promise<Dataset> {
  let ds = loaded.get(key);
  if (!ds) {
    ds = load();
    ds.catch(() => loaded.delete(key));
    loaded.set(key, ds);
  }
  return ds;
}

/** One split as a data spec names it (val/test read a source's test split). */
export function loadSplit(cfg: RunConfig, split: "train" | "test"): Promise<Dataset> {
  const spec = cfg.data[split];
  const which = split === "train" ? "train" : "test";
  return cached(`${which}\u0000${spec}`, () => loadDataSpec(spec, { split: which }));
}

export interface RunData {
  train: Dataset;
  val: Dataset;
  /** Set when val is held out of the training data. */
  valIndices?: number[];
}

const splits = new Map<string, Promise<{ train: Dataset; val: Dataset; valIndices: number[] }>>();

/** Training and validation data of a run, holding val out of train when the config says so. */
export async function loadTrainVal(cfg: RunConfig): Promise<RunData> {
  const val = cfg.data.val;
  if (!isHeldOut(val)) {
    return { train: await loadSplit(cfg, "train"), val: await cached(`test\u0000${val}`, () => loadDataSpec(val, { split: "test" })) };
  }
  const key = `${cfg.data.train}\u0000${val.n}\u0000${cfg.seed}`;
  let s = splits.get(key);
  if (!s) {
    s = loadSplit(cfg, "train").then((full) => holdOut(full, val.n, cfg.seed));
    s.catch(() => splits.delete(key));
    splits.set(key, s);
  }
  return s;
}

/**
 * Writes data-split.json on a run's first use and, later (resume, merge, evaluate), checks the
 * same images are held out: a changed training file would otherwise silently move images
 * between training and validation.
 */
export async function recordDataSplit(runDir: string, cfg: RunConfig, data: RunData): Promise<void> {
  if (!data.valIndices || !isHeldOut(cfg.data.val)) return;
  const file = path.join(runDir, DATA_SPLIT_FILE);
  const doc = { format: "hyperat-data-split", version: 1, train: cfg.data.train, trainSamples: data.train.n + data.valIndices.length, seed: cfg.seed, val: cfg.data.val, valIndices: data.valIndices };
  let before: string | undefined;
  try {
    before = await fs.readFile(file, "utf8");
  } catch {
    /* first use of this run */
  }
  if (before === undefined) {
    await writeFileAtomic(file, JSON.stringify(doc) + "\n");
    return;
  }
  const old = JSON.parse(before) as typeof doc;
  if (old.trainSamples !== doc.trainSamples || old.valIndices.join(",") !== doc.valIndices.join(",")) {
    throw new Error(`${file}: the training data ${cfg.data.train} no longer gives the held-out images recorded when the run started (${old.trainSamples} samples then, ${doc.trainSamples} now); restore the data or start a new run`);
  }
}
