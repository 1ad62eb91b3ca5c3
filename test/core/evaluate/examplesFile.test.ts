import { test } from "node:test";
import assert from "node:assert/strict";
import { examplesTensors, examplesToKeep, parseExamples, EXAMPLES_FORMAT, type ExamplesInput } from "../../../src/core/evaluate/examplesFile";
import { parseSafetensors, readSafetensorsHeader, serializeSafetensors } from "../../../src/core/io/safetensors";

/** Two 1×2 images; model "adaptive" brightens the first, leaves the second. */
function input(): ExamplesInput {
  const clean = Float32Array.from([0, 0.5, 1, 0.2, 0.2, 0.2, 0.1, 0.1, 0.1, 0.9, 0.9, 0.9]);
  const adv = clean.map((v, i) => (i < 6 ? v + 8 / 255 : v));
  return {
    clean,
    labels: [3, 7],
    eps: "8/255",
    attacks: ["apgd-ce", "apgd-t"],
    step: 40,
    models: [
      { target: "adaptive", name: "hyperat-adaptive", examples: { indices: [0, 1], height: 1, width: 2, adversarial: adv, cleanPred: [3, 1], advPred: [5, 1], brokenBy: ["apgd-ce", "clean"] } },
      { target: "pretrained", name: "pretrained", examples: { indices: [0, 1], height: 1, width: 2, adversarial: clean.slice(), cleanPred: [3, 7], advPred: [3, 7], brokenBy: [null, null] } },
    ],
  };
}

test("examples.safetensors: U8 images and I32 labels in a real safetensors header, round trip", () => {
  const { tensors, metadata } = examplesTensors(input());
  const bytes = serializeSafetensors(tensors, metadata);
  const header = readSafetensorsHeader(bytes, "x");
  assert.deepEqual(header.tensors.clean, { dtype: "U8", shape: [2, 1, 2, 3] });
  assert.deepEqual(header.tensors.labels, { dtype: "I32", shape: [2] });
  assert.deepEqual(header.tensors["adaptive.adv_pred"], { dtype: "I32", shape: [2] });
  assert.equal(header.metadata.format, EXAMPLES_FORMAT);
  // 12 U8 values per image tensor × 3; 2 I32 values × 6 vectors (labels, indices, 2 per model).
  const headerLen = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
  assert.equal(bytes.length - 8 - headerLen, 3 * 12 + 6 * 2 * 4);

  const doc = parseExamples(parseSafetensors(bytes, "x"), "x");
  assert.equal(doc.k, 2);
  assert.deepEqual([doc.height, doc.width], [1, 2]);
  assert.deepEqual(doc.labels, [3, 7]);
  assert.deepEqual(doc.indices, [0, 1]);
  assert.deepEqual(doc.attacks, ["apgd-ce", "apgd-t"]);
  assert.equal(doc.step, 40);
  assert.deepEqual(doc.models.map((m) => [m.target, m.name]), [["adaptive", "hyperat-adaptive"], ["pretrained", "pretrained"]]);
  assert.deepEqual(doc.models[0].brokenBy, ["apgd-ce", "clean"]);
  assert.deepEqual(doc.models[0].advPred, [5, 1]);
  // U8: within half a level of the written values; 1.0 + 8/255 is clipped to 1.
  const orig = input();
  orig.clean.forEach((v, i) => assert.ok(Math.abs(doc.clean[i] - v) <= 0.5 / 255 + 1e-7, `clean[${i}]`));
  assert.equal(doc.models[0].adversarial[2], 1);
  assert.ok(Math.abs(doc.models[0].adversarial[1] - (0.5 + 8 / 255)) <= 0.5 / 255 + 1e-7);
});

test("examples.safetensors: all-F32 files keep name order (unchanged layout for checkpoints)", () => {
  const bytes = serializeSafetensors({ b: { shape: [1], data: new Float32Array([2]) }, a: { shape: [1], data: new Float32Array([1]) } });
  const json = new TextDecoder().decode(bytes.subarray(8, 8 + Number(new DataView(bytes.buffer).getBigUint64(0, true))));
  assert.deepEqual(JSON.parse(json), { a: { dtype: "F32", shape: [1], data_offsets: [0, 4] }, b: { dtype: "F32", shape: [1], data_offsets: [4, 8] } });
});

test("examples.safetensors: bad files are refused naming the file and the tensor", () => {
  const { tensors, metadata } = examplesTensors(input());
  const without = { ...tensors };
  delete without["pretrained.adv_pred"];
  assert.throws(() => parseExamples(parseSafetensors(serializeSafetensors(without, metadata), "f"), "run/examples.safetensors"), /run\/examples\.safetensors: tensor "pretrained\.adv_pred" is missing/);
  assert.throws(() => parseExamples(parseSafetensors(serializeSafetensors(tensors, { ...metadata, format: "pt" }), "f"), "e"), /e: __metadata__\.format is "pt"/);
  assert.throws(() => parseExamples(parseSafetensors(serializeSafetensors(tensors, { ...metadata, models: "[" }), "f"), "e"), /__metadata__\.models is not JSON/);
  const bad = input();
  bad.models[1].examples.indices = [0];
  assert.throws(() => examplesTensors(bad), /model pretrained kept 1 examples/);
});

test("how many examples are kept: 24 for small images, fewer within 8 MiB for large ones, at least 1", () => {
  assert.equal(examplesToKeep(32, 32, 6, 10_000), 24);
  assert.equal(examplesToKeep(32, 32, 6, 16), 16, "never more than evaluated");
  // 224×224×3 bytes × 7 images (clean + 6 models) per example: 8 MiB holds 7.
  assert.equal(examplesToKeep(224, 224, 6, 10_000), 7);
  assert.equal(examplesToKeep(2048, 2048, 6, 10_000), 1);
});
