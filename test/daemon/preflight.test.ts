// The up-front validation pass (src/daemon/preflight.ts): sizes counted from data indexes and
// model headers, checked against hand-computed values, and the bounds that depend on them.
import { test, describe, before, after } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { execFileSync } from "node:child_process";
import { validateConfig } from "../../src/core/config/validate";
import { ConfigError } from "../../src/core/config/configError";
import { serializeSafetensors } from "../../src/core/io/safetensors";
import { preflight } from "../../src/daemon/preflight";
import { dataFacts, SYNTHETIC_MAX_N } from "../../src/daemon/preflightData";
import { modelFactsFromHeader, readModelHeader } from "../../src/daemon/preflightModel";
import { tinyTimmModel, tinyTimmShapes } from "../fuzz/modelFixture";
import { tempWorkspace } from "./helpers";

/** A PNG's signature and IHDR chunk saying w×h (CRC not checked): what the pass reads of an image. */
function pngHeader(w: number, h: number): Buffer {
  const ihdr = Buffer.alloc(25);
  ihdr.writeUInt32BE(13, 0);
  ihdr.write("IHDR", 4, "latin1");
  ihdr.writeUInt32BE(w, 8);
  ihdr.writeUInt32BE(h, 12);
  ihdr[16] = 8; // bit depth
  ihdr[17] = 2; // RGB
  return Buffer.concat([Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]), ihdr]);
}
const PNG_32 = pngHeader(32, 32);

let dir: string;
before(() => {
  dir = tempWorkspace("hyperat-preflight-");
  const cifar = path.join(dir, "cifar-10-batches-bin");
  fs.mkdirSync(cifar);
  fs.writeFileSync(path.join(cifar, "data_batch_1.bin"), Buffer.alloc(3073 * 5));
  fs.writeFileSync(path.join(cifar, "data_batch_2.bin"), Buffer.alloc(3073 * 7));
  fs.writeFileSync(path.join(cifar, "test_batch.bin"), Buffer.alloc(3073 * 3));
  fs.writeFileSync(path.join(dir, "train.bin"), Buffer.alloc(3073 * 4)); // CIFAR-10 records under CIFAR-100's name
  for (const [split, cls, n] of [["train", "cat", 3], ["train", "dog", 2], ["test", "cat", 1], ["test", "dog", 1]] as const) {
    fs.mkdirSync(path.join(dir, "images", split, cls), { recursive: true });
    for (let i = 0; i < n; i++) fs.writeFileSync(path.join(dir, "images", split, cls, `${i}.png`), PNG_32);
  }
});
after(() => fs.rmSync(dir, { recursive: true, force: true }));

