// Integration: the real daemon process over stdio, driven the way the extension drives it.
import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { ResponseError } from "vscode-jsonrpc/node";
import * as rpc from "../../src/protocol/methods";
import { ErrorCodes } from "../../src/protocol/errors";
import type { RunState } from "../../src/protocol/runs";
import { readManifest } from "../../src/daemon/runStore";
import { parseSafetensors } from "../../src/core/io/safetensors";
import { tempWorkspace, writeConfig } from "./helpers";
import { fakeLosses } from "./fakeEngine";
import { killDaemon, spawnDaemon, type DaemonProcess, type Notification } from "./daemonProcess";

const daemons: DaemonProcess[] = [];
after(() => daemons.forEach(killDaemon));

function start(ws: string, args: string[] = []): DaemonProcess {
  const d = spawnDaemon(ws, args);
  daemons.push(d);
  return d;
}

const status = (runId: string, state: RunState) => (n: Notification) =>
  n.method === "hyperat/run.status" && n.params.runId === runId && n.params.state === state;
const metric = (runId: string, minStep: number) => (n: Notification) =>
  n.method === "hyperat/run.metrics" && n.params.runId === runId && (n.params.step as number) >= minStep;

async function rpcError(p: Promise<unknown>): Promise<ResponseError<Record<string, unknown>>> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof ResponseError, `expected a JSON-RPC error, got ${String(e)}`);
    return e as ResponseError<Record<string, unknown>>;
  }
  assert.fail("expected the request to fail");
}

/** Every file a run folder holds parses: run.json, config.json, metrics.jsonl (except a torn
 * last line, unless `allowTempFiles` is false: then every line, the last included, must parse),
 * checkpoint JSON and every safetensors file. */
async function assertRunFolderParses(dir: string, allowTempFiles = false): Promise<void> {
  await readManifest(dir);
  JSON.parse(fs.readFileSync(path.join(dir, "config.json"), "utf8"));
  const text = fs.readFileSync(path.join(dir, "metrics.jsonl"), "utf8");
  if (!allowTempFiles) assert.ok(text === "" || text.endsWith("\n"), "metrics.jsonl ends with a complete line");
  const lines = text.split("\n");
  lines.slice(0, -1).forEach((l, i) => {
    if (l.trim()) assert.doesNotThrow(() => JSON.parse(l), `metrics.jsonl line ${i + 1}`);
  });
  for (const sub of ["checkpoints", "adapters", "merged"]) {
    for (const f of fs.readdirSync(path.join(dir, sub))) {
      const file = path.join(dir, sub, f);
      if (f.endsWith(".tmp")) {
        // A write the kill cut short: readers skip it, a resume removes it.
        assert.ok(allowTempFiles && f.startsWith("."), `${file} is a leftover temp file`);
        continue;
      }
      if (f.endsWith(".json")) JSON.parse(fs.readFileSync(file, "utf8"));
      if (f.endsWith(".safetensors")) parseSafetensors(fs.readFileSync(file), file);
    }
  }
}

