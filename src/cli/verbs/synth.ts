import type { Command } from "commander";
import * as path from "node:path";
import { shapes10 } from "../../core/data/synthetic";
import { writeCifarBinary, writeCifarMeta } from "../../core/data/cifar";

function positiveInt(flag: string, v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new Error(`${flag}: expected a non-negative integer, got "${v}"`);
  return n;
}

/** Writes the built-in synthetic set in CIFAR-10 binary format so outside tools can read it. */
export function registerSynth(program: Command): void {
  program
    .command("synth")
    .description("write the synthetic shapes10 set as CIFAR-10 binary (data_batch_1.bin, test_batch.bin, batches.meta.txt)")
    .requiredOption("--out <dir>", "output directory")
    .option("--n <n>", "training images", "10000")
    .option("--test-n <n>", "test images", "2000")
    .option("--seed <seed>", "generator seed", "0")
    .action(async (opts: { out: string; n: string; testN: string; seed: string }) => {
      const n = positiveInt("--n", opts.n);
      const testN = positiveInt("--test-n", opts.testN);
      const seed = positiveInt("--seed", opts.seed);
      const out = path.resolve(opts.out);
      const train = shapes10({ n, seed, split: "train" });
      const test = shapes10({ n: testN, seed, split: "test" });
      await writeCifarBinary(path.join(out, "data_batch_1.bin"), train);
      await writeCifarBinary(path.join(out, "test_batch.bin"), test);
      await writeCifarMeta(out, train.classNames);
      console.log(`wrote ${n} training and ${testN} test images (shapes10, seed ${seed}) to ${out} in CIFAR-10 binary format`);
      console.log(`use it as a data spec: "${out}"`);
    });
}
