import { test } from "node:test";
import assert from "node:assert/strict";
import { RunPrinter } from "../../src/cli/runPrinter";
import { formatTable } from "../../src/cli/verbs/runs";
import type { ManagerEvent } from "../../src/daemon/runManager";

const metric = (step: number): ManagerEvent => ({
  type: "metrics", runId: "r", step, totalSteps: 3, defense: "mart", loss: 0.5, cleanAcc: 0.75, advAcc: 0.5, lr: 1e-3, seconds: 0.25,
});

test("plain output: one line per state change, throttled step lines, the last step always shown", () => {
  const lines: string[] = [];
  const p = new RunPrinter({ tty: false, plainEveryMs: 60_000, write: (l) => lines.push(l) });
  p.show({ type: "status", runId: "r", state: "running", step: 0, totalSteps: 3 });
  p.show(metric(1));
  p.show(metric(2)); // within the throttle window: dropped
  p.show({ type: "status", runId: "r", state: "running", step: 2, totalSteps: 3 }); // a checkpoint: same state
  p.show(metric(3));
  p.show({ type: "log", level: "debug", message: "noise" });
  p.show({ type: "log", level: "warn", message: "careful" });
  p.show({ type: "status", runId: "r", state: "paused", step: 3, totalSteps: 3, message: "loss is NaN" });
  assert.deepEqual(lines, [
    "run r: running at step 0/3",
    "step 1/3 mart loss 0.5000 clean 75% adv 50% (0.25 s)",
    "step 3/3 mart loss 0.5000 clean 75% adv 50% (0.25 s)",
    "[warn] careful",
    "run r: paused at step 3/3 (loss is NaN)",
  ]);
});

test("formatTable pads columns to the widest cell", () => {
  assert.equal(formatTable([["ID", "STATE"], ["run-long-id", "ok"]]), "ID           STATE\nrun-long-id  ok");
});
