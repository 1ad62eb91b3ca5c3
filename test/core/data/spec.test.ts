import { test, describe, before, after } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { Jimp } from "jimp";
import { loadDataSpec, resolveDataSpec } from "../../../src/core/data/spec";
import { parseDataSpec, dataSpecPath } from "../../../src/core/data/specSyntax";
import { shapes10 } from "../../../src/core/data/synthetic";
import { writeCifarBinary } from "../../../src/core/data/cifar";
import { loadImageFolder } from "../../../src/core/data/imageFolder";

let dir: string;
before(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "hyperat-spec-"));
});
after(() => fs.rmSync(dir, { recursive: true, force: true }));

async function png(file: string, rgba: number, size = 4): Promise<void> {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  await new Jimp({ width: size, height: size, color: rgba }).write(file as `${string}.png`);
}

describe("data specs", () => {
  test("parses synthetic specs with parameters", async () => {
    assert.deepEqual(parseDataSpec("synthetic:shapes10?n=20&seed=3&offset=5"), { kind: "synthetic", target: "shapes10", params: { n: "20", seed: "3", offset: "5" } });
    const ds = await loadDataSpec("synthetic:shapes10?n=20&seed=3&offset=5");
    assert.deepEqual(ds.images, shapes10({ n: 20, seed: 3, offset: 5 }).images);
    assert.equal((await loadDataSpec("synthetic:shapes10?n=10", { split: "test" })).source, "synthetic:shapes10?n=10&seed=0 (test split)");
  });

  test("dataSpecPath / resolveDataSpec separate the path from the query", () => {
    assert.equal(dataSpecPath("synthetic:shapes10?n=5"), undefined);
    assert.equal(dataSpecPath("data/cifar?n=100"), "data/cifar");
    assert.equal(resolveDataSpec("data/cifar?n=100", "/w"), "/w/data/cifar?n=100");
    assert.equal(resolveDataSpec("/abs/x.bin", "/w"), "/abs/x.bin");
    assert.equal(resolveDataSpec("synthetic:shapes10", "/w"), "synthetic:shapes10");
  });

  const bad: Array<[string, RegExp]> = [
    ["synthetic:shapes10?n=abc", /data spec "synthetic:shapes10\?n=abc": n="abc" must be an integer >= 1/],
    ["synthetic:shapes10?n=0", /n="0" must be an integer >= 1/],
    ["synthetic:shapes10?colour=red", /unknown parameter "colour" \(known: n, seed, offset\)/],
    ["synthetic:mnist", /unknown synthetic dataset "mnist" \(known: shapes10\)/],
    ["synthetic:shapes10?n=1&n=2", /parameter "n" is given twice/],
    ["/no/such/dir", /data spec "\/no\/such\/dir": \/no\/such\/dir does not exist/],
    ["", /empty path/],
  ];
  for (const [spec, msg] of bad) {
    test(`error for "${spec}"`, async () => {
      await assert.rejects(loadDataSpec(spec), msg);
    });
  }

  test("a relative CIFAR path resolves against baseDir; ?n= keeps the first n", async () => {
    const d = path.join(dir, "cifar");
    await writeCifarBinary(path.join(d, "data_batch_1.bin"), shapes10({ n: 12, seed: 2 }));
    const all = await loadDataSpec("cifar", { baseDir: dir });
    assert.equal(all.n, 12);
    const first = await loadDataSpec("cifar/data_batch_1.bin?n=5", { baseDir: dir });
    assert.equal(first.n, 5);
    assert.deepEqual(first.labels, all.labels.subarray(0, 5));
    await assert.rejects(loadDataSpec("cifar", { baseDir: dir, split: "test" }), /no test files for cifar10 \(expected test_batch\.bin\)/);
  });

  test("an image folder with two tiny PNGs: classes sorted by name, pixels decoded", async () => {
    const root = path.join(dir, "imgs");
    await png(path.join(root, "zebra", "a.png"), 0xff0000ff); // red
    await png(path.join(root, "apple", "b.png"), 0x0000ffff); // blue
    fs.writeFileSync(path.join(root, "apple", "notes.txt"), "ignored");
    const ds = await loadDataSpec(`${root}?size=2`);
    assert.deepEqual(ds.classNames, ["apple", "zebra"]);
    assert.deepEqual([...ds.labels], [0, 1]);
    assert.equal(ds.height, 2);
    // Image folders stay uint8 (value·255) until a batch is formed.
    assert.ok(ds.images instanceof Uint8Array);
    assert.deepEqual([...ds.images.subarray(0, 3)], [0, 0, 255]);
    assert.deepEqual([...ds.images.subarray(12, 15)], [255, 0, 0]);
    const resized = await loadImageFolder(root); // default 32x32
    assert.equal(resized.images.length, 2 * 32 * 32 * 3);
  });

  test("an image folder with train/ and test/ picks the split", async () => {
    const root = path.join(dir, "splits");
    await png(path.join(root, "train", "cat", "1.png"), 0x00ff00ff);
    await png(path.join(root, "train", "dog", "1.png"), 0x00ff00ff);
    await png(path.join(root, "test", "cat", "1.png"), 0x00ff00ff);
    await png(path.join(root, "test", "dog", "1.png"), 0x00ff00ff);
    await png(path.join(root, "test", "dog", "2.png"), 0x00ff00ff);
    assert.equal((await loadDataSpec(root)).n, 2);
    assert.equal((await loadDataSpec(root, { split: "test" })).n, 3);
  });

  test("an empty folder and an undecodable image are named errors", async () => {
    const empty = path.join(dir, "empty");
    fs.mkdirSync(empty);
    await assert.rejects(loadDataSpec(empty), /empty: no class sub-directories/);
    const broken = path.join(dir, "broken");
    fs.mkdirSync(path.join(broken, "x"), { recursive: true });
    fs.writeFileSync(path.join(broken, "x", "bad.png"), "not a png");
    await assert.rejects(loadDataSpec(broken), /bad\.png: not a PNG or JPEG file/);
  });
});
