import { Rng } from "../rng";

/**
 * The random draws an attack makes on a batch, one row per sample. Evaluation gives every
 * sample its own stream (`SampleStreams`), so a sample's random start does not depend on which
 * other samples share its batch: a report is the same at any `evaluation.batchSize`
 * (test/core/evaluate/batchIndependence.test.ts). Training passes one `Rng` (its checkpointed
 * attack stream, src/core/train/accumulate.ts), which serves every row in order: the draws are
 * then the ones a batch-wide `fillUniform` makes.
 */
export interface AttackRng {
  /** `n` values for the whole batch, row-major: `n` is a multiple of the rows, row j's share is sample j's. */
  fillUniform(n: number, lo: number, hi: number): Float32Array;
  fillNormal(n: number, std?: number): Float32Array;
  /** The stream of row j, for draws one sample at a time (Square's windows). */
  row(j: number): { next(): number };
  /** The streams of rows `rows` in that order: an attack that goes on with a subset of its batch. */
  rows(rows: readonly number[]): AttackRng;
}

/** One `Rng` per row; rows draw their share of each batch-wide fill from their own stream. */
export class SampleStreams implements AttackRng {
  constructor(private readonly streams: readonly Rng[]) {
    if (streams.length === 0) throw new Error("SampleStreams: a batch needs at least one sample stream");
  }

  /**
   * The streams of samples `indices` (their positions in the evaluated data) for attack
   * `attack`: `Rng.fromSeed(seed, "eval:<attack>:<index>")`, independent per sample and attack.
   */
  static forSamples(seed: number, attack: string, indices: readonly number[]): SampleStreams {
    return new SampleStreams(indices.map((i) => Rng.fromSeed(seed, `eval:${attack}:${i}`)));
  }

  private perRow(n: number, what: string): number {
    const k = n / this.streams.length;
    if (!Number.isInteger(k)) throw new Error(`${what}: ${n} values do not split into ${this.streams.length} sample rows`);
    return k;
  }

  fillUniform(n: number, lo: number, hi: number): Float32Array {
    const k = this.perRow(n, "fillUniform");
    const out = new Float32Array(n);
    this.streams.forEach((s, j) => out.set(s.fillUniform(k, lo, hi), j * k));
    return out;
  }

  fillNormal(n: number, std = 1): Float32Array {
    const k = this.perRow(n, "fillNormal");
    const out = new Float32Array(n);
    this.streams.forEach((s, j) => out.set(s.fillNormal(k, std), j * k));
    return out;
  }

  row(j: number): Rng {
    const s = this.streams[j];
    if (!s) throw new Error(`row ${j} is outside a batch of ${this.streams.length} samples`);
    return s;
  }

  rows(rows: readonly number[]): SampleStreams {
    return new SampleStreams(rows.map((j) => this.row(j)));
  }
}
