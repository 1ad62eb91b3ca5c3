import { test } from "node:test";
import assert from "node:assert/strict";
import type { StepMetric } from "../../src/protocol/runs";
import type { HistoryEvent } from "../../src/protocol/webview";
import { isHostToWebviewMessage } from "../../src/protocol/webview";
import { countSampled, foldHistory, mergeRecent } from "../../webview/history";
import { DECIMATION, lineDatasets, lineOptions } from "../../webview/chartOptions";

const m = (step: number, defense = "trades"): StepMetric => ({ step, totalSteps: 100, defense, loss: 1, cleanAcc: 0.5, advAcc: 0.2, lr: 1e-3, seconds: 0.1 });
const ev = (step: number, defense = "trades"): HistoryEvent => ({ kind: "step", ...m(step, defense) });

test("foldHistory appends in order; a resume or a step going back drops the superseded steps", () => {
  const steps: StepMetric[] = [];
  foldHistory(steps, [ev(1), ev(2), ev(3), ev(4), { kind: "resume", fromStep: 2 }]);
  assert.deepEqual(steps.map((s) => s.step), [1, 2]);
  foldHistory(steps, [ev(3, "mart"), ev(4), ev(5)]);
  foldHistory(steps, [ev(4, "pgd-at")]); // a live step after an unseen resume
  assert.deepEqual(steps.map((s) => [s.step, s.defense]), [[1, "trades"], [2, "trades"], [3, "mart"], [4, "pgd-at"]]);
  assert.ok(!("kind" in steps[0]));
  assert.deepEqual(countSampled(steps), { trades: 2, mart: 1, "pgd-at": 1 });
});

test("a snapshot's recent steps replace the history from their first step on, and leave it alone when empty", () => {
  const history = Array.from({ length: 1000 }, (_, i) => m(i + 1));
  const recent = Array.from({ length: 500 }, (_, i) => m(i + 600, "mart"));
  const merged = mergeRecent(history, recent);
  assert.equal(merged.length, 1099);
  assert.equal(merged[598].defense, "trades");
  assert.equal(merged[599].defense, "mart");
  assert.equal(mergeRecent(merged, []).length, 1099);
  assert.deepEqual(mergeRecent([], [m(1)]).map((s) => s.step), [1]);
});

test("history messages are validated: steps and resumes only", () => {
  assert.ok(isHostToWebviewMessage({ type: "history", first: true, done: false, events: [ev(1), { kind: "resume", fromStep: 0 }] }));
  assert.ok(!isHostToWebviewMessage({ type: "history", first: true, done: false, events: [{ kind: "step", step: 1 }] }));
  assert.ok(!isHostToWebviewMessage({ type: "history", first: "yes", done: false, events: [] }));
  assert.ok(isHostToWebviewMessage({ type: "progress", progress: null }));
  assert.ok(isHostToWebviewMessage({ type: "progress", progress: { title: "Evaluating", percentage: 40, cancellable: true } }));
  assert.ok(!isHostToWebviewMessage({ type: "progress", progress: { title: "Evaluating", percentage: "40" } }));
});

test("charts decimate with LTTB on a linear x axis without parsing, zoom/pan on x, log y drops non-positive points", () => {
  const theme = { fg: "#fff", grid: "#888", color: (i: number) => ["red", "blue"][i % 2] };
  const o = lineOptions(theme, { logY: true }) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
  assert.equal(o.parsing, false);
  assert.equal(o.scales.x.type, "linear");
  assert.equal(o.scales.y.type, "logarithmic");
  assert.deepEqual(o.plugins.decimation, { enabled: true, algorithm: "lttb", samples: DECIMATION.samples, threshold: DECIMATION.threshold });
  assert.equal(o.plugins.zoom.zoom.wheel.enabled, true);
  assert.equal(o.plugins.zoom.pan.mode, "x");
  const points = Array.from({ length: 100_000 }, (_, i) => ({ x: i, y: i % 3 }));
  const [ds] = lineDatasets([{ label: "loss", points }], theme, { logY: true });
  assert.equal(ds.data.length, 66_666, "zeros left out on a log axis");
  assert.equal(ds.indexAxis, "x");
  const [marker] = lineDatasets([{ label: "best", points: [{ x: 1, y: 0.5 }], marker: true, hideInLegend: true }], theme);
  assert.deepEqual([marker.showLine, marker.pointStyle, marker.hideInLegend], [false, "star", true]);
});
