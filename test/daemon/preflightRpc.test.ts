// The daemon's run.start runs the up-front pass (src/daemon/preflight.ts) before it creates a
// run folder: an invalid config is answered with InvalidConfig naming the JSON path and file.
import { after, test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import * as rpc from "../../src/protocol/methods";
import { ErrorCodes } from "../../src/protocol/errors";
import { runsDirOf } from "../../src/daemon/runStore";
import { tempWorkspace } from "./helpers";
import { killDaemon, spawnDaemon, type DaemonProcess } from "./daemonProcess";

const daemons: DaemonProcess[] = [];
after(() => daemons.forEach(killDaemon));

test("run.start: preflight refusals carry jsonPath and file in the error data, and leave no run folder", async () => {
  const ws = tempWorkspace("hyperat-preflight-rpc-");
  const d = spawnDaemon(ws, [], { HYPERAT_ENGINE: "" });
  daemons.push(d);
  await d.conn.sendRequest(rpc.initialize, {});
  const cases: Array<[Record<string, unknown>, string, RegExp]> = [
    [{ training: { validationAttack: "pgd-abc" } }, "/training/validationAttack", /unknown attack "pgd-abc"/],
    [{ data: { train: "synthetic:shapes11" } }, "/data/train", /unknown synthetic dataset "shapes11"/],
    [{ model: { path: ws } }, "/model/path", /has no model.safetensors/],
    [{ evaluation: { attacks: "bogus" } }, "/evaluation/attacks", /unknown attack "bogus"/],
  ];
  for (const [i, [cfg, jsonPath, says]] of cases.entries()) {
    const file = path.join(ws, `bad${i}.hyperat.json`);
    fs.writeFileSync(file, "\ufeff" + JSON.stringify({ name: `bad${i}`, ...cfg }));
    await assert.rejects(d.conn.sendRequest(rpc.runStart, { configPath: file }), (e: { code: number; message: string; data?: { jsonPath?: string; file?: string } }) => {
      assert.equal(e.code, ErrorCodes.InvalidConfig, e.message);
      assert.equal(e.data?.jsonPath, jsonPath, e.message);
      assert.equal(e.data?.file, file);
      assert.match(e.message, says);
      return true;
    });
  }
  const runs = runsDirOf(ws);
  assert.deepEqual(fs.existsSync(runs) ? fs.readdirSync(runs) : [], []);
  await d.conn.sendRequest(rpc.shutdown);
  assert.equal((await d.exited).code, 0, d.stderr());
});

test("config.check: the whole pass on unsaved text, every problem with its JSON path; bad params are InvalidParams; nothing is written", async () => {
  const ws = tempWorkspace("hyperat-config-check-rpc-");
  const d = spawnDaemon(ws, [], { HYPERAT_ENGINE: "" });
  daemons.push(d);
  await d.conn.sendRequest(rpc.initialize, {});
  const configPath = path.join(ws, "never-saved.hyperat.json");
  const text = "\ufeff" + JSON.stringify({ name: "unsaved", data: { train: "synthetic:shapes11" }, training: { validationAttack: "pgd-abc" }, evaluation: { attacks: "bogus" } });
  const { problems } = await d.conn.sendRequest(rpc.configCheck, { configPath, text });
  assert.deepEqual(problems.map((p) => [p.jsonPath, p.severity]).sort(), [["/data/train", "error"], ["/evaluation/attacks", "error"], ["/training/validationAttack", "error"]], JSON.stringify(problems));
  await assert.rejects(d.conn.sendRequest(rpc.configCheck, { configPath } as never), (e: { code: number; message: string }) => {
    assert.equal(e.code, -32602, e.message); // JSON-RPC InvalidParams
    assert.match(e.message, /hyperat\/config\.check/);
    return true;
  });
  assert.deepEqual(fs.readdirSync(ws).filter((f) => f !== ".hyperat"), [], "the document is not written");
  const runs = runsDirOf(ws);
  assert.deepEqual(fs.existsSync(runs) ? fs.readdirSync(runs) : [], []);
  await d.conn.sendRequest(rpc.shutdown);
  assert.equal((await d.exited).code, 0, d.stderr());
});
