// The daemon is driven by whatever writes to its stdin. Hostile requests (bad framing, wrong
// types, `../` and NUL run ids, 50 MB bodies) must be answered with errors, must not kill it,
// and must change nothing outside the workspace's .hyperat/runs (issue 15).
import { after, test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { createHash } from "node:crypto";
import { ResponseError } from "vscode-jsonrpc/node";
import * as rpc from "../../src/protocol/methods";
import { killDaemon, spawnDaemon, type DaemonProcess } from "./daemonProcess";

const daemons: DaemonProcess[] = [];
after(() => daemons.forEach(killDaemon));

/** path → size and sha256 of every file (and every folder) under `root`, except `skip`. */
function snapshot(root: string, skip: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (p === skip) continue;
      if (e.isDirectory()) {
        out.set(p + "/", "dir");
        walk(p);
      } else {
        const bytes = fs.readFileSync(p);
        out.set(p, `${bytes.length} ${createHash("sha256").update(bytes).digest("hex")} ${fs.statSync(p).mode}`);
      }
    }
  };
  walk(root);
  return out;
}

/** The request must fail with a JSON-RPC error (any code); returns it. */
async function refused(p: Promise<unknown>, what: string): Promise<ResponseError<unknown>> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof ResponseError, `${what}: expected a JSON-RPC error, got ${String(e)}`);
    return e;
  }
  assert.fail(`${what}: expected an error`);
}

test("hostile protocol input changes nothing outside .hyperat/runs and the daemon stays alive", async () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "hyperat-sandbox-"));
  const ws = path.join(root, "ws");
  const outside = path.join(root, "outside");
  fs.mkdirSync(ws);
  fs.mkdirSync(outside);
  fs.writeFileSync(path.join(outside, "precious.txt"), "do not touch\n");
  fs.writeFileSync(path.join(outside, "run.json"), JSON.stringify({ id: "outside", state: "paused", step: 0, totalSteps: 1, defenses: [] }));
  fs.writeFileSync(path.join(ws, "notes.md"), "workspace file\n");
  // A run name that looks like a path must still land in the runs folder.
  const okConfig = path.join(ws, "ok.hyperat.json");
  fs.writeFileSync(okConfig, JSON.stringify({ name: "../../outside/evil\u0000", steps: 1 }));
  const junkConfig = path.join(outside, "precious.txt");

  const d = spawnDaemon(ws, ["--in-process"]);
  daemons.push(d);
  await d.conn.sendRequest(rpc.initialize, {});
  // One good run first, so the runs folder exists and adoption paths are live.
  const { runId: good } = await d.conn.sendRequest(rpc.runStart, { configPath: okConfig });
  await d.notes.waitFor((n) => n.method === "hyperat/run.status" && n.params.runId === good && n.params.state === "completed", "good run completes");

  const runsDir = path.join(ws, ".hyperat", "runs");
  const before = snapshot(root, runsDir);

  // Framing and envelope garbage (each frame well-formed, so the stream stays in sync).
  for (const body of ["{this is not json", "null", "[]", '{"jsonrpc":"2.0","id":1,"method":5}', '{"jsonrpc":"1.0","id":2,"method":"hyperat/run.get"}', "\u0000\u0001\u0002"]) {
    d.child.stdin!.write(`Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
  }
  let cases = 6;

  const ids = ["..", ".", "../outside", "../../outside", "../..", "/etc", path.join(outside), "a\u0000b", "\u0000", `${good}/../../../outside`, `${good}\u0000`, "%2e%2e", "runs/..", " ", "a".repeat(5000)];
  for (const runId of ids) {
    for (const [method, extra] of [
      [rpc.runGet.method, {}],
      [rpc.runPause.method, {}],
      [rpc.runResume.method, {}],
      [rpc.runStop.method, {}],
      [rpc.runMerge.method, { strategy: "uniform" }],
      [rpc.runEvaluate.method, { attacks: "pgd-1" }],
    ] as const) {
      await refused(d.conn.sendRequest(method, { runId, ...extra }), `${method} ${JSON.stringify(runId.slice(0, 40))}`);
      cases++;
    }
  }
  // Wrong types and shapes.
  for (const params of [null, 42, "x", [], { runId: 1 }, { runId: ["a"] }, { runId: { toString: "x" } }]) {
    await refused(d.conn.sendRequest(rpc.runGet.method, params), `run.get ${JSON.stringify(params)}`);
    cases++;
  }
  // Config paths: a non-config file outside, NUL, a folder, a relative escape.
  for (const configPath of [junkConfig, `${okConfig}\u0000.json`, outside, "../outside/precious.txt", ""]) {
    await refused(d.conn.sendRequest(rpc.runStart, { configPath }), `run.start ${JSON.stringify(configPath)}`);
    cases++;
  }
  // 50 MB bodies: a huge run id and a huge config path.
  const huge = "A".repeat(50 * 2 ** 20);
  await refused(d.conn.sendRequest(rpc.runGet, { runId: huge }), "run.get 50 MB id");
  await refused(d.conn.sendRequest(rpc.runStart, { configPath: huge }), "run.start 50 MB path");
  cases += 2;

  // Alive, listing only the one real run, and nothing outside the runs folder changed.
  const list = await d.conn.sendRequest(rpc.runsList);
  assert.deepEqual(list.runs.map((r) => r.id), [good]);
  assert.equal(d.child.exitCode, null);
  assert.deepEqual(snapshot(root, runsDir), before);
  assert.deepEqual(fs.readdirSync(runsDir), [good], "no stray folder inside the runs folder either");
  assert.ok(cases >= 65, `${cases} protocol cases`);
  await d.conn.sendRequest(rpc.shutdown);
  assert.equal((await d.exited).code, 0);
  fs.rmSync(root, { recursive: true, force: true });
});
