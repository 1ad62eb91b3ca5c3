import { test, before } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { selectTestBackend } from "../../../src/core/backend/select";
import { assertFinite } from "../../../src/daemon/engine/mergeRun";

before(async () => {
  await selectTestBackend();
});

test("assertFinite names the defense and the module whose ΔW is not finite", async () => {
  const ok = tf.ones([2, 2]);
  const bad = tf.tensor2d([[1, NaN], [0, 1]]);
  await assert.doesNotReject(() => assertFinite({ "blocks.0.attn.qkv": ok }, 'defense "trades": ΔW'));
  await assert.rejects(() => assertFinite({ "blocks.0.attn.qkv": ok, "blocks.1.mlp.fc1": bad }, 'defense "mart": ΔW'), /defense "mart": ΔW "blocks\.1\.mlp\.fc1" is not finite/);
  const inf = tf.tensor1d([Infinity]);
  await assert.rejects(() => assertFinite({ x: inf }, "uniform merge: merged weight"), /uniform merge: merged weight "x" is not finite/);
  tf.dispose([ok, bad, inf]);
});
