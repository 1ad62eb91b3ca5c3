// Flat-loss and base-model flags for runs read from disk (CLI runs, runs after a reload), judged
// by the same RunWatch the daemon's stream feeds, on constructed metrics.jsonl series.
import { test, describe, beforeEach, afterEach } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { RunWatch } from "../../src/extension/runWatch";
import { DiskRunWatch, warningsReader } from "../../src/extension/diskRunWatch";
import type { RunDetail, RunSummary } from "../../src/protocol/runs";

let root: string;
beforeEach(() => (root = fs.mkdtempSync(path.join(os.tmpdir(), "hyperat-diskwatch-"))));
afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

const time = "2026-12-02T10:00:00.000Z";
const step = (s: number, loss: number) => ({ kind: "step", time, step: s, totalSteps: 100, defense: "pgd-at", loss, cleanAcc: 0.1, advAcc: 0.1, lr: 1e-3, seconds: 0.1 });

function run(id: string, lines: object[] = []): { id: string; dir: string } {
  const dir = path.join(root, id);
  fs.mkdirSync(dir, { recursive: true });
  if (lines.length) append({ dir }, lines);
  return { id, dir };
}
function append(r: { dir: string }, lines: object[]): void {
  fs.appendFileSync(path.join(r.dir, "metrics.jsonl"), lines.map((l) => JSON.stringify(l) + "\n").join(""));
}
const flat = (from: number, to: number, loss = 2.3026) => Array.from({ length: to - from + 1 }, (_, i) => step(from + i, loss));
const falling = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => step(from + i, 2.3 * Math.exp(-(from + i) / 10)));

describe("DiskRunWatch", () => {
  test("a CLI run's flat loss is flagged from metrics.jsonl, and the flag comes as lines are appended", async () => {
    const w = new RunWatch();
    const disk = new DiskRunWatch(w);
    const r = run("cli", flat(1, 15));
    await disk.sync(r);
    assert.deepEqual(w.warnings("cli"), [], "15 steps are too few to judge");
    append(r, flat(16, 40));
    await disk.sync(r);
    assert.deepEqual(w.warnings("cli"), ["loss flat at 2.303 for 40 steps"]);
    // A run whose loss falls is not flagged.
    const ok = run("ok", falling(1, 40));
    await disk.sync(ok);
    assert.deepEqual(w.warnings("ok"), []);
  });

  test("a resume line drops the lost attempt, as summarizeMetrics does; the base model line is read too", async () => {
    const w = new RunWatch();
    const disk = new DiskRunWatch(w);
    // Steps 1..10 moved, the crashed attempt 11..40 was flat; resumed from 10 and moving again.
    const r = run("resumed", [
      { kind: "baseModel", time, source: "pretrain cache", cleanAccuracy: 0.156, n: 64, numClasses: 10, nearChance: true, hint: "raise model.pretrain.steps" },
      ...falling(1, 10),
      ...flat(11, 40, 0.8),
    ]);
    await disk.sync(r);
    assert.deepEqual(w.warnings("resumed"), ["base model 15.6% clean (chance 10%): raise model.pretrain.steps"]);
    append(r, [{ kind: "resume", time, fromStep: 10 }, ...falling(11, 30)]);
    await disk.sync(r);
    assert.deepEqual(w.warnings("resumed"), ["base model 15.6% clean (chance 10%): raise model.pretrain.steps"]);
    // The same lines in a run without the resume line: the flat tail counts (the check compares
    // the first 5 steps with the last 5).
    const w2 = new RunWatch();
    await new DiskRunWatch(w2).sync(run("noresume", [...flat(1, 10, 0.8), ...flat(11, 40, 0.8)]));
    assert.deepEqual(w2.warnings("noresume"), ["loss flat at 0.800 for 40 steps"]);
  });

  test("a replaced file starts over; torn and foreign lines are skipped; a missing file is no warning", async () => {
    const w = new RunWatch();
    const disk = new DiskRunWatch(w);
    const r = run("replaced", flat(1, 40));
    await disk.sync(r);
    assert.equal(w.warnings("replaced").length, 1);
    fs.writeFileSync(path.join(r.dir, "metrics.jsonl"), falling(1, 30).map((l) => JSON.stringify(l) + "\n").join("") + "{torn");
    await disk.sync(r);
    assert.deepEqual(w.warnings("replaced"), []);
    const none = { id: "empty", dir: path.join(root, "empty") };
    await disk.sync(none);
    assert.deepEqual(w.warnings("empty"), []);
  });

  test("a streamed run is read once (after a reload the daemon streams only what comes next), then left to the stream", async () => {
    const w = new RunWatch();
    const disk = new DiskRunWatch(w);
    const r = run("streamed", flat(1, 18));
    const streamed = () => true;
    await disk.syncRuns([r], streamed);
    // The daemon streams on; the file grows too, but is not read again while the daemon streams it.
    for (let s = 19; s <= 30; s++) w.metric("streamed", s, 2.3026);
    append(r, [...flat(19, 30), ...falling(31, 60)]);
    await disk.syncRuns([r], streamed);
    assert.deepEqual(w.warnings("streamed"), ["loss flat at 2.303 for 30 steps"], "steps 1..18 came from disk, 19..30 from the stream");
    // The daemon went away: the file is followed again from where it was left, and replayed
    // steps replace the streamed ones.
    await disk.syncRuns([r], () => false);
    assert.deepEqual(w.warnings("streamed"), []);
  });

  test("concurrent syncs of one run read each line once; a run no longer listed is forgotten", async () => {
    const w = new RunWatch();
    const disk = new DiskRunWatch(w);
    const r = run("busy", flat(1, 40));
    await Promise.all([disk.sync(r), disk.sync(r), disk.syncRuns([r], () => false)]);
    assert.deepEqual(w.warnings("busy"), ["loss flat at 2.303 for 40 steps"]);
    await disk.syncRuns([], () => false);
    assert.equal(disk.hasRead("busy"), false);
    assert.deepEqual(w.warnings("busy"), []);
  });

  test("a read error is reported with the run id and does not reject", async () => {
    const errors: string[] = [];
    const disk = new DiskRunWatch(new RunWatch(), (id, e) => errors.push(`${id}: ${e.message}`));
    const r = run("dir-not-file");
    fs.mkdirSync(path.join(r.dir, "metrics.jsonl"));
    await disk.sync(r);
    assert.equal(errors.length, 1);
    assert.match(errors[0], /^dir-not-file: EISDIR/);
  });
});

describe("warningsReader", () => {
  test("listing runs brings their disk warnings up to date before the rows are built", async () => {
    const w = new RunWatch();
    const disk = new DiskRunWatch(w);
    const r = run("listed", flat(1, 40));
    const summary = { ...r, name: "listed", state: "running" } as RunSummary;
    const reader = warningsReader({ listRuns: async () => [summary], readRun: async () => ({ id: "listed" }) as RunDetail }, disk, () => false);
    assert.deepEqual(w.warnings("listed"), []);
    assert.deepEqual(await reader.listRuns(), [summary]);
    assert.deepEqual(w.warnings("listed"), ["loss flat at 2.303 for 40 steps"]);
    assert.equal((await reader.readRun("listed"))?.id, "listed");
  });
});
