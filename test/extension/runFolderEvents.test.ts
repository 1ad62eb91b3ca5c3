import { test } from "node:test";
import assert from "node:assert/strict";
import * as path from "node:path";
import { RUN_FILES_GLOB, RunFolderEvents, runFileOf } from "../../src/extension/runFolderEvents";

const runs = path.join(path.sep, "ws", ".hyperat", "runs");

test("only <runsDir>/<runId>/run.json, metrics.jsonl and annotations.json are run files", () => {
  assert.deepEqual(runFileOf(runs, path.join(runs, "r1", "run.json")), { runId: "r1", file: "run.json" });
  assert.deepEqual(runFileOf(runs, path.join(runs, "r1", "metrics.jsonl")), { runId: "r1", file: "metrics.jsonl" });
  assert.deepEqual(runFileOf(runs, path.join(runs, "r1", "annotations.json")), { runId: "r1", file: "annotations.json" });
  assert.equal(runFileOf(runs, path.join(runs, "r1", ".annotations.json.123.ab.tmp")), undefined, "the atomic write's temp file");
  assert.equal(runFileOf(runs, path.join(runs, "r1", "config.json")), undefined);
  assert.equal(RUN_FILES_GLOB, "*/{run.json,metrics.jsonl,annotations.json}");
  assert.equal(runFileOf(runs, path.join(runs, "r1", "checkpoints", "run.json")), undefined);
  assert.equal(runFileOf(runs, path.join(runs, "r1", "run.json.tmp")), undefined);
  assert.equal(runFileOf(runs, path.join(runs, ".locks", "run.json")), undefined);
  assert.equal(runFileOf(runs, path.join(path.sep, "elsewhere", "r1", "run.json")), undefined);
});

/** A throttle that coalesces until `flush()`, like throttle() does until its timer fires. */
function manual() {
  const pending = new Set<() => void>();
  const limit = (f: () => void) => {
    const t = Object.assign(() => void pending.add(f), { cancel: () => void pending.delete(f) });
    return t;
  };
  const flush = () => {
    for (const f of [...pending]) f();
    pending.clear();
  };
  return { limit, flush };
}

test("events for runs the daemon reports on are skipped; others are routed, coalesced per run and file", () => {
  const calls: string[] = [];
  const clock = manual();
  const events = new RunFolderEvents(runs, {
    daemonOwns: (id) => id === "daemon-run",
    runChanged: (id) => calls.push(`run:${id}`),
    metricsAppended: (id) => calls.push(`metrics:${id}`),
    annotationsChanged: (id) => calls.push(`annotations:${id}`),
  }, clock.limit);
  for (let i = 0; i < 5; i++) events.onFile(path.join(runs, "cli-run", "metrics.jsonl"));
  events.onFile(path.join(runs, "cli-run", "run.json"));
  events.onFile(path.join(runs, "daemon-run", "metrics.jsonl"));
  events.onFile(path.join(runs, "daemon-run", "run.json"));
  clock.flush();
  assert.deepEqual(calls.sort(), ["metrics:cli-run", "run:cli-run"]);
  events.onFile(path.join(runs, "cli-run", "metrics.jsonl"));
  events.dispose(); // a pending call is dropped
  clock.flush();
  assert.equal(calls.length, 2);
});

test("annotations.json changes pass for every run, daemon-owned too, and a removed one counts; other deletes do not", () => {
  const calls: string[] = [];
  const clock = manual();
  const events = new RunFolderEvents(runs, {
    daemonOwns: (id) => id === "daemon-run",
    runChanged: (id) => calls.push(`run:${id}`),
    metricsAppended: (id) => calls.push(`metrics:${id}`),
    annotationsChanged: (id) => calls.push(`annotations:${id}`),
  }, clock.limit);
  events.onFile(path.join(runs, "daemon-run", "annotations.json"));
  events.onFile(path.join(runs, "daemon-run", "annotations.json"));
  events.onFile(path.join(runs, "cli-run", "annotations.json"));
  clock.flush();
  assert.deepEqual(calls.sort(), ["annotations:cli-run", "annotations:daemon-run"]);
  calls.length = 0;
  events.onDeleted(path.join(runs, "cli-run", "annotations.json"));
  events.onDeleted(path.join(runs, "cli-run", "run.json"));
  events.onDeleted(path.join(runs, "cli-run", "metrics.jsonl"));
  clock.flush();
  assert.deepEqual(calls, ["annotations:cli-run"]);
  events.dispose();
});
