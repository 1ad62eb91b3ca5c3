import { test, describe, before, after } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { shapes10 } from "../../../src/core/data/synthetic";
import { writeCifarBinary, writeCifarMeta, loadCifarDir, parseCifarBinary, encodeCifar10 } from "../../../src/core/data/cifar";
import { loadDataSpec } from "../../../src/core/data/spec";

let dir: string;
before(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "hyperat-cifar-"));
});
after(() => fs.rmSync(dir, { recursive: true, force: true }));

/** CIFAR-100 records by hand: coarse byte, fine byte, R plane, G plane, B plane. */
function cifar100Record(coarse: number, fine: number, r: number, g: number, b: number): number[] {
  return [coarse, fine, ...new Array(1024).fill(r), ...new Array(1024).fill(g), ...new Array(1024).fill(b)];
}

describe("CIFAR binary", () => {
  test("write then read round-trips labels, names and byte-quantized pixels", async () => {
    const train = shapes10({ n: 30, seed: 1 });
    const test = shapes10({ n: 10, seed: 1, split: "test" });
    const d = path.join(dir, "rt");
    await writeCifarBinary(path.join(d, "data_batch_1.bin"), train);
    await writeCifarBinary(path.join(d, "test_batch.bin"), test);
    await writeCifarMeta(d, train.classNames);
    assert.equal(fs.statSync(path.join(d, "data_batch_1.bin")).size, 30 * 3073);
    const back = await loadCifarDir(d, "train");
    assert.equal(back.n, 30);
    assert.deepEqual(back.labels, train.labels);
    assert.deepEqual(back.classNames, train.classNames);
    for (let i = 0; i < train.images.length; i++) assert.equal(back.images[i], Math.fround(Math.round(train.images[i] * 255) / 255));
    const backTest = await loadDataSpec(d, { split: "test" });
    assert.deepEqual(backTest.labels, test.labels);
  });

  test("record layout: label byte then CHW planes (hand-checked)", () => {
    const ds = { ...shapes10({ n: 1, seed: 0 }), labels: new Int32Array([7]) };
    ds.images.fill(0);
    ds.images[3 * (2 * 32 + 5) + 1] = 1; // pixel (row 2, col 5), green
    const bytes = encodeCifar10(ds);
    assert.equal(bytes[0], 7);
    assert.equal(bytes[1 + 1024 + 2 * 32 + 5], 255);
    assert.equal(bytes.reduce((a, v) => a + v, 0), 7 + 255);
  });

  test("CIFAR-100 uses the fine label by default, the coarse one on request", async () => {
    const bytes = Uint8Array.from([...cifar100Record(3, 42, 255, 0, 51), ...cifar100Record(19, 99, 0, 255, 0)]);
    const fine = parseCifarBinary(bytes, "train.bin", { kind: "cifar100" });
    assert.deepEqual([...fine.labels], [42, 99]);
    assert.deepEqual([...fine.images.subarray(0, 3)], [1, 0, Math.fround(0.2)]);
    assert.deepEqual([...fine.images.subarray(3072, 3075)], [0, 1, 0]);
    assert.deepEqual([...parseCifarBinary(bytes, "train.bin", { kind: "cifar100", labels: "coarse" }).labels], [3, 19]);
    const d = path.join(dir, "c100");
    fs.mkdirSync(d);
    fs.writeFileSync(path.join(d, "train.bin"), bytes);
    const ds = await loadDataSpec(d);
    assert.equal(ds.numClasses, 100);
    assert.deepEqual([...ds.labels], [42, 99]);
    assert.equal((await loadDataSpec(`${d}?labels=coarse`)).numClasses, 20);
  });

  test("a truncated file names the file and the record count", () => {
    const bytes = new Uint8Array(3073 * 2 + 100);
    assert.throws(() => parseCifarBinary(bytes, "/x/data_batch_3.bin", { kind: "cifar10" }), /\/x\/data_batch_3\.bin: 6246 bytes is not a whole number of 3073-byte cifar10 records \(2 complete records \+ 100 bytes\)/);
  });

  test("an out-of-range label is refused", () => {
    const bytes = new Uint8Array(3073);
    bytes[0] = 10;
    assert.throws(() => parseCifarBinary(bytes, "f.bin", { kind: "cifar10" }), /f\.bin: record 0 has label 10, outside \[0, 10\)/);
  });

  test("the Python (pickle) version is refused with a clear message, never unpickled", async () => {
    const py = path.join(dir, "cifar-10-batches-py");
    fs.mkdirSync(py);
    fs.writeFileSync(path.join(py, "data_batch_1"), "\x80\x02}q\x00.");
    fs.writeFileSync(path.join(py, "test_batch"), "\x80\x02}q\x00.");
    await assert.rejects(loadDataSpec(py), /pickle.*never unpickles/);
    await assert.rejects(loadDataSpec(path.join(py, "data_batch_1")), /pickle.*never unpickles/);
    await assert.rejects(loadDataSpec(dir), /pickle.*never unpickles/); // parent holding cifar-10-batches-py
  });
});
