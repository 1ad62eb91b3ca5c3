import { test, before } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { selectTestBackend } from "../../../src/core/backend/select";
import { validateConfig } from "../../../src/core/model/config";
import { initParams, disposeParams } from "../../../src/core/model/params";
import { shapes10 } from "../../../src/core/data/synthetic";
import { subset } from "../../../src/core/data/types";
import { evaluateJobs, paramsToJob } from "../../../src/daemon/engine/evalPool";
import type { EvalJob } from "../../../src/daemon/engine/evalJob";
import { EvaluationCancelledError } from "../../../src/core/evaluate/evaluator";

const vit = validateConfig({ imgSize: 32, patchSize: 16, inChans: 3, numClasses: 10, dim: 8, depth: 1, heads: 2, mlpDim: 16, mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5] });

before(async () => {
  await selectTestBackend();
});

test("models evaluated in worker threads give exactly the in-thread results, in job order", async () => {
  const data = subset(shapes10({ n: 12, seed: 5, split: "test" }), Array.from({ length: 12 }, (_, i) => i));
  const jobs: Array<() => Promise<EvalJob>> = [1, 2, 3].map((seed) => async () => {
    const params = initParams(vit, seed);
    // A non-zero head so the models differ and predictions are not all class 0.
    params["head.weight"].dispose();
    params["head.weight"] = tf.randomNormal([vit.dim, vit.numClasses], 0, 1, "float32", seed);
    try {
      return { vit, params: await paramsToJob(params), attacks: ["pgd-2", "cw-2"], eps: "8/255", seed: 0, batchSize: 5, n: 12, examples: 6 };
    } finally {
      disposeParams(params);
    }
  });
  const seen: number[] = [];
  const here = await evaluateJobs(jobs, data, { workers: 1, backend: "cpu", onProgress: () => {} });
  const threads = await evaluateJobs(jobs, data, { workers: 2, backend: "cpu", onProgress: (i) => seen.push(i) });
  assert.equal(threads.length, 3);
  for (let i = 0; i < 3; i++) {
    assert.equal(threads[i].cleanAccuracy, here[i].cleanAccuracy, `job ${i} clean`);
    assert.deepEqual(threads[i].robustAccuracy, here[i].robustAccuracy, `job ${i} robust`);
    assert.equal(threads[i].worstCaseRobustAccuracy, here[i].worstCaseRobustAccuracy);
    assert.equal(threads[i].n, 12);
    // The kept adversarial images cross the thread boundary intact (examples.safetensors).
    assert.deepEqual(threads[i].examples, here[i].examples, `job ${i} examples`);
    assert.equal(threads[i].examples!.adversarial.length, 6 * 32 * 32 * 3);
  }
  assert.ok(new Set(seen).size >= 2, "progress arrives from the jobs of both workers");
});

test("a failing job rejects with the worker's message and leaves no worker behind", async () => {
  const data = subset(shapes10({ n: 4, seed: 5, split: "test" }), [0, 1, 2, 3]);
  const bad = async (): Promise<EvalJob> => ({ vit, params: {}, attacks: ["pgd-2"], eps: "8/255", seed: 0, batchSize: 4, n: 4 });
  await assert.rejects(evaluateJobs([bad, bad], data, { workers: 2, backend: "cpu", onProgress: () => {} }), /evaluation worker:/);
});

/** A model long enough to be stopped mid-way: PGD-20 on 48 images, one per batch. */
async function longJob(): Promise<EvalJob> {
  const params = initParams(vit, 1);
  try {
    return { vit, params: await paramsToJob(params), attacks: ["pgd-20"], eps: "8/255", seed: 0, batchSize: 1, n: 48 };
  } finally {
    disposeParams(params);
  }
}

test("a cancel reaches the workers mid-model: the pool rejects with the attack it stopped in, once", async () => {
  const data = subset(shapes10({ n: 48, seed: 5, split: "test" }), Array.from({ length: 48 }, (_, i) => i));
  const job = longJob;
  // Aborted as soon as the first PGD batch of either model reports (the clean pass reports
  // first): both models are still running.
  let aborted = false;
  const signal = { get aborted() { return aborted; } };
  const done: number[] = [];
  await assert.rejects(
    evaluateJobs([job, job], data, { workers: 2, backend: "cpu", signal, onProgress: (_i, p) => { if (p.attack === "pgd-20") { aborted = true; done.push(p.done); } } }),
    // Each model stops in its own pass: the other may still be in its clean pass.
    (e: unknown) => e instanceof EvaluationCancelledError && /^evaluation cancelled during (clean|pgd-20)$/.test((e as Error).message),
  );
  assert.ok(Math.max(...done) < 48, `stopped before the end of the model (progress ${Math.max(...done)} of 48)`);
});

test("one worker's failure stops the other at its next batch, and the pool reports the failure, not the cancel it caused", async () => {
  const data = subset(shapes10({ n: 48, seed: 5, split: "test" }), Array.from({ length: 48 }, (_, i) => i));
  const long = longJob;
  const bad = async (): Promise<EvalJob> => ({ vit, params: {}, attacks: ["pgd-2"], eps: "8/255", seed: 0, batchSize: 4, n: 4 });
  const done: number[] = [];
  await assert.rejects(
    evaluateJobs([long, bad], data, { workers: 2, backend: "cpu", onProgress: (i, p) => { if (i === 0 && p.attack === "pgd-20") done.push(p.done); } }),
    (e: unknown) => !(e instanceof EvaluationCancelledError) && /^evaluation worker:/.test((e as Error).message),
  );
  assert.ok(done.length === 0 || Math.max(...done) < 48, `the long model stopped early (progress ${Math.max(...done)} of 48)`);
});
