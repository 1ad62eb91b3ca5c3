import * as fs from "node:fs";
import * as path from "node:path";
import { checkDataSpec } from "./spec";
import { ValSpec, isHeldOut } from "./heldOut";

/**
 * Which samples a spec reads, as far as can be told before loading: a source (the same images
 * whatever the spec's other parameters) and a half-open index range in it. Training reads the
 * "train" split of a source and val/test its "test" split (engine.ts); a CIFAR folder or an
 * image root with train/ and test/ has different images per split, a single file or a flat
 * image folder the same ones.
 */
interface SampleRange {
  source: string;
  start: number;
  end: number;
}

function sampleRange(spec: string, split: "train" | "test", baseDir: string): SampleRange {
  const c = checkDataSpec(spec, split);
  if (c.parsed.kind === "synthetic") {
    return { source: `synthetic:${c.parsed.target} seed=${c.seed} split=${split}`, start: c.offset, end: c.offset + c.n! };
  }
  const abs = path.resolve(baseDir, c.parsed.target);
  // A path not there yet (an example before its download step) is judged by its name: a .bin is
  // one file, anything else a folder with splits.
  const perSplit = fs.existsSync(abs) ? fs.statSync(abs).isDirectory() && !isFlatImageFolder(abs) : !abs.endsWith(".bin");
  return { source: perSplit ? `${abs} (${split})` : abs, start: c.offset, end: c.n === undefined ? Infinity : c.offset + c.n };
}

/** A folder of class folders without train/ and test/ reads the same images for every split. */
function isFlatImageFolder(dir: string): boolean {
  const names = new Set(fs.readdirSync(dir));
  const cifar = [...names].some((n) => n.endsWith(".bin")) || names.has("cifar-10-batches-bin") || names.has("cifar-100-binary");
  return !cifar && !(names.has("train") && names.has("test"));
}

/** A problem with one data spec of a config, at its JSON path (e.g. "/data/val"). */
export class DataSpecError extends Error {
  constructor(
    readonly jsonPath: string,
    readonly detail: string,
  ) {
    super(`${jsonPath}: ${detail}`);
    this.name = "DataSpecError";
  }
}

/**
 * Rejects data specs whose samples overlap (validation or test images that are also trained on,
 * or validation images that are also tested on), naming both JSON paths and specs. Specs are
 * checked for form first, so a malformed one is reported as such.
 */
export function checkDisjointSplits(data: { train: string; val: ValSpec; test: string }, baseDir = process.cwd()): void {
  const entries: Array<{ key: "train" | "val" | "test"; spec: string; range: SampleRange }> = [];
  const add = (key: "train" | "val" | "test", spec: string, split: "train" | "test") => {
    try {
      entries.push({ key, spec, range: sampleRange(spec, split, baseDir) });
    } catch (e) {
      throw new DataSpecError(`/data/${key}`, (e as Error).message);
    }
  };
  add("train", data.train, "train");
  if (!isHeldOut(data.val)) add("val", data.val, "test");
  add("test", data.test, "test");
  for (let i = 0; i < entries.length; i++) {
    for (let j = i + 1; j < entries.length; j++) {
      const a = entries[i];
      const b = entries[j];
      if (a.range.source !== b.range.source) continue;
      const lo = Math.max(a.range.start, b.range.start);
      const hi = Math.min(a.range.end, b.range.end);
      if (lo < hi) {
        const span = hi === Infinity ? `from sample ${lo} on` : `samples [${lo}, ${hi})`;
        throw new DataSpecError(
          `/data/${b.key}`,
          `"${b.spec}" overlaps /data/${a.key} "${a.spec}" (${span} of the same data); ` +
            `use disjoint ?offset=&n= windows${b.key === "val" || a.key === "val" ? ', or { "from": "train", "n": N } to hold validation images out of training' : ""}`,
        );
      }
    }
  }
}
