import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { daemonSpawnPlan } from "../../src/extension/daemonSpawn";
import { DEFAULT_SETTINGS, settingsFrom } from "../../src/extension/settings";
import { statusText } from "../../src/extension/statusText";

describe("daemonSpawnPlan", () => {
  const host = { execPath: "/opt/code/code", env: { PATH: "/bin", ELECTRON_RUN_AS_NODE: undefined } };

  test("desktop VS Code (Electron): bundled CLI with ELECTRON_RUN_AS_NODE=1, workspace and backend flags", () => {
    const p = daemonSpawnPlan({ ...DEFAULT_SETTINGS, backend: "wasm" }, "/ext", "/ws", { ...host, electronVersion: "34.0.0" });
    assert.equal(p.command, "/opt/code/code");
    assert.deepEqual(p.args, ["/ext/dist/cli.js", "daemon", "--stdio", "--workspace", "/ws", "--backend", "wasm"]);
    assert.equal(p.env.ELECTRON_RUN_AS_NODE, "1");
    assert.equal(p.env.PATH, "/bin");
    assert.equal(p.cwd, "/ws");
  });

  test("code-server / Remote-SSH (plain Node): no Electron flag", () => {
    const p = daemonSpawnPlan(DEFAULT_SETTINGS, "/ext", "/ws", { ...host, execPath: "/usr/bin/node" });
    assert.equal(p.env.ELECTRON_RUN_AS_NODE, undefined);
  });

  test("a user-chosen node and CLI; the flag is removed even if inherited", () => {
    const p = daemonSpawnPlan({ ...DEFAULT_SETTINGS, nodePath: "/gpu/node", daemonPath: "/opt/hyperat/cli.js" }, "/ext", "/ws", {
      ...host,
      electronVersion: "34.0.0",
      env: { ELECTRON_RUN_AS_NODE: "1" },
    });
    assert.equal(p.command, "/gpu/node");
    assert.equal(p.args[0], "/opt/hyperat/cli.js");
    assert.equal("ELECTRON_RUN_AS_NODE" in p.env, false);
  });

  test("executables are never resolved against the workspace: relative paths are refused, bare names go to PATH", () => {
    assert.throws(() => daemonSpawnPlan({ ...DEFAULT_SETTINGS, daemonPath: "tools/cli.js" }, "/ext", "/ws", host), /hyperat\.daemon\.path must be an absolute path.*"tools\/cli\.js"/);
    assert.throws(() => daemonSpawnPlan({ ...DEFAULT_SETTINGS, nodePath: "./bin/node" }, "/ext", "/ws", host), /hyperat\.daemon\.nodePath .*"\.\/bin\/node"/);
    assert.equal(daemonSpawnPlan({ ...DEFAULT_SETTINGS, nodePath: "node" }, "/ext", "/ws", host).command, "node");
  });

  test("the manifest makes the executable settings machine-scoped", () => {
    const pkg = JSON.parse(readFileSync(join(__dirname, "../../package.json"), "utf8")) as { contributes: { configuration: { properties: Record<string, { scope?: string }> } } };
    for (const key of ["hyperat.daemon.path", "hyperat.daemon.nodePath"]) assert.equal(pkg.contributes.configuration.properties[key].scope, "machine", key);
  });
});

test("daemonSpawnPlan expands ~ in both paths", () => {
  const p = daemonSpawnPlan({ ...DEFAULT_SETTINGS, nodePath: "~/n/node", daemonPath: "~/hyperat/dist/cli.js" }, "/ext", "/ws", {
    execPath: "/usr/bin/node",
    env: { HOME: "/home/u" },
  });
  assert.equal(p.command, "/home/u/n/node");
  assert.equal(p.args[0], "/home/u/hyperat/dist/cli.js");
});

describe("settingsFrom", () => {
  test("bad values fall back to safe defaults", () => {
    const s = settingsFrom((k) => ({ backend: "cuda", "daemon.path": 3, "decorations.enabled": "yes", "runs.groupBy": "folder" })[k]);
    assert.deepEqual(s, DEFAULT_SETTINGS);
  });

  test("good values pass through trimmed", () => {
    const s = settingsFrom((k) => ({ backend: "cpu", "daemon.nodePath": " /n ", "decorations.enabled": false, "runs.groupBy": "config" })[k]);
    assert.deepEqual(s, { backend: "cpu", daemonPath: "", nodePath: "/n", decorationsEnabled: false, runsGroupBy: "config" });
  });
});

describe("statusText", () => {
  test("down, idle and training", () => {
    assert.equal(statusText({ running: false }), "$(circle-slash) HyperAT");
    assert.equal(statusText({ running: true, backend: "wasm" }), "$(shield) HyperAT wasm");
    assert.equal(
      statusText({ running: true, backend: "wasm", health: "ok" }, { id: "r1", state: "running", step: 3, totalSteps: 10, best: { target: "uniform", split: "val", attack: "pgd-10", step: 2, worstCaseRobustAccuracy: 0.25, cleanAccuracy: 0.5 } }),
      "$(sync~spin) HyperAT wasm · r1 training 3/10 · best 25.0% (uniform, val pgd-10, step 2)",
    );
    assert.equal(statusText({ running: false, starting: true }), "$(loading~spin) HyperAT daemon starting");
    assert.match(statusText({ running: true, backend: "cpu", health: "error" }), /^\$\(error\)/);
  });

  test("the active run's phase by name, and a warning icon when an early check fired", () => {
    const run = { id: "20261202-070921-demo-0b1a", name: "demo", state: "running" as const, step: 0, totalSteps: 60 };
    const pretraining = { operation: "prepare", title: "Preparing x: clean pretraining", message: "step 12/60, loss 2.301" };
    assert.equal(statusText({ running: true, backend: "wasm" }, { ...run, operation: pretraining }), "$(sync~spin) HyperAT wasm · demo pretraining 12/60");
    assert.equal(statusText({ running: true, backend: "wasm" }, { ...run, step: 50, operation: { operation: "validate", title: "Validating" } }), "$(sync~spin) HyperAT wasm · demo validating at step 50");
    assert.equal(statusText({ running: true, backend: "wasm" }, { ...run, step: 30, warnings: ["loss flat at 2.303 for 30 steps"] }), "$(warning) HyperAT wasm · demo training 30/60");
    assert.equal(statusText({ running: true, backend: "wasm" }, { ...run, state: "pausing", step: 30 }), "$(sync~spin) HyperAT wasm · demo pausing");
  });
});
