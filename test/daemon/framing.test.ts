// A malformed LSP header must not wedge the daemon: it answers a JSON-RPC parse error, pauses
// its runs with a checkpoint and exits (code 2), so the extension starts a fresh one.
import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import { PassThrough } from "node:stream";
import * as rpc from "../../src/protocol/methods";
import { readManifest, runsDirOf } from "../../src/daemon/runStore";
import { FrameGuard } from "../../src/daemon/frameGuard";
import { tempWorkspace, writeConfig } from "./helpers";
import { killDaemon, spawnDaemon, type DaemonProcess } from "./daemonProcess";
import * as path from "node:path";

const daemons: DaemonProcess[] = [];
after(() => daemons.forEach(killDaemon));

const frame = (body: string) => `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
const listRequest = JSON.stringify({ jsonrpc: "2.0", id: 99, method: "hyperat/runs.list" });

describe("malformed Content-Length headers", () => {
  for (const [what, header] of [
    ["missing", "Content-Type: application/vscode-jsonrpc; charset=utf-8"],
    ["non-numeric", "Content-Length: twelve"],
    ["negative", "Content-Length: -1"],
  ] as const) {
    test(`${what}: answered with a parse error, then the daemon checkpoints its run and exits`, { timeout: 60_000 }, async () => {
      const ws = tempWorkspace("hyperat-frame-");
      const d = spawnDaemon(ws, ["--in-process"]);
      daemons.push(d);
      let raw = "";
      d.child.stdout!.on("data", (b: Buffer) => (raw += b.toString()));
      await d.conn.sendRequest(rpc.initialize, { workspaceFolder: ws });
      const { runId } = await d.conn.sendRequest(rpc.runStart, { configPath: writeConfig(ws, "f", { steps: 400, checkpointEvery: 1000, stepMs: 20 }) });
      await d.notes.waitFor((n) => n.method === "hyperat/run.metrics", "training");
      d.child.stdin!.write(`${header}\r\n\r\n${listRequest}`);
      d.child.stdin!.write(frame(listRequest));
      const exit = await d.exited;
      assert.equal(exit.code, 2, d.stderr());
      assert.match(raw, /"id":null,"error":\{"code":-32700,"message":"Parse error: [^\n]*Content-Length/);
      assert.match(d.stderr(), /malformed message header/);
      const m = await readManifest(path.join(runsDirOf(ws), runId));
      assert.equal(m.state, "paused");
      assert.ok(m.step > 0 && m.step < 400);
    });
  }

  test("well-formed messages pass the guard unchanged, however the stream is chunked", async () => {
    const bytes = Buffer.from(frame(listRequest) + frame("{}") + `Content-Length: 0\r\n\r\n` + frame(listRequest));
    const input = new PassThrough();
    const problems: string[] = [];
    const guard = new FrameGuard((p) => problems.push(p));
    const out: Buffer[] = [];
    guard.on("data", (b: Buffer) => out.push(b));
    input.pipe(guard);
    for (let i = 0; i < bytes.length; i += 7) input.write(bytes.subarray(i, i + 7));
    input.end();
    await new Promise((r) => guard.on("end", r));
    assert.deepEqual(problems, []);
    assert.equal(Buffer.concat(out).toString(), bytes.toString());
  });
});
