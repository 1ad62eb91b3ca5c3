import { test, describe, before, after } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { execFileSync } from "node:child_process";
import { Jimp } from "jimp";
import { readImageHeader, checkImageHeader, maxImagePixels, DEFAULT_MAX_IMAGE_PIXELS } from "../../../src/core/data/imageHeader";
import { loadDataSpec } from "../../../src/core/data/spec";
import { Batcher, toTensors } from "../../../src/core/data/batcher";
import { Dataset } from "../../../src/core/data/types";
import { pngHeaderOnly } from "./imageFixtures";

let dir: string;
before(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "hyperat-imghdr-"));
});
after(() => fs.rmSync(dir, { recursive: true, force: true }));

describe("image headers", () => {
  test("PNG and JPEG written by jimp: size read from IHDR / SOF without decoding", async () => {
    const img = new Jimp({ width: 7, height: 5, color: 0x336699ff });
    assert.deepEqual(readImageHeader(await img.getBuffer("image/png"), "a.png"), { format: "png", width: 7, height: 5 });
    assert.deepEqual(readImageHeader(await img.getBuffer("image/jpeg"), "a.jpg"), { format: "jpeg", width: 7, height: 5 });
  });

  test("a JPEG frame header after APPn segments and fill bytes is found (hand-built)", () => {
    // FFD8, APP1 (length 6: 4 payload bytes), fill byte FF, SOF2 (progressive): P=8, H=300, W=400.
    const b = Buffer.from([0xff, 0xd8, 0xff, 0xe1, 0x00, 0x06, 1, 2, 3, 4, 0xff, 0xff, 0xc2, 0x00, 0x0b, 0x08, 0x01, 0x2c, 0x01, 0x90, 0x03]);
    assert.deepEqual(readImageHeader(b, "p.jpg"), { format: "jpeg", width: 400, height: 300 });
  });

  const bad: Array<[string, Uint8Array, RegExp]> = [
    ["empty", new Uint8Array(0), /e: empty file/],
    ["text", Buffer.from("not an image"), /e: not a PNG or JPEG file \(unknown signature 6e 6f 74 20\)/],
    ["truncated PNG", pngHeaderOnly(4, 4).subarray(0, 20), /e: PNG is 20 bytes, too short for its IHDR/],
    ["PNG without IHDR first", Buffer.concat([pngHeaderOnly(4, 4).subarray(0, 12), Buffer.from("IDAT"), Buffer.alloc(17)]), /first chunk is "IDAT", not IHDR/],
    ["PNG 0x4", pngHeaderOnly(0, 4), /PNG header says 0x4 pixels/],
    ["JPEG without SOF", Buffer.from([0xff, 0xd8, 0xff, 0xda, 0x00, 0x02]), /JPEG has no frame header \(SOF\)/],
    ["JPEG with a bad segment length", Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x01, 0, 0]), /segment at byte 2 has length 1/],
  ];
  for (const [name, bytes, msg] of bad) test(`refuses ${name}`, () => assert.throws(() => readImageHeader(bytes, "e"), msg));

  test("the pixel limit: default 40 MP, env override, and the message names file, size and the knobs", () => {
    assert.equal(maxImagePixels({}), DEFAULT_MAX_IMAGE_PIXELS);
    assert.equal(maxImagePixels({ HYPERAT_MAX_IMAGE_PIXELS: "1000" }), 1000);
    assert.throws(() => maxImagePixels({ HYPERAT_MAX_IMAGE_PIXELS: "-3" }), /HYPERAT_MAX_IMAGE_PIXELS="-3" must be a positive integer/);
    assert.throws(
      () => checkImageHeader(pngHeaderOnly(20000, 20000), "/d/bomb.png", DEFAULT_MAX_IMAGE_PIXELS),
      /\/d\/bomb\.png: PNG is 20000x20000 = 400\.0 megapixels, over the limit of 40\.0 \(decoding it would take 1\.49 GiB\).*\?maxPixels=/,
    );
    assert.equal(checkImageHeader(pngHeaderOnly(6000, 6000), "ok.png", DEFAULT_MAX_IMAGE_PIXELS).width, 6000);
  });

  test("an image folder refuses a header-only 20000x20000 PNG before decoding, and a FIFO image", async () => {
    const root = path.join(dir, "bomb");
    fs.mkdirSync(path.join(root, "a"), { recursive: true });
    fs.mkdirSync(path.join(root, "b"), { recursive: true });
    await new Jimp({ width: 4, height: 4, color: 0xff0000ff }).write(path.join(root, "a", "ok.png") as `${string}.png`);
    fs.writeFileSync(path.join(root, "b", "bomb.png"), pngHeaderOnly(20000, 20000));
    const rss = process.memoryUsage().rss;
    await assert.rejects(loadDataSpec(root), /bomb\.png: PNG is 20000x20000/);
    assert.ok(process.memoryUsage().rss - rss < 500 * 2 ** 20, "refused before the decoder allocated");
    // A lower limit through the data spec refuses even the 4x4 image.
    await assert.rejects(loadDataSpec(`${root}?maxPixels=15`), /ok\.png: PNG is 4x4 = 0\.0 megapixels, over the limit/);
    fs.rmSync(path.join(root, "b", "bomb.png"));
    execFileSync("mkfifo", [path.join(root, "b", "pipe.png")]);
    await assert.rejects(loadDataSpec(root), /pipe\.png: expected a regular file \(image\), found a FIFO/);
  });

  test("a uint8 set gives float batches equal to the float32 set of value/255 (same seed, same augmentation)", () => {
    const bytes = Uint8Array.from({ length: 6 * 4 * 4 * 3 }, (_, i) => (i * 37) & 255);
    const base = { labels: Int32Array.from([0, 1, 2, 0, 1, 2]), n: 6, height: 4, width: 4, numClasses: 3, classNames: ["a", "b", "c"], source: "t" };
    const u8: Dataset = { ...base, images: bytes };
    const f32: Dataset = { ...base, images: Float32Array.from(bytes, (v) => v / 255) };
    const a = new Batcher(u8, { batchSize: 3, seed: 5, pad: 1 }).nextBatch();
    const b = new Batcher(f32, { batchSize: 3, seed: 5, pad: 1 }).nextBatch();
    assert.equal(a.x.dtype, "float32");
    assert.deepEqual(a.x.dataSync(), b.x.dataSync());
    const t = toTensors(u8, [5]);
    assert.ok(Math.abs(t.x.dataSync()[1] - bytes[5 * 48 + 1] / 255) < 1e-7);
    for (const x of [a, b, t]) {
      x.x.dispose();
      x.y.dispose();
    }
  });
});