describe("data facts from the index only", () => {
  test("CIFAR folders count records from file sizes, per split", () => {
    const root = path.join(dir, "cifar-10-batches-bin");
    assert.deepEqual([dataFacts(root, "train").samples, dataFacts(root, "test").samples], [12, 3]);
    assert.equal(dataFacts(`${root}?offset=2&n=9`, "train").samples, 9);
    assert.equal(dataFacts(`${root}?n=100`, "train").samples, 12, "no offset: a larger n keeps the whole set, as the loader does");
    assert.throws(() => dataFacts(`${root}?offset=3&n=10`, "train"), /samples \[3, 13\) are outside/);
  });

  test("a CIFAR-100 file name holding CIFAR-10 records says how to read it", () => {
    assert.throws(() => dataFacts(path.join(dir, "train.bin"), "train"), /not a whole number of cifar100 records.*\?format=cifar10/);
    assert.equal(dataFacts(`${path.join(dir, "train.bin")}?format=cifar10`, "train").samples, 4);
  });

  test("an image that is a FIFO fails the pass, naming it; one past the files the loader reads does not", () => {
    const root = path.join(dir, "fifo-images");
    fs.mkdirSync(path.join(root, "cat"), { recursive: true });
    fs.writeFileSync(path.join(root, "cat", "a.png"), PNG_32);
    execFileSync("mkfifo", [path.join(root, "cat", "b.png")]);
    assert.throws(() => dataFacts(root, "train"), new RegExp(`${path.join(root, "cat", "b.png")} is a FIFO \\(named pipe\\); an image must be a regular file`));
    assert.equal(dataFacts(`${root}?n=1`, "train").samples, 1, "the loader reads only the first offset+n files");
  });

  test("an image whose header claims more than the pixel limit fails the pass, naming it; ?maxPixels= raises the limit", () => {
    const root = path.join(dir, "bomb-images");
    fs.mkdirSync(path.join(root, "cat"), { recursive: true });
    fs.writeFileSync(path.join(root, "cat", "a.png"), PNG_32);
    fs.writeFileSync(path.join(root, "cat", "b.png"), pngHeader(20000, 20000));
    fs.writeFileSync(path.join(root, "cat", "c.png"), "not an image");
    assert.throws(() => dataFacts(`${root}?n=2`, "train"), new RegExp(`${path.join(root, "cat", "b.png")}: PNG is 20000x20000 = 400\\.0 megapixels, over the limit of 40\\.0`));
    assert.equal(dataFacts(`${root}?n=2&maxPixels=400000000`, "train").samples, 2);
    assert.throws(() => dataFacts(`${root}?maxPixels=400000000`, "train"), /c\.png: not a PNG or JPEG file/);
  });

  test("image folders count files per split without decoding them", () => {
    const root = path.join(dir, "images");
    assert.deepEqual([dataFacts(root, "train").samples, dataFacts(root, "test").samples], [5, 2]);
    assert.equal(dataFacts(`${root}?offset=1`, "train").samples, 4);
    assert.throws(() => dataFacts(`${root}?size=5000`, "train"), /size=5000 is over the 4096-pixel limit/);
    // 5 images at 4096 px are 5·4096²·3 = 240 MiB, inside the limit; the bound is on the product.
    assert.equal(dataFacts(`${root}?size=4096`, "train").samples, 5);
    const many = path.join(dir, "many", "cls");
    fs.mkdirSync(many, { recursive: true });
    for (let i = 0; i < 86; i++) fs.writeFileSync(path.join(many, `${i}.png`), PNG_32);
    // 86·4096²·3 bytes = 4.03 GiB > 4 GiB; 85 images (3.98 GiB) fit.
    assert.throws(() => dataFacts(`${path.dirname(many)}?size=4096`, "train"), /86 images at size=4096 need 4\.0 GiB as uint8, over the 4 GiB limit; lower n= or size=/);
    assert.equal(dataFacts(`${path.dirname(many)}?size=4096&n=85`, "train").samples, 85);
  });

  test("a CIFAR file over the reader's size limit is refused from its size", () => {
    const big = path.join(dir, "big", "test_batch.bin");
    fs.mkdirSync(path.dirname(big));
    fs.writeFileSync(big, "");
    fs.truncateSync(big, 3073 * 400_000); // sparse: 1.2 GB claimed, nothing written
    assert.throws(() => dataFacts(big, "test"), /over the 1073741824-byte limit/);
  });

  test("synthetic sets are bounded so n=1e9 fails with the limit, not a typed-array error", () => {
    assert.equal(dataFacts("synthetic:shapes10?n=64&seed=1", "train").samples, 64);
    assert.equal(dataFacts("synthetic:shapes10", "test").samples, 1000, "the test split's default n");
    assert.equal(dataFacts(`synthetic:shapes10?n=${SYNTHETIC_MAX_N}`, "train").samples, SYNTHETIC_MAX_N);
    assert.throws(() => dataFacts(`synthetic:shapes10?n=${SYNTHETIC_MAX_N}&offset=1`, "train"), /limit of 250000/);
  });
});

describe("model facts from the safetensors header", () => {
  test("timm names: widths, depth and parameter count without reading weights", async () => {
    const c = { dim: 16, depth: 3, mlpDim: 40, patch: 4, grid: 8, classes: 10 };
    const file = path.join(dir, "tiny.safetensors");
    fs.writeFileSync(file, tinyTimmModel(c));
    const facts = modelFactsFromHeader((await readModelHeader(file)).tensors, file);
    const params = Object.values(tinyTimmShapes(c)).reduce((a, s) => a + s.reduce((x, y) => x * y, 1), 0);
    assert.deepEqual(facts, { dim: 16, mlpDim: 40, depth: 3, patchSize: 4, parameters: params, tensors: 8 + 12 * 3 });
  });

  test("Hugging Face names are read too", () => {
    const t = { "vit.embeddings.patch_embeddings.projection.weight": { shape: [32, 3, 16, 16] }, "vit.encoder.layer.0.intermediate.dense.weight": { shape: [128, 32] }, "vit.encoder.layer.1.output.dense.weight": { shape: [32, 128] } };
    assert.deepEqual(modelFactsFromHeader(t, "hf.safetensors"), { dim: 32, mlpDim: 128, depth: 2, patchSize: 16, parameters: 32 * 3 * 256 + 2 * 128 * 32, tensors: 3 });
  });

  test("a header past the end of the file, or no patch embedding, is refused naming the file", async () => {
    const file = path.join(dir, "torn.safetensors");
    const whole = serializeSafetensors({ w: { shape: [2], data: new Float32Array(2) } });
    fs.writeFileSync(file, whole.subarray(0, 12));
    await assert.rejects(readModelHeader(file), /torn\.safetensors: header length \d+ runs past the end of the file \(12 bytes\)/);
    assert.throws(() => modelFactsFromHeader({ w: { shape: [2] } }, "x.safetensors"), /x\.safetensors: no patch embedding tensor/);
  });
});

