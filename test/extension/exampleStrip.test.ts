import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Jimp } from "jimp";
import { crc32, encodePng } from "../../src/extension/pngEncode";
import { amplifiedPerturbation, readExampleStrips } from "../../src/extension/exampleStrip";
import { examplesTensors } from "../../src/core/evaluate/examplesFile";
import { serializeSafetensors } from "../../src/core/io/safetensors";
import { isExampleStrip, isHostToWebviewMessage } from "../../src/protocol/webview";
import { defaultStripTarget, exampleCaption, orderedItems, stripSummary } from "../../webview/exampleSummary";

test("crc32 matches the standard check value", () => {
  assert.equal(crc32(new TextEncoder().encode("123456789")), 0xcbf43926);
});

test("encodePng round-trips through an independent decoder (jimp)", async () => {
  // 3×2 RGB: red, green, blue / black, white, grey.
  const rgb = [1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 1, 1, 0.5, 0.5, 0.5];
  const img = await Jimp.read(encodePng(rgb, 3, 2));
  assert.deepEqual([img.bitmap.width, img.bitmap.height], [3, 2]);
  const px = Array.from(img.bitmap.data);
  assert.deepEqual(px.slice(0, 12), [255, 0, 0, 255, 0, 255, 0, 255, 0, 0, 255, 255]);
  assert.deepEqual(px.slice(12, 24), [0, 0, 0, 255, 255, 255, 255, 255, 128, 128, 128, 255]);
  assert.throws(() => encodePng([1, 2], 3, 2), /2 values for 3×2×3/);
});

test("the perturbation is amplified so ±eps spans black to white", () => {
  const eps = 8 / 255;
  assert.deepEqual(Array.from(amplifiedPerturbation([0.5, 0.5, 0.5, 0.2], [0.5 + eps, 0.5 - eps, 0.5 + eps / 2, 0.2], eps)).map((v) => +v.toFixed(4)), [1, 0, 0.75, 0.5]);
});

function examplesBytes() {
  const clean = Float32Array.from({ length: 2 * 2 * 2 * 3 }, (_, i) => (i % 5) / 5);
  const adv = clean.map((v) => Math.min(1, v + 4 / 255));
  const { tensors, metadata } = examplesTensors({
      clean, labels: [1, 2], eps: "8/255", attacks: ["pgd-20", "cw-20"], step: 12,
      models: [
        { target: "pretrained", name: "pretrained", examples: { indices: [0, 1], height: 2, width: 2, adversarial: adv, cleanPred: [1, 0], advPred: [4, 0], brokenBy: ["pgd-20", "clean"] } },
        { target: "adaptive", name: "hyperat-adaptive", examples: { indices: [0, 1], height: 2, width: 2, adversarial: clean, cleanPred: [1, 2], advPred: [1, 2], brokenBy: [null, null] } },
      ],
  });
  return serializeSafetensors(tensors, metadata);
}

test("a run's examples.safetensors becomes one valid strip per model with decodable images", async () => {
  const dir = mkdtempSync(join(tmpdir(), "hyperat-examples-"));
  assert.equal(await readExampleStrips(dir), undefined, "no file yet: no strips, no error");
  writeFileSync(join(dir, "examples.safetensors"), examplesBytes());
  const strips = (await readExampleStrips(dir))!;
  assert.deepEqual(strips.map((s) => s.target), ["pretrained", "adaptive"]);
  assert.ok(strips.every(isExampleStrip));
  assert.ok(isHostToWebviewMessage({ type: "examples", strips }));
  const first = strips[0].items[0];
  assert.deepEqual([first.label, first.cleanPred, first.advPred, first.brokenBy], [1, 1, 4, "pgd-20"]);
  // The perturbation of +4/255 at eps 8/255 is 0.75 grey (where the clean pixel was not clipped).
  const pert = await Jimp.read(Buffer.from(first.perturbation.split(",")[1], "base64"));
  assert.deepEqual([pert.bitmap.width, pert.bitmap.height], [2, 2]);
  assert.equal(pert.bitmap.data[0], 191);
  // The robust model's adversarial image is the clean one.
  assert.equal(strips[1].items[0].adversarial, strips[1].items[0].clean);
  assert.equal(stripSummary(strips[0]), "2 images: 0 robust, 1 broken (pgd-20 1), 1 wrong without attack");
  assert.equal(stripSummary(strips[1]), "2 images: 2 robust, 0 broken");
  assert.equal(defaultStripTarget(strips), "adaptive");
  assert.deepEqual(exampleCaption(first), { labels: "true 1 · clean → 1 · adv → 4", verdict: "broken by pgd-20", kind: "broken" });
  assert.equal(isHostToWebviewMessage({ type: "examples", strips: [{ ...strips[0], items: [{ ...first, clean: "https://x/y.png" }] }] }), false, "only data: PNGs are accepted");
});

test("examples.safetensors that is not ours is an error naming the file", async () => {
  const dir = mkdtempSync(join(tmpdir(), "hyperat-examples-"));
  writeFileSync(join(dir, "examples.safetensors"), serializeSafetensors({ w: { shape: [1], data: new Float32Array([0]) } }, { format: "pt" }));
  await assert.rejects(readExampleStrips(dir), new RegExp(`${dir.replace(/[/.]/g, "\\$&")}/examples\\.safetensors: __metadata__\\.format is "pt"`));
});

test("the strip shows broken examples first, then robust ones, then those wrong without attack", () => {
  const item = (index: number, brokenBy: string | null) => ({ index, label: 0, cleanPred: 0, advPred: 0, brokenBy, clean: "", adversarial: "", perturbation: "" });
  const order = orderedItems([item(0, "clean"), item(1, null), item(2, "cw-20"), item(3, "clean"), item(4, "pgd-20"), item(5, null)]).map((i) => i.index);
  assert.deepEqual(order, [2, 4, 1, 5, 0, 3]);
});
