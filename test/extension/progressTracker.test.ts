import { test } from "node:test";
import assert from "node:assert/strict";
import type { ProgressParams } from "../../src/protocol/methods";
import { ProgressTracker, progressText, type ProgressUi } from "../../src/extension/progressTracker";

interface FakeOpen {
  title: string;
  notification: boolean;
  onCancel?: () => void;
  reports: Array<[string | undefined, number | undefined]>;
  done: boolean;
}

function setup() {
  const opened: FakeOpen[] = [];
  const ui: ProgressUi = {
    open(o) {
      const f: FakeOpen = { ...o, reports: [], done: false };
      opened.push(f);
      return { report: (m, i) => f.reports.push([m, i]), done: () => (f.done = true) };
    },
  };
  const cancels: string[] = [];
  const changes: string[] = [];
  const tracker = new ProgressTracker(ui, (id) => cancels.push(id), (id) => changes.push(id));
  return { tracker, opened, cancels, changes };
}

const begin = (token: string, runId: string, operation: ProgressParams["operation"], title: string, cancellable = true): ProgressParams => ({
  token, runId, operation, value: { kind: "begin", title, cancellable },
});
const report = (token: string, percentage?: number, message?: string): ProgressParams => ({ token, value: { kind: "report", percentage, message } });
const end = (token: string): ProgressParams => ({ token, value: { kind: "end" } });

test("an awaited evaluation is a cancellable notification; percentages become increments; end closes it", () => {
  const { tracker, opened, cancels } = setup();
  const release = tracker.expect("r1", "evaluate");
  tracker.handle(begin("r1/evaluating/1", "r1", "evaluate", "Evaluating r1"));
  tracker.handle(report("r1/evaluating/1", 10, "pretrained pgd-20: 3 broken so far"));
  tracker.handle(report("r1/evaluating/1", 35));
  tracker.handle(report("r1/evaluating/1", 30)); // never backwards
  assert.equal(opened.length, 1);
  assert.equal(opened[0].notification, true);
  assert.deepEqual(opened[0].reports, [[undefined, undefined], ["pretrained pgd-20: 3 broken so far", 10], [undefined, 25], [undefined, 0]]);
  assert.deepEqual(tracker.current("r1"), { title: "Evaluating r1", message: "pretrained pgd-20: 3 broken so far", percentage: 35, operation: "evaluate", cancellable: true });
  opened[0].onCancel!();
  assert.deepEqual(cancels, ["r1"]);
  tracker.handle(end("r1/evaluating/1"));
  release();
  assert.equal(opened[0].done, true);
  assert.equal(tracker.current("r1"), undefined);
});

test("operations nobody waits on show quietly; preparation is not cancellable", () => {
  const { tracker, opened } = setup();
  tracker.handle(begin("r2/prepare/1", "r2", "prepare", "Preparing r2: pretraining", false));
  assert.equal(opened[0].notification, false);
  assert.equal(opened[0].onCancel, undefined);
  const release = tracker.expect("r2", "merge");
  release();
  release(); // idempotent
  tracker.handle(begin("r2/merging/2", "r2", "merge", "Merging r2 (uniform)"));
  assert.equal(opened[1].notification, false, "released before the begin: not awaited any more");
});

test("a begin while the run has an open operation is nested under it; the innermost is current", () => {
  const { tracker, opened, changes } = setup();
  tracker.handle(begin("a", "r3", "prepare", "Preparing r3", false));
  tracker.handle(begin("b", "r3", "evaluate", "Evaluating r3"));
  tracker.handle(begin("c", "other", "merge", "Merging other"));
  assert.deepEqual(opened.map((o) => o.title), ["Preparing r3", "Preparing r3 › Evaluating r3", "Merging other"]);
  assert.equal(tracker.current("r3")?.title, "Preparing r3 › Evaluating r3");
  tracker.handle(end("b"));
  assert.equal(tracker.current("r3")?.title, "Preparing r3");
  assert.ok(changes.includes("r3") && changes.includes("other"));
  tracker.clear();
  assert.ok(opened.every((o) => o.done));
  assert.equal(tracker.current("r3"), undefined);
});

test("reports and ends for unknown tokens are ignored; progressText formats a row", () => {
  const { tracker, opened } = setup();
  tracker.handle(report("nope", 50));
  tracker.handle(end("nope"));
  assert.equal(opened.length, 0);
  assert.equal(progressText({ title: "Merging r (adaptive)", percentage: 41.6, message: "λ step 4/10", cancellable: true }), "Merging r (adaptive) 42% · λ step 4/10");
  assert.equal(progressText({ title: "Preparing", cancellable: false }), "Preparing");
});
