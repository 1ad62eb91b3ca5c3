import { test, describe, before, after } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { checkDataSpec, loadDataSpec } from "../../../src/core/data/spec";
import { shapes10 } from "../../../src/core/data/synthetic";
import { encodeCifar10, writeCifarBinary } from "../../../src/core/data/cifar";
import { checkDisjointSplits } from "../../../src/core/data/overlap";

// ?offset=, ?format= and the overlap check of issue 12 (path specs had neither).
let dir: string;
before(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "hyperat-window-"));
});
after(() => fs.rmSync(dir, { recursive: true, force: true }));

describe("path spec offset and format", () => {
  test("?offset=K&n=N reads samples K..K+N-1, the same semantics as synthetic specs", async () => {
    const d = path.join(dir, "cifar");
    await writeCifarBinary(path.join(d, "test_batch.bin"), shapes10({ n: 12, seed: 4 }));
    const all = await loadDataSpec(d, { split: "test" });
    const win = await loadDataSpec(`${d}?n=3&offset=7`, { split: "test" });
    assert.equal(win.n, 3);
    assert.deepEqual([...win.labels], [...all.labels.subarray(7, 10)]);
    assert.deepEqual(win.images, all.images.subarray(7 * 3072, 10 * 3072));
    const tail = await loadDataSpec(`${d}?offset=10`, { split: "test" });
    assert.deepEqual([...tail.labels], [...all.labels.subarray(10)]);
    const synth = await loadDataSpec("synthetic:shapes10?n=3&offset=7&seed=4");
    assert.deepEqual(synth.images, shapes10({ n: 12, seed: 4 }).images.subarray(7 * 3072, 10 * 3072));
  });

  test("a window past the end is rejected naming the spec and the size", async () => {
    const d = path.join(dir, "cifar");
    await assert.rejects(loadDataSpec(`${d}?offset=12`, { split: "test" }), (e: Error) => e.message.includes(`data spec "${d}?offset=12": offset=12 is past the end`) && /\(12 samples\)/.test(e.message));
    await assert.rejects(loadDataSpec(`${d}?offset=10&n=5`, { split: "test" }), /samples \[10, 15\) are outside .* \(12 samples\)/);
    assert.throws(() => checkDataSpec("x?offset=-1"), /offset="-1" must be an integer >= 0/);
    assert.throws(() => checkDataSpec("x?format=svhn"), /format must be "cifar10" or "cifar100", got "svhn"/);
  });

  test("CIFAR-10 records named test.bin: the error names ?format=cifar10, which then reads them", async () => {
    const file = path.join(dir, "c10named100", "test.bin");
    fs.mkdirSync(path.dirname(file), { recursive: true });
    const ds = shapes10({ n: 6, seed: 1 });
    fs.writeFileSync(file, encodeCifar10(ds)); // 6·3073 bytes: not a whole number of 3074-byte records
    await assert.rejects(loadDataSpec(file), (e: Error) => /not a whole number of 3074-byte cifar100 records/.test(e.message) && /whole number of CIFAR-10 records \(6\)/.test(e.message) && e.message.includes("?format=cifar10"));
    const read = await loadDataSpec(`${file}?format=cifar10`);
    assert.equal(read.n, 6);
    assert.deepEqual([...read.labels], [...ds.labels]);
    // The same file in a folder (CIFAR-100 layout) gets the same hint and override.
    await assert.rejects(loadDataSpec(path.dirname(file), { split: "test" }), /\?format=cifar10/);
    assert.equal((await loadDataSpec(`${path.dirname(file)}?format=cifar10`, { split: "test" })).n, 6);
    await assert.rejects(loadDataSpec(`${path.join(dir, "cifar")}?format=cifar10`, { split: "train" }), /no train files for cifar10/);
  });
});

describe("overlapping splits", () => {
  test("disjoint windows of one test set pass; the flagship example's layout is one of them", () => {
    const d = path.join(dir, "cifar");
    checkDisjointSplits({ train: d, val: `${d}?n=1000&offset=9000`, test: `${d}?n=9000` });
    checkDisjointSplits({ train: d, val: { from: "train", n: 100 }, test: d });
    checkDisjointSplits({ train: "synthetic:shapes10?seed=1", val: "synthetic:shapes10?n=256&seed=2", test: "synthetic:shapes10?seed=3" });
  });

  test("val overlapping test, or test reading the training file, is rejected naming both", () => {
    const d = path.join(dir, "cifar");
    assert.throws(
      () => checkDisjointSplits({ train: d, val: `${d}?n=1000&offset=8500`, test: `${d}?n=9000` }),
      (e: Error & { jsonPath?: string }) => e.jsonPath === "/data/test" && e.message.includes(`overlaps /data/val "${d}?n=1000&offset=8500" (samples [8500, 9000)`) && /from": "train"/.test(e.message),
    );
    const file = path.join(d, "test_batch.bin");
    assert.throws(() => checkDisjointSplits({ train: file, val: { from: "train", n: 2 }, test: `${file}?offset=3` }), /\/data\/test: .* overlaps \/data\/train .* \(from sample 3 on/);
    assert.throws(() => checkDisjointSplits({ train: "synthetic:shapes10", val: "synthetic:shapes10?n=10&seed=2", test: "synthetic:shapes10?n=20&seed=2&offset=5" }), /\/data\/test: .* overlaps \/data\/val .* \(samples \[5, 10\)/);
    assert.throws(() => checkDisjointSplits({ train: "synthetic:shapes10", val: "synthetic:shapes10?bogus=1", test: "synthetic:shapes10" }), /^DataSpecError: \/data\/val: data spec "synthetic:shapes10\?bogus=1": unknown parameter "bogus"/);
  });
});
