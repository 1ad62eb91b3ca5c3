import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { isHostToWebviewMessage, isWebviewToHostMessage } from "../../src/protocol/webview";
import type { RunDetail } from "../../src/protocol/runs";

const metric = { step: 3, totalSteps: 10, defense: "trades", loss: 1.2, cleanAcc: 0.5, advAcc: 0.25, lr: 1e-3, seconds: 0.4 };
const detail: RunDetail = {
  id: "r1", name: "demo", configPath: "/w/demo.hyperat.json", dir: "/w/.hyperat/runs/r1", state: "paused",
  step: 3, totalSteps: 10, method: "hyperat", defenses: ["pgd-at", "trades"], createdAt: "t", updatedAt: "t",
  config: {}, recentMetrics: [metric], loraNorms: [{ step: 2, layers: ["a", "b"], norms: { trades: [0.1, 0.2] } }],
  evaluations: [{ step: 3, target: "uniform", cleanAccuracy: 0.8, robustAccuracy: { "pgd-20": 0.4 }, worstCaseRobustAccuracy: 0.4 }],
  merges: [{ strategy: "adaptive", modelPath: "merged/model.safetensors", lambdas: { trades: [0.5] }, time: "t" }],
  sampledCounts: { trades: 3 }, artifacts: { checkpoints: [], adapters: [], merged: [], reports: [] },
};

describe("isHostToWebviewMessage", () => {
  test("accepts each well-formed message", () => {
    for (const m of [
      { type: "snapshot", detail },
      { type: "status", state: "running", step: 1, totalSteps: 2 },
      { type: "metrics", metric },
      { type: "loraNorms", snapshot: detail.loraNorms[0] },
      { type: "evaluation", record: detail.evaluations[0] },
      { type: "merge", merge: detail.merges[0] },
    ]) assert.equal(isHostToWebviewMessage(m), true, JSON.stringify(m).slice(0, 80));
  });
  test("rejects wrong types, unknown states, NaN and ragged norm rows", () => {
    for (const m of [
      null, "snapshot", { type: "nope" },
      { type: "status", state: "sleeping", step: 1, totalSteps: 2 },
      { type: "metrics", metric: { ...metric, loss: NaN } },
      { type: "metrics", metric: { ...metric, defense: 3 } },
      { type: "loraNorms", snapshot: { step: 1, layers: ["a", "b"], norms: { trades: [1] } } },
      { type: "merge", merge: { strategy: "median", modelPath: "x", time: "t" } },
      { type: "snapshot", detail: { ...detail, recentMetrics: [{}] } },
    ]) assert.equal(isHostToWebviewMessage(m), false, JSON.stringify(m));
  });
});

describe("isWebviewToHostMessage", () => {
  test("accepts ready and known actions, rejects the rest", () => {
    assert.equal(isWebviewToHostMessage({ type: "ready" }), true);
    assert.equal(isWebviewToHostMessage({ type: "action", action: "merge", strategy: "adaptive" }), true);
    assert.equal(isWebviewToHostMessage({ type: "action", action: "rm -rf" }), false);
    assert.equal(isWebviewToHostMessage({ type: "action", action: "merge", strategy: "best" }), false);
    assert.equal(isWebviewToHostMessage([]), false);
  });
});
