// The one worker protocol (src/daemon/compute/workerRpc.ts) against a real thread: streamed
// events before the result, errors back as their class, cancel through the shared flag, and a
// thread that exits rejecting every call still waiting and every later one.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import * as path from "node:path";
import { Worker } from "node:worker_threads";
import { CancelFlag } from "../../../src/daemon/cancelFlag";
import { OperationCancelledError } from "../../../src/daemon/errors";
import { RpcClient } from "../../../src/daemon/compute/workerRpc";

interface Api {
  count(n: number, onEvent: (i: number) => void): Promise<number>;
  cancelled(runId: string): Promise<never>;
  waitForCancel(signal: { readonly aborted: boolean }): Promise<string>;
  /** Never answers: the thread exits on its next turn. */
  exit(code: number): Promise<never>;
}

// The served API, as plain JS evaluated in the thread (tsx loads the .ts modules it requires).
const API = `({
  async count(n, onEvent) { for (let i = 1; i <= n; i++) onEvent(i); return n * 10; },
  async cancelled(runId) { throw new OperationCancelledError(runId, "the merge"); },
  async waitForCancel(signal) { while (!signal.aborted) await new Promise((r) => setTimeout(r, 5)); return "saw cancel"; },
  exit(code) { return new Promise(() => setImmediate(() => process.exit(code))); },
})`;

function start(): { rpc: RpcClient<Api>; cancel: CancelFlag } {
  const req = createRequire(__filename);
  const src = (f: string) => JSON.stringify(path.join(__dirname, "../../../src/daemon", f));
  const script = [
    `require(${JSON.stringify(req.resolve("tsx/cjs/api"))}).register();`,
    `const { parentPort, workerData } = require("node:worker_threads");`,
    `const { serveRpc } = require(${src("compute/workerRpc.ts")});`,
    `const { OperationCancelledError } = require(${src("errors.ts")});`,
    `serveRpc(parentPort, ${API}, { cancel: workerData.cancel });`,
  ].join("\n");
  const cancel = new CancelFlag();
  const w = new Worker(script, { eval: true, workerData: { cancel: cancel.buffer } });
  return { rpc: new RpcClient<Api>(w, { name: "test worker", cancel }), cancel };
}

test("streamed events arrive in order before the result; errors come back as their class", async () => {
  const { rpc } = start();
  try {
    const seen: number[] = [];
    assert.equal(await rpc.call("count", [3, (i: number) => seen.push(i)]), 30);
    assert.deepEqual(seen, [1, 2, 3]);
    await assert.rejects(rpc.call("cancelled", ["r7"]), (e: unknown) => e instanceof OperationCancelledError && e.runId === "r7" && e.message === 'the merge of run "r7" was cancelled; nothing was written');
  } finally {
    await rpc.close();
  }
});

test("an AbortSignal argument reaches the worker as the shared flag", async () => {
  const { rpc } = start();
  try {
    const ac = new AbortController();
    const call = rpc.call("waitForCancel", [ac.signal]);
    ac.abort();
    assert.equal(await call, "saw cancel");
  } finally {
    await rpc.close();
  }
});

test("a thread that exits rejects every pending call and every later one", async () => {
  const { rpc } = start();
  const a = rpc.call("exit", [5]);
  const b = rpc.call("count", [2, () => {}]); // queued behind the call that never answers
  const exited = /: test worker exited with code 5$/; // String(error): "Error: <message>"
  await assert.rejects(a, exited);
  await assert.rejects(b, exited);
  await assert.rejects(rpc.call("count", [1, () => {}]), exited);
  await rpc.close();
});
