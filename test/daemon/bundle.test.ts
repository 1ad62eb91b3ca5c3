// The daemon as it ships: esbuild bundles (like scripts/build.mjs) of the CLI and the training
// worker side by side, driven over stdio. Catches what the tsx-run tests cannot: the worker
// bundle being found next to the CLI bundle, and nothing printed on stdout but protocol.
import { after, test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { spawn } from "node:child_process";
import * as esbuild from "esbuild";
import { createMessageConnection, StreamMessageReader, StreamMessageWriter } from "vscode-jsonrpc/node";
import * as rpc from "../../src/protocol/methods";
import { Collector, tempWorkspace, writeConfig } from "./helpers";

const ROOT = path.resolve(__dirname, "../..");
const cleanups: Array<() => void> = [];
after(() => cleanups.forEach((c) => c()));

test("the bundled daemon trains in the bundled worker and answers over stdio", async () => {
  const out = tempWorkspace("hyperat-bundle-");
  await esbuild.build({
    entryPoints: {
      cli: path.join(ROOT, "src/cli/main.ts"),
      trainWorker: path.join(ROOT, "src/daemon/compute/entry.ts"),
      fakeEngine: path.join(ROOT, "test/daemon/fakeEngine.ts"),
    },
    outdir: out,
    bundle: true,
    platform: "node",
    target: "node20",
    format: "cjs",
    logLevel: "error",
    external: ["vscode", "@tensorflow/tfjs-node", "@tensorflow/tfjs-node-gpu"],
  });
  const ws = tempWorkspace();
  const child = spawn(process.execPath, [path.join(out, "cli.js"), "daemon", "--stdio", "--workspace", ws, "--backend", "cpu"], {
    env: { ...process.env, HYPERAT_ENGINE: path.join(out, "fakeEngine.js") },
    stdio: ["pipe", "pipe", "pipe"],
  });
  cleanups.push(() => child.kill("SIGKILL"));
  let stderr = "";
  child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((r) => child.on("exit", (c) => r(c)));
  const conn = createMessageConnection(new StreamMessageReader(child.stdout), new StreamMessageWriter(child.stdin));
  const notes = new Collector<{ method: string; params: Record<string, unknown> }>();
  conn.onNotification((method: string, params: unknown) => notes.push({ method, params: params as Record<string, unknown> }));
  conn.listen();

  const init = await conn.sendRequest(rpc.initialize, {});
  assert.equal(init.capabilities.workerThreads, true);
  const { runId } = await conn.sendRequest(rpc.runStart, { configPath: writeConfig(ws, "bundled", { steps: 3 }) });
  await notes.waitFor((n) => n.method === "hyperat/run.status" && n.params.runId === runId && n.params.state === "completed", "completed");
  assert.equal(notes.events.filter((n) => n.method === "hyperat/run.metrics").length, 3);
  const merged = await conn.sendRequest(rpc.runMerge, { runId, strategy: "uniform" });
  assert.ok(fs.existsSync(merged.modelPath));
  await conn.sendRequest(rpc.shutdown);
  assert.equal(await exited, 0, stderr);
});
