import { Dataset, subset } from "./types";
import { Rng } from "../rng";

/**
 * `data.val: { "from": "train", "n": N }`: N training images held out for validation and
 * adaptive merging, so the test split stays untouched (the usual CIFAR practice of a validation
 * slice of the 50k training images, e.g. Rice et al., ICML 2020, for early stopping).
 */
export interface HeldOutSpec {
  from: "train";
  n: number;
}

export type ValSpec = string | HeldOutSpec;

export function isHeldOut(v: ValSpec): v is HeldOutSpec {
  return typeof v === "object" && v !== null && v.from === "train";
}

/** How a val spec reads in reports and errors. */
export function describeValSpec(v: ValSpec): string {
  return isHeldOut(v) ? `${v.n} images held out of the training data` : v;
}

export interface HeldOutSplit {
  train: Dataset;
  val: Dataset;
  /** Indices into the loaded training set that went to `val`, ascending. */
  valIndices: number[];
}

/**
 * Splits `n` samples off `train`, chosen by a seeded permutation (stream "val-holdout", so the
 * choice depends on the config seed only, never on the training order). The rest stays in
 * training in its original order. Throws naming `where` when nothing would be left to train on.
 */
export function holdOut(train: Dataset, n: number, seed: number, where = "/data/val"): HeldOutSplit {
  if (!Number.isInteger(n) || n < 1) throw new Error(`${where}: n must be an integer >= 1, got ${n}`);
  if (n >= train.n) throw new Error(`${where}: holding out n=${n} of the ${train.n} training samples of ${train.source} leaves none to train on`);
  const perm = Rng.fromSeed(seed, "val-holdout").permutation(train.n);
  const valIndices = Array.from(perm.subarray(0, n)).sort((a, b) => a - b);
  const taken = new Uint8Array(train.n);
  for (const i of valIndices) taken[i] = 1;
  const rest: number[] = [];
  for (let i = 0; i < train.n; i++) if (!taken[i]) rest.push(i);
  return {
    train: subset(train, rest, `${train.source} minus ${n} held out`),
    val: subset(train, valIndices, `${train.source}: ${n} held out for validation (seed ${seed})`),
    valIndices,
  };
}
