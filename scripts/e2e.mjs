// End-to-end tests of the packaged extension in a real VS Code (code-server 4.100.3 = VS Code
// 1.100.3) driven through Debian's headless Chromium with playwright-core. Recipe and measured
// facts: /work/shared/recipes/real-vscode-tests.md.
//
//   npm run test:e2e            build, package, install, run both stages, tear down
//   HYPERAT_E2E_STAGES=ui ...   only one stage (exthost | ui)
//   HYPERAT_E2E_SKIP_BUILD=1    reuse dist/
//   HYPERAT_E2E_UI=newcomer     only the UI test files whose name contains this (default: all)
//
// Needs: apt-get install -y chromium libkrb5-dev (code-server's kerberos module builds against it).
// code-server is installed once into .cache/code-server (git-ignored, outside our dependencies).
import { execFileSync, spawn } from "node:child_process";
import { cpSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import * as esbuild from "esbuild";
import { ensureCodeServer } from "../test/e2e/harness/installCodeServer.mjs";
import { freePort, installExtension, startCodeServer, stateDirs } from "../test/e2e/harness/codeServer.mjs";
import { runExtensionHostTests } from "../test/e2e/harness/extensionHostTests.mjs";
import { applyOverrides, readOverrides } from "../test/e2e/harness/overrides.mjs";
import { CHROMIUM } from "../test/e2e/harness/browser.mjs";
import { vsceArgs } from "./vsixTarget.mjs";

const root = resolve(".");
const cache = join(root, ".cache");
const work = join(cache, "e2e");
const stages = (process.env.HYPERAT_E2E_STAGES ?? "exthost,ui").split(",");
const timings = [];
const t0 = Date.now();
let lap = Date.now();
const mark = (what) => {
  const now = Date.now();
  timings.push([what, (now - lap) / 1000]);
  console.log(`e2e: ${what} (${((now - lap) / 1000).toFixed(1)} s)`);
  lap = now;
};

if (!existsSync(CHROMIUM)) {
  console.error(`e2e: ${CHROMIUM} not found; install it with: apt-get install -y chromium libkrb5-dev`);
  process.exit(1);
}

const entry = ensureCodeServer(join(cache, "code-server"));
mark("code-server ready");

if (!process.env.HYPERAT_E2E_SKIP_BUILD) execFileSync(process.execPath, ["scripts/build.mjs"], { stdio: "inherit" });
mkdirSync(work, { recursive: true });
const vsix = join(work, "hyperat.vsix");
// The same vsce arguments as `npm run package` (scripts/vsixTarget.mjs).
execFileSync("npx", ["--no-install", "vsce", ...vsceArgs(vsix)], { stdio: ["ignore", "ignore", "inherit"] });
mark("built and packaged");

// Extension-host tests: one bundle, mocha loaded from our node_modules at run time.
const testsPath = join(work, "exthost", "index.js");
await esbuild.build({
  entryPoints: ["test/e2e/extensionHost/index.ts"],
  outfile: testsPath,
  bundle: true,
  platform: "node",
  target: "node20",
  format: "cjs",
  external: ["vscode", "mocha"],
  logLevel: "warning",
});
// Resolve `mocha` from the repository (the bundle lives under .cache/e2e/exthost).
writeFileSync(join(work, "exthost", "package.json"), JSON.stringify({ private: true }));

const state = join(work, "state");
rmSync(state, { recursive: true, force: true });
const dirs = stateDirs(state);
mkdirSync(join(dirs.userData, "User"), { recursive: true });
writeFileSync(
  join(dirs.userData, "User", "settings.json"),
  JSON.stringify({
    "workbench.startupEditor": "none",
    "workbench.tips.enabled": false,
    "workbench.enableExperiments": false,
    "extensions.autoCheckUpdates": false,
    "extensions.autoUpdate": false,
    "telemetry.telemetryLevel": "off",
    "security.workspace.trust.enabled": false,
    "window.restoreWindows": "none",
    "git.enabled": false,
    "git.openRepositoryInParentFolders": "never",
  }, null, 2),
);
installExtension(entry, dirs, vsix);
const extensionPath = join(dirs.extensions, readdirSync(dirs.extensions).find((d) => d.startsWith("hyperat.hyperat-")) ?? "missing");
if (!existsSync(join(extensionPath, "dist", "cli.js"))) throw new Error(`e2e: installed extension at ${extensionPath} lacks dist/cli.js`);
mark("extension installed");

/** A fresh workspace with examples/demo.hyperat.json, with test/e2e/fixtures/e2e-overrides.json
 * applied (smaller data, batches and pretraining) so steps take a fraction of a second on 2 cores.
 * `trainingSteps` lengthens the run where a test must catch it still running. */
function makeWorkspace(name, trainingSteps) {
  const ws = join(work, name);
  rmSync(ws, { recursive: true, force: true });
  mkdirSync(ws, { recursive: true });
  const demo = JSON.parse(readFileSync("examples/demo.hyperat.json", "utf8"));
  delete demo.$schema;
  const short = applyOverrides(demo, readOverrides());
  if (trainingSteps) short.training.steps = trainingSteps;
  writeFileSync(join(ws, "demo.hyperat.json"), compactJson(short));
  return ws;
}

/** A fresh, empty folder: what a newcomer opens before they have any config. */
function makeEmptyWorkspace(name) {
  const ws = join(work, name);
  rmSync(ws, { recursive: true, force: true });
  mkdirSync(ws, { recursive: true });
  return ws;
}

/** `{ "a": 1, "b": [2] }` on one line. */
function inline(v) {
  if (Array.isArray(v)) return `[${v.map(inline).join(", ")}]`;
  if (v && typeof v === "object") return `{ ${Object.entries(v).map(([k, x]) => `${JSON.stringify(k)}: ${inline(x)}`).join(", ")} }`;
  return JSON.stringify(v);
}

/** Pretty JSON with short values on one line, so the whole config (and every decoration) fits one screen. */
function compactJson(obj, indent = "  ") {
  const entries = Object.entries(obj).map(([k, v]) => {
    const one = inline(v);
    if (one.length + indent.length + k.length < 96) return `${indent}${JSON.stringify(k)}: ${one}`;
    if (Array.isArray(v)) return `${indent}${JSON.stringify(k)}: [\n${v.map((x) => `${indent}  ${inline(x)}`).join(",\n")}\n${indent}]`;
    return `${indent}${JSON.stringify(k)}: ${compactJson(v, indent + "  ").trimEnd()}`;
  });
  return `{\n${entries.join(",\n")}\n${indent.slice(2)}}\n`;
}

const port = await freePort();
const logFile = join(work, "code-server.log");
rmSync(logFile, { force: true });
const resultsFile = join(work, "exthost-results.json");
rmSync(resultsFile, { force: true });
// The UI flow pauses the run as a person would, after seeing its step advance: with the native
// BLAS the override's 200 steps can finish (~35 s) before that, so its run is 2000 steps; the
// flow pauses it for good before the merge and never waits for it to end.
const server = await startCodeServer({ entry, dirs, workspace: makeWorkspace("ws-ui", 2000), port, logFile, env: { HYPERAT_E2E_RESULTS: resultsFile } });
mark(`code-server listening on ${server.url}`);

let passed = 0;
let failed = 0;
const shots = join(root, "test", "e2e", "screenshots");
try {
  if (stages.includes("exthost")) {
    const ws = makeWorkspace("ws-api");
    const code = await runExtensionHostTests({ serverUrl: server.url, workspace: ws, extensionPath, testsPath }).catch((e) => {
      console.error(`e2e: ${e.message}`);
      return 1;
    });
    const results = existsSync(resultsFile) ? JSON.parse(readFileSync(resultsFile, "utf8")) : { passes: [], failures: [{ title: "extension-host tests", error: "no results written" }] };
    for (const t of results.passes) console.log(`ok - exthost: ${t}`);
    for (const f of results.failures) console.log(`not ok - exthost: ${f.title}\n${f.error}`);
    passed += results.passes.length;
    failed += results.failures.length + (code !== 0 && results.failures.length === 0 ? 1 : 0);
    mark(`extension-host tests (exit ${code})`);
  }
  if (stages.includes("ui")) {
    rmSync(shots, { recursive: true, force: true });
    // One file at a time: on 2 cores two trainings at once would slow both past their waits.
    // newcomer.e2e.ts opens an empty folder in the same code-server (its own window, extension
    // host and daemon); flow.e2e.ts the prepared workspace.
    const only = process.env.HYPERAT_E2E_UI ?? "";
    const files = ["newcomer.e2e.ts", "flow.e2e.ts"].filter((f) => f.includes(only));
    if (files.length === 0) throw new Error(`e2e: HYPERAT_E2E_UI=${only} matches no UI test file`);
    for (const file of files) {
      const code = await new Promise((done) => {
        const child = spawn(process.execPath, ["--import", "tsx", "--test", "--test-reporter=spec", join("test/e2e/ui", file)], {
          stdio: "inherit",
          env: {
            ...process.env,
            HYPERAT_E2E_URL: server.url,
            HYPERAT_E2E_WORKSPACE: join(work, "ws-ui"),
            HYPERAT_E2E_EMPTY_WORKSPACE: makeEmptyWorkspace("ws-empty"),
            HYPERAT_E2E_SCREENSHOTS: shots,
          },
        });
        child.on("exit", (c) => done(c ?? 1));
      });
      if (code === 0) passed++;
      else failed++;
      mark(`UI tests ${file} (exit ${code})`);
    }
  }
} finally {
  await server.stop();
  mark("code-server stopped");
}
if (existsSync(shots)) cpSync(shots, join(work, "screenshots"), { recursive: true });
console.log(`e2e: total ${((Date.now() - t0) / 1000).toFixed(1)} s; ${timings.map(([w, s]) => `${w}: ${s.toFixed(1)} s`).join("; ")}`);
console.log(`e2e: ${passed} passed, ${failed} failed`);
process.exit(failed === 0 && passed > 0 ? 0 : 1);