describe("daemon over stdio (fake engine, worker threads)", () => {
  test("start → metrics → pause within one step → resume → complete → merge → evaluate → shutdown", async () => {
    const ws = tempWorkspace();
    const d = start(ws);
    const init = await d.conn.sendRequest(rpc.initialize, { clientName: "test" });
    assert.equal(init.backend, "cpu");
    assert.equal(init.compute, "cpu", "the human-readable compute line names the backend");
    assert.equal(init.runsDir, path.join(ws, ".hyperat", "runs"));
    assert.equal(init.capabilities.workerThreads, true);

    const { runId } = await d.conn.sendRequest(rpc.runStart, { configPath: writeConfig(ws, "flow", { steps: 8, checkpointEvery: 4, stepMs: 250, seed: 5 }) });
    await d.notes.waitFor(metric(runId, 1), "first metrics");

    // A step is computing in the worker right now: runs.list must answer before it ends.
    const before = d.notes.events.filter((n) => n.method === "hyperat/run.metrics").length;
    const list = await d.conn.sendRequest(rpc.runsList);
    assert.equal(list.runs[0].id, runId);
    assert.equal(list.runs[0].state, "running");
    assert.equal(d.notes.events.filter((n) => n.method === "hyperat/run.metrics").length, before, "runs.list waited for a step");

    const pausedFrom = before;
    const ack = await d.conn.sendRequest(rpc.runPause, { runId });
    assert.equal(ack.state, "pausing");
    const paused = await d.notes.waitFor(status(runId, "paused"), "paused");
    assert.ok((paused.params.step as number) <= pausedFrom + 1, `paused at step ${paused.params.step}, pause sent during step ${pausedFrom + 1}`);
    const detail = await d.conn.sendRequest(rpc.runGet, { runId });
    assert.equal(detail.state, "paused");
    assert.ok(detail.artifacts.checkpoints.includes(`checkpoints/step-${paused.params.step}.safetensors`));

    await d.conn.sendRequest(rpc.runResume, { runId });
    await d.notes.waitFor(status(runId, "completed"), "completed");
    const done = await d.conn.sendRequest(rpc.runGet, { runId });
    assert.deepEqual(done.recentMetrics.map((m) => m.loss), fakeLosses(5, 8));
    assert.equal(d.notes.events.filter((n) => n.method === "hyperat/run.loraNorms").length, 4);

    const merged = await d.conn.sendRequest(rpc.runMerge, { runId, strategy: "adaptive" });
    assert.ok(fs.existsSync(merged.modelPath));
    const progress = d.notes.events.filter((n) => n.method === "hyperat/progress");
    assert.deepEqual(progress.map((n) => (n.params.value as { kind: string }).kind), ["begin", "report", "report", "end"]);
    assert.equal(new Set(progress.map((n) => n.params.token)).size, 1);

    const ev = await d.conn.sendRequest(rpc.runEvaluate, { runId, attacks: "pgd-20" });
    assert.equal(ev.records.length, 4);
    assert.equal(ev.report.attacks, "pgd-20");
    // One model through the worker thread: its own report folder; a model the run lacks is InvalidParams.
    const one = await d.conn.sendRequest(rpc.runEvaluate, { runId, model: { kind: "merged", strategy: "adaptive" } });
    assert.match(one.reportPath, /reports[/\\]merged-adaptive-[^/\\]+[/\\]report\.json$/);
    assert.deepEqual(one.report.model, { kind: "merged", strategy: "adaptive" });
    const lacks = await rpcError(d.conn.sendRequest(rpc.runEvaluate, { runId, model: { kind: "merged", strategy: "uniform" } }));
    assert.equal(lacks.code, -32602);
    assert.match(lacks.message, /has no merged-uniform \(the uniform merge\); its models: base, adapter-pgd-at, adapter-trades, adapter-mart, merged-adaptive$/);
    const bad = await rpcError(d.conn.sendRequest(rpc.runEvaluate, { runId, model: { kind: "adapter", defense: "../x" } }));
    assert.equal(bad.code, -32602);
    assert.match(bad.message, /params\.model\.defense must be a name/);
    await d.notes.waitFor((n) => n.method === "hyperat/run.evaluation" && n.params.target === "uniform" && n.params.step === 8, "evaluation notification");
    const ds = await d.notes.waitFor((n) => n.method === "hyperat/daemon.status", "daemon.status");
    assert.equal(ds.params.backend, "cpu");
    assert.equal(typeof ds.params.numTensors, "number");

    assert.equal(await d.conn.sendRequest(rpc.shutdown), null);
    assert.deepEqual(await d.exited, { code: 0, signal: null });
    assert.doesNotMatch(d.stderr(), /"step":/, "logs must not contain file contents");
    assert.match(d.stderr(), /\[info\] daemon started/);
  });

  test("kill -9 mid-run → the folder parses → a restarted daemon lists it interrupted → resume completes", async () => {
    const ws = tempWorkspace();
    const d1 = start(ws);
    await d1.conn.sendRequest(rpc.initialize, {});
    const { runId } = await d1.conn.sendRequest(rpc.runStart, { configPath: writeConfig(ws, "crash", { steps: 12, checkpointEvery: 3, stepMs: 100, seed: 11 }) });
    await d1.notes.waitFor(metric(runId, 7), "step 7");
    d1.child.kill("SIGKILL");
    assert.equal((await d1.exited).signal, "SIGKILL");

    const dir = path.join(ws, ".hyperat", "runs", runId);
    await assertRunFolderParses(dir, true);
    const crashed = await readManifest(dir);
    assert.equal(crashed.state, "running");
    assert.ok(crashed.step >= 6, `run.json step ${crashed.step}`);
    // A write the kill cut mid-line (joins the torn tail the kill itself may have left).
    const metricsFile = path.join(dir, "metrics.jsonl");
    fs.appendFileSync(metricsFile, '{"kind":"step","step":8,"defen');

    const d2 = start(ws);
    await d2.conn.sendRequest(rpc.initialize, {});
    const listed = (await d2.conn.sendRequest(rpc.runsList)).runs.find((r) => r.id === runId);
    assert.equal(listed?.state, "interrupted");
    await d2.conn.sendRequest(rpc.runResume, { runId });
    const resumed = await d2.notes.waitFor(metric(runId, 1), "first step after resume");
    assert.ok((resumed.params.step as number) >= 7 && (resumed.params.step as number) <= 8, `lost at most one checkpoint interval: resumed at ${resumed.params.step}`);
    await d2.notes.waitFor(status(runId, "completed"), "completed after crash");
    const detail = await d2.conn.sendRequest(rpc.runGet, { runId });
    assert.deepEqual(detail.recentMetrics.map((m) => m.step), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    assert.deepEqual(detail.recentMetrics.map((m) => m.loss), fakeLosses(11, 12));
    await assertRunFolderParses(dir);
    // The resumed writer cut the torn tail (every line parses) and said so once.
    const kinds = fs.readFileSync(metricsFile, "utf8").trimEnd().split("\n").map((l) => (JSON.parse(l) as { kind: string }).kind);
    assert.equal(kinds.filter((k) => k === "tornLine").length, 1);
    await d2.conn.sendRequest(rpc.shutdown);
    assert.equal((await d2.exited).code, 0);
  });

  test("malformed messages, unknown methods, invalid configs, missing files and bad params get errors; the daemon stays alive", async () => {
    const ws = tempWorkspace();
    const d = start(ws, ["--in-process"]);
    await d.conn.sendRequest(rpc.initialize, {});

    const body = "{this is not json";
    d.child.stdin!.write(`Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
    const notRpc = JSON.stringify({ hello: "world" });
    d.child.stdin!.write(`Content-Length: ${Buffer.byteLength(notRpc)}\r\n\r\n${notRpc}`);
    assert.deepEqual((await d.conn.sendRequest(rpc.runsList)).runs, []);

    const unknown = await rpcError(d.conn.sendRequest("hyperat/run.explode", { runId: "x" }));
    assert.equal(unknown.code, -32601);

    const bad = await rpcError(d.conn.sendRequest(rpc.runStart, { configPath: writeConfig(ws, "bad", { steps: -1 }) }));
    assert.equal(bad.code, ErrorCodes.InvalidConfig);
    assert.equal(bad.data?.jsonPath, "/steps");
    assert.match(bad.message, /\/steps: must be a positive integer, got -1/);

    const noConfig = await rpcError(d.conn.sendRequest(rpc.runStart, { configPath: path.join(ws, "absent.hyperat.json") }));
    assert.equal(noConfig.code, ErrorCodes.MissingFile);
    assert.equal(noConfig.data?.file, path.join(ws, "absent.hyperat.json"));

    const noData = await rpcError(d.conn.sendRequest(rpc.runStart, { configPath: writeConfig(ws, "nodata", { dataFile: "train.bin" }) }));
    assert.equal(noData.code, ErrorCodes.MissingFile);
    assert.equal(noData.data?.jsonPath, "/dataFile");

    const huge = await rpcError(d.conn.sendRequest(rpc.runStart, { configPath: writeConfig(ws, "huge", { memoryBytes: 5 * 2 ** 30 }) }));
    assert.equal(huge.code, ErrorCodes.MemoryLimit);
    assert.equal(huge.data?.limitBytes, 2 ** 30);

    const noRun = await rpcError(d.conn.sendRequest(rpc.runGet, { runId: "missing-run" }));
    assert.equal(noRun.code, ErrorCodes.UnknownRun);
    assert.equal(noRun.data?.runId, "missing-run");

    const params = await rpcError(d.conn.sendRequest("hyperat/run.pause", { runId: 42 }));
    assert.equal(params.code, -32602);
    assert.match(params.message, /params.runId must be a non-empty string/);
    const strategy = await rpcError(d.conn.sendRequest("hyperat/run.merge", { runId: "x", strategy: "median" }));
    assert.equal(strategy.code, -32602);

    const { runId } = await d.conn.sendRequest(rpc.runStart, { configPath: writeConfig(ws, "ok", { steps: 2 }) });
    await d.notes.waitFor(status(runId, "completed"), "a valid run still completes");
    const nan = (await d.conn.sendRequest(rpc.runStart, { configPath: writeConfig(ws, "nan", { steps: 4, nanAtStep: 2 }) })).runId;
    await d.notes.waitFor(status(nan, "paused"), "NaN pause");
    const health = await d.notes.waitFor((n) => n.method === "hyperat/daemon.status" && n.params.health === "warning", "warning health");
    assert.match(health.params.message as string, new RegExp(`run ${nan}: loss is NaN at step 2`));
    assert.equal(d.child.exitCode, null);
    assert.match(d.stderr(), /\[warn\] hyperat\/run.start failed: invalid config/);
    d.child.stdin!.end(); // the client went away: the daemon shuts down cleanly
    assert.equal((await d.exited).code, 0);
  });

  test("a backend that cannot load is a BackendUnavailable error, for the daemon and for a config", async () => {
    // tfjs-node-gpu needs libtensorflow with CUDA, which CI machines do not have: an explicit
    // request for it must fail loudly instead of falling back to another backend.
    const ws = tempWorkspace();
    const d = start(ws, ["--in-process", "--backend", "tensorflow-gpu"]);
    const init = await rpcError(d.conn.sendRequest(rpc.initialize, {}));
    assert.equal(init.code, ErrorCodes.BackendUnavailable);
    assert.equal(init.data?.backend, "tensorflow-gpu");
    assert.match(init.message, /backend "tensorflow-gpu" was requested but cannot load/);
    assert.deepEqual((await d.conn.sendRequest(rpc.runsList)).runs, []);

    const cfg = await rpcError(d.conn.sendRequest(rpc.runStart, { configPath: writeConfig(ws, "gpu", { backend: "tensorflow-gpu" }) }));
    assert.equal(cfg.code, ErrorCodes.BackendUnavailable);
    assert.deepEqual(fs.readdirSync(ws), ["gpu.hyperat.json"]); // no run folder was created
    await d.conn.sendRequest(rpc.shutdown);
    assert.equal((await d.exited).code, 0);
  });
});
