import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { completionNotice, crashNotice, pausedNotice, runTitle } from "../../src/extension/runNotices";

// Local times: the run's createdAt is built from local fields so the text is TZ-independent.
const now = new Date(2026, 11, 2, 15, 0, 0);
const createdAt = new Date(2026, 11, 2, 14, 2, 30).toISOString();
const best = { target: "uniform", split: "val" as const, attack: "pgd-10", step: 60, worstCaseRobustAccuracy: 0.412, cleanAccuracy: 0.7 };

describe("run notices", () => {
  test("a run is named by name and local start time", () => {
    assert.equal(runTitle({ name: "demo", createdAt }, now), "demo · 14:02");
    assert.equal(runTitle({ name: "demo", createdAt: new Date(2026, 10, 30, 9, 5).toISOString() }, now), "demo · 11-30 09:05");
  });

  test("completion: the best (val) and Merge / Evaluate / Open Dashboard", () => {
    const n = completionNotice({ name: "demo", createdAt, best, totalSteps: 60 }, [], now);
    assert.equal(n.text, "Run demo · 14:02 completed: best 41.2% (uniform, val pgd-10, step 60).");
    assert.deepEqual(n.buttons, ["Merge", "Evaluate", "Open Dashboard"]);
  });

  test("completion without a validation says so, and carries the first warning", () => {
    const n = completionNotice({ name: "demo", createdAt, totalSteps: 5 }, ["loss flat at 2.303 for 40 steps"], now);
    assert.equal(n.text, "Run demo · 14:02 completed: 5 steps, no validation recorded. ⚠ loss flat at 2.303 for 40 steps");
  });

  test("pause feedback names the step and offers Resume", () => {
    assert.deepEqual(pausedNotice({ name: "demo", createdAt }, 12, now), {
      text: "Paused demo · 14:02 at step 12; the checkpoint is written and Resume continues from it.",
      buttons: ["Resume"],
    });
  });

  test("crash: where each run stopped and which checkpoint it resumes from", () => {
    const r = { id: "r1", name: "demo", createdAt, lastStep: 15, checkpointStep: 10 };
    assert.deepEqual(crashNotice("signal SIGKILL", [r], true, now), {
      text: "HyperAT daemon exited (signal SIGKILL): demo · 14:02 interrupted at step 15, resumes from checkpoint 10.",
      buttons: ["Resume", "Show Logs"],
    });
    const two = crashNotice("code 3", [r, { ...r, id: "r2", name: "b", lastStep: 3, checkpointStep: 0 }], false, now);
    assert.equal(two.text, "HyperAT daemon exited (code 3) and is not restarted: 2 runs interrupted (demo · 14:02 interrupted at step 15, resumes from checkpoint 10; b · 14:02 interrupted at step 3, resumes from the start).");
    assert.deepEqual(two.buttons, ["Resume All", "Show Logs"]);
    assert.equal(crashNotice("code 1", [], true, now).text, "HyperAT daemon exited (code 1); no run was training.");
  });
});