describe("bounds that depend on the model", () => {
  const cfgWith = (over: Record<string, unknown>) =>
    validateConfig({ data: { train: "synthetic:shapes10?n=40", val: "synthetic:shapes10?n=8&seed=2", test: "synthetic:shapes10?n=8&seed=3" }, training: { validationAttack: "pgd-2" }, evaluation: { attacks: "quick" }, ...over }, "c.hyperat.json");

  test("LoRA rank is bounded by min(d_in, d_out) of the targeted layers", async () => {
    // A model file whose MLP (24) is narrower than its width (32): fc1/fc2 bound the rank at 24.
    const file = path.join(dir, "narrow.safetensors");
    fs.writeFileSync(file, tinyTimmModel({ dim: 32, depth: 1, mlpDim: 24, patch: 4, grid: 8, classes: 10 }));
    await assert.doesNotReject(preflight(cfgWith({ model: { path: file }, lora: { targets: ["qkv", "proj"], rank: 32 } }), "c.hyperat.json"));
    await assert.rejects(preflight(cfgWith({ model: { path: file }, lora: { targets: ["qkv", "fc2"], rank: 25 } }), "c.hyperat.json"), (e: ConfigError) => e.jsonPath === "/lora/rank" && /min\(d_in, d_out\) = 24.*fc2: 24→32/.test(e.message) && e.message.startsWith("c.hyperat.json: "));
    await assert.doesNotReject(preflight(cfgWith({ method: "full-at", model: { path: file }, lora: { rank: 1000 } }), "c.hyperat.json"), "full-at has no adapters");
  });

  test("facts: held-out validation leaves the rest to train on, epochs from the remaining set", async () => {
    const facts = await preflight(cfgWith({ data: { train: "synthetic:shapes10?n=40", val: { from: "train", n: 8 }, test: "synthetic:shapes10?n=8&seed=3" }, training: { steps: 6, batchSize: 16, validationAttack: "fgsm" } }), "c.hyperat.json");
    assert.equal(facts.data.train.samples, 32);
    assert.equal(facts.data.val.samples, 8);
    assert.equal(facts.steps.epochs, (6 * 16) / 32);
    assert.deepEqual(facts.attacks.validation, ["fgsm"]);
    assert.deepEqual(facts.attacks.evaluation, ["pgd-20", "cw-20"]);
  });

  test("evaluation.attacks 'auto' is checked as the suite it resolves to", async () => {
    const facts = await preflight(cfgWith({ evaluation: { attacks: "auto", n: 1000 } }), "c.hyperat.json");
    assert.equal(facts.attacks.evaluationSuite, "standard");
    assert.deepEqual(facts.attacks.evaluation, ["apgd-ce", "apgd-t", "fab-t", "square"]);
  });

  test("a pretraining cache under a file, or in /proc, is refused before anything is created", async () => {
    const blocker = path.join(dir, "a-file");
    fs.writeFileSync(blocker, "");
    await assert.rejects(preflight(cfgWith({ model: { pretrain: { steps: 1, cacheDir: path.join(blocker, "cache") } } }), "c.hyperat.json"), (e: ConfigError) => e.jsonPath === "/model/pretrain/cacheDir" && /is not a directory/.test(e.message));
    await assert.rejects(preflight(cfgWith({ model: { pretrain: { steps: 1, cacheDir: "/proc/x" } } }), "c.hyperat.json"), /kernel file system/);
    assert.equal(fs.existsSync(path.join(dir, "cache")), false);
  });
});
