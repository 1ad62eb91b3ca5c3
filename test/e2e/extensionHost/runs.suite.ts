// API-level flows inside the real extension host (code-server): activation, commands, the daemon
// lifecycle, a run through start → pause → resume → merge, the tree, and config diagnostics.
// The workspace is prepared by scripts/e2e.mjs with demo.hyperat.json (a shortened demo config).
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import * as vscode from "vscode";
import type { HyperatApi } from "../../../src/extension/extension";
import { runsList, type RunStatusParams } from "../../../src/protocol";
import type { RunState } from "../../../src/protocol/runs";

const EXTENSION_ID = "hyperat.hyperat";

function folder(): string {
  const f = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
  assert.ok(f, "the e2e workspace folder is open");
  return f;
}

/** Resolves with the first run.status notification that satisfies `pred`. */
function waitForStatus(api: HyperatApi, pred: (s: RunStatusParams) => boolean, what: string, timeoutMs = 150_000): Promise<RunStatusParams> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      sub.dispose();
      reject(new Error(`timed out after ${timeoutMs / 1000}s waiting for ${what}`));
    }, timeoutMs);
    const sub = api.ctx.daemon!.onRunStatus.event((s) => {
      if (!pred(s)) return;
      clearTimeout(timer);
      sub.dispose();
      resolve(s);
    });
  });
}

/** Polls `probe` until it returns a value; the error names what was awaited. */
async function poll<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const v = await probe();
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`timed out after ${timeoutMs / 1000}s waiting for ${what}`);
}

async function state(api: HyperatApi, runId: string): Promise<RunState | undefined> {
  return (await api.ctx.explorer.reader.listRuns()).find((r) => r.id === runId)?.state;
}

/** Defines the suite; call after mocha's pre-require has set up describe/it globals. */
export function defineRunSuite(): void {
  describe("HyperAT in the extension host", () => {
    let api: HyperatApi;
    let runId: string;

    before(async () => {
      const ext = vscode.extensions.getExtension<HyperatApi>(EXTENSION_ID);
      assert.ok(ext, `${EXTENSION_ID} is installed`);
      api = (await ext.activate())!;
      assert.ok(api?.ctx, "activate() returned the test API (activation did not fail)");
    });

    it("registers every command, all in the palette", async () => {
      const all = new Set(await vscode.commands.getCommands(true));
      const pkg = vscode.extensions.getExtension(EXTENSION_ID)!.packageJSON as { contributes: { commands: Array<{ command: string }> } };
      const missing = pkg.contributes.commands.map((c) => c.command).filter((c) => !all.has(c));
      assert.deepEqual(missing, []);
      assert.ok(pkg.contributes.commands.length >= 12);
    });

    it("starts a run from the config and reports training steps", async () => {
      const config = vscode.Uri.file(join(folder(), "demo.hyperat.json"));
      const stepped = waitForStatus(api, (s) => s.state === "running" && s.step > 0, "a running step > 0").catch(() => undefined);
      const metric = new Promise<number>((resolve) => {
        const sub = api.ctx.daemon!.onRunMetrics.event((m) => {
          sub.dispose();
          resolve(m.step);
        });
      });
      runId = (await vscode.commands.executeCommand<string>("hyperat.startRun", config))!;
      assert.match(runId, /\S/, "startRun returned a run id");
      assert.ok(existsSync(join(folder(), ".hyperat", "runs", runId, "run.json")), "the run folder has run.json");
      const first = await Promise.race([metric, stepped.then(() => 1)]);
      assert.ok(first >= 1, "a metrics notification arrived");
      assert.equal(api.ctx.daemon!.running, true);
    });

    it("shows the run in the Runs tree with a state context value and step/total", async () => {
      api.ctx.explorer.refresh();
      const roots = await api.ctx.explorer.getChildren();
      const node = roots.find((n) => n.runId === runId);
      assert.ok(node, "the run is a root of the tree");
      assert.match(node.contextValue, /^hyperat\.run\.(queued|running|pausing|paused|completed)$/);
      // The phase (issue 16): "pretraining n/N", "training n/N", "validating at step n", or the
      // settled state with "step n/N"; then the config file; the label is "name · HH:MM".
      assert.match(node.description ?? "", /^(⚠ )?(daemon starting|pretraining( \d+\/\d+)?|training \d+\/\d+|validating at step \d+|(queued|pausing|paused|completed) · step \d+\/\d+) · demo\.hyperat\.json/);
      assert.match(node.label, /^demo · (\d\d-\d\d )?\d\d:\d\d$/);
      assert.match(node.tooltip ?? "", new RegExp(`\\(${runId}\\)`));
      const groups = await api.ctx.explorer.getChildren(node);
      assert.deepEqual(groups.map((g) => g.label), ["Defenses", "Checkpoints", "Base model", "Adapters", "Merged models", "Reports"]);
      const defenses = await api.ctx.explorer.getChildren(groups[0]);
      assert.deepEqual(defenses.map((d) => d.label), ["pgd-at", "trades", "mart"]);
    });

    it("pauses at a step boundary and resumes", async () => {
      const current = await state(api, runId);
      if (current === "completed") return; // a very fast machine finished already; merge still runs below
      const paused = waitForStatus(api, (s) => s.runId === runId && s.state === "paused", "paused");
      await vscode.commands.executeCommand("hyperat.pauseRun", runId);
      const p = await paused;
      assert.equal(await state(api, runId), "paused");
      const running = waitForStatus(api, (s) => s.runId === runId && (s.state === "running" || s.state === "completed"), "running again");
      await vscode.commands.executeCommand("hyperat.resumeRun", runId);
      const r = await running;
      assert.ok(r.step >= p.step, `resumed at step ${r.step}, paused at ${p.step}`);
    });

    it("merges the run (uniform) into merged/", async () => {
      // Pause again (or let it complete) so the run is in a mergeable state.
      if ((await state(api, runId)) !== "completed") {
        const stopped = waitForStatus(api, (s) => s.runId === runId && (s.state === "paused" || s.state === "completed"), "paused for merge");
        await vscode.commands.executeCommand("hyperat.pauseRun", runId).then(undefined, () => undefined);
        await stopped;
      }
      const merge = await vscode.commands.executeCommand<{ modelPath: string; strategy: string }>("hyperat.mergeRun", runId, "uniform");
      assert.ok(merge, "mergeRun answered");
      assert.equal(merge.strategy, "uniform");
      assert.ok(existsSync(merge.modelPath), `${merge.modelPath} exists`);
    });

    it("shows an evaluation's progress, and a cancelled evaluation leaves the run as it was with no report or examples", async () => {
      const dir = join(folder(), ".hyperat", "runs", runId);
      const before = await state(api, runId);
      assert.ok(before === "paused" || before === "completed", `mergeable state before: ${before}`);
      const progress: string[] = [];
      const sub = api.ctx.daemon!.onProgress.event((e) => progress.push(JSON.stringify(e)));
      const evaluating = waitForStatus(api, (s) => s.runId === runId && s.state === "evaluating", "the evaluating phase");
      // The full suite, so the evaluation is still running when the cancel arrives.
      const evaluation = Promise.resolve(vscode.commands.executeCommand("hyperat.evaluateRun", runId, "full")).then((r) => ({ r }), (e: Error) => ({ e }));
      await evaluating;
      api.ctx.explorer.refresh();
      const row = (await api.ctx.explorer.getChildren()).find((n) => n.runId === runId);
      assert.match(`${row?.description ?? ""} ${row?.contextValue ?? ""}`, /evaluat/, "the tree row shows the evaluating phase");
      const back = waitForStatus(api, (s) => s.runId === runId && s.state === before, `the run back to ${before}`);
      await vscode.commands.executeCommand("hyperat.cancelOperation", runId);
      await back;
      const outcome = await evaluation;
      sub.dispose();
      assert.ok(!("r" in outcome) || outcome.r === undefined, "the cancelled evaluation returned no report");
      assert.ok(progress.length > 0, "hyperat/progress notifications arrived during the evaluation");
      assert.equal(await state(api, runId), before);
      const left = readdirSync(dir).filter((f) => /^report\.|^examples\.|\.tmp/.test(f));
      assert.deepEqual(left, [], "nothing half-written in the run folder");
    });

    it("Evaluate This Model and Export… on the merged model's row (issue 16 item 5)", async () => {
      const dir = join(folder(), ".hyperat", "runs", runId);
      api.ctx.explorer.refresh();
      const run = (await api.ctx.explorer.getChildren()).find((n) => n.runId === runId)!;
      const mergedGroup = (await api.ctx.explorer.getChildren(run)).find((g) => g.label === "Merged models")!;
      const row = (await api.ctx.explorer.getChildren(mergedGroup)).find((n) => n.label === "uniform merge");
      assert.ok(row, "the uniform merge has a row");
      assert.match(row.contextValue, /^hyperat\.model\.merged\.(paused|completed)$/);
      const hadRunReport = existsSync(join(dir, "report.json"));
      // As the context menu calls it: with the row.
      const result = await vscode.commands.executeCommand<{ reportPath: string; records: Array<{ target: string }> }>("hyperat.evaluateModel", row);
      assert.ok(result, "evaluateModel answered");
      assert.match(result.reportPath.slice(dir.length + 1), /^reports\/merged-uniform-[^/]+\/report\.json$/);
      const report = JSON.parse(readFileSync(result.reportPath, "utf8")) as { model: unknown };
      assert.deepEqual(report.model, { kind: "merged", strategy: "uniform" });
      assert.deepEqual(result.records.map((r) => r.target), ["uniform"]);
      assert.equal(existsSync(join(dir, "report.json")), hadRunReport, "the run's own report.json is not written by one model's evaluation");
      const parent = join(folder(), "exported");
      const out = await vscode.commands.executeCommand<{ dest: string; files: string[] }>("hyperat.exportModel", row, parent, "timm");
      assert.ok(out, "exportModel answered");
      assert.equal(out.dest, join(parent, "demo-merged-uniform"));
      for (const f of out.files) assert.ok(readFileSync(join(out.dest, f)).equals(readFileSync(join(dir, "merged", "uniform", f))), `${f} byte-identical`);
      assert.ok(out.files.includes("model.safetensors") && out.files.includes("config.json"), out.files.join(", "));
    });

    it("a run started from a terminal (CLI) appears in the tree and its step advances live", async () => {
      const known = new Set((await api.ctx.explorer.reader.listRuns()).map((r) => r.id));
      const cli = join(vscode.extensions.getExtension(EXTENSION_ID)!.extensionPath, "dist", "cli.js");
      const child = spawn(process.execPath, [cli, "train", join(folder(), "demo.hyperat.json"), "--workspace", folder()], { stdio: "ignore" });
      const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
      try {
        const stepOfRow = async (): Promise<{ id: string; step: number } | undefined> => {
          const node = (await api.ctx.explorer.getChildren()).find((n) => n.runId && !known.has(n.runId));
          const m = /\b(?:step|training) (\d+)\/\d+/.exec(node?.description ?? "");
          return node?.runId && m ? { id: node.runId, step: Number(m[1]) } : undefined;
        };
        // No refresh calls: the tree must follow the CLI's run.json through its file watcher.
        const first = await poll("the CLI run's row with a step", stepOfRow, 150_000);
        const later = await poll("the CLI run's step to advance", async () => {
          const s = await stepOfRow();
          return s && s.step > first.step ? s : undefined;
        }, 150_000);
        assert.equal(later.id, first.id);
      } finally {
        child.kill("SIGTERM");
        await exited;
      }
    });

    it("evaluates the run (quick suite), writes report.json + report.md and lists the report in the tree", async () => {
      const result = await vscode.commands.executeCommand<{ reportPath: string; records: Array<{ target: string; worstCaseRobustAccuracy: number }> }>("hyperat.evaluateRun", runId, "quick");
      assert.ok(result, "evaluateRun answered");
      assert.ok(existsSync(result.reportPath), `${result.reportPath} exists`);
      assert.ok(existsSync(join(folder(), ".hyperat", "runs", runId, "report.md")), "report.md exists");
      assert.ok(result.records.length > 0, "at least one evaluated model");
      for (const r of result.records) assert.ok(r.worstCaseRobustAccuracy >= 0 && r.worstCaseRobustAccuracy <= 1, `${r.target}: ${r.worstCaseRobustAccuracy}`);
      api.ctx.explorer.refresh();
      const run = (await api.ctx.explorer.getChildren()).find((n) => n.runId === runId)!;
      const reports = (await api.ctx.explorer.getChildren(run)).find((g) => g.label === "Reports")!;
      const files = (await api.ctx.explorer.getChildren(reports)).map((f) => f.label);
      assert.ok(files.includes("report.md"), files.join(", "));
    });

    it("restarts the daemon when it dies", async () => {
      const daemon = api.ctx.daemon!;
      const pid = daemon.pid;
      assert.ok(pid, "the daemon runs");
      const back = new Promise<void>((resolve) => {
        const sub = daemon.onRunning.event((up) => {
          if (!up) return;
          sub.dispose();
          resolve();
        });
      });
      process.kill(pid, "SIGKILL");
      await back;
      assert.notEqual(daemon.pid, pid, "a new daemon process");
      const runs = await daemon.request(runsList);
      assert.ok(runs.runs.some((r) => r.id === runId), "the new daemon lists the run");
    });

    it("clears the status bar's active run when the daemon dies while training", async () => {
      const daemon = api.ctx.daemon!;
      const config = vscode.Uri.file(join(folder(), "demo.hyperat.json"));
      const stepped = waitForStatus(api, (s) => s.state === "running" && s.step > 0, "a checkpoint while running");
      const crashId = (await vscode.commands.executeCommand<string>("hyperat.startRun", config))!;
      await stepped;
      const deadline = Date.now() + 30_000; // a condition with room for a loaded 2-core machine
      while (api.ctx.statusBar.activeRun?.id !== crashId && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      assert.equal(api.ctx.statusBar.activeRun?.id, crashId, "the status bar shows the training run");
      const down = new Promise<void>((resolve) => {
        const sub = daemon.onRunning.event((up) => {
          if (up) return;
          sub.dispose();
          resolve();
        });
      });
      process.kill(daemon.pid!, "SIGKILL");
      await down;
      assert.equal(api.ctx.statusBar.activeRun, undefined, "no active run once the daemon is gone");
      await new Promise<void>((resolve) => {
        if (daemon.running) return resolve();
        const sub = daemon.onRunning.event((up) => up && (sub.dispose(), resolve()));
      });
      assert.notEqual(await state(api, crashId), "running", "the tree does not show the killed run as running");
    });

    it("Start Run trains the active editor's config when several exist; a daemon config error is a diagnostic at its JSON path", async () => {
      const demo = JSON.parse(readFileSync(join(folder(), "demo.hyperat.json"), "utf8")) as Record<string, unknown> & { training: Record<string, unknown> };
      const two = join(folder(), "two.hyperat.json");
      writeFileSync(two, JSON.stringify({ ...demo, name: "two", training: { ...demo.training, steps: "x" } }, null, 2));
      await vscode.window.showTextDocument(await vscode.workspace.openTextDocument(two));
      // No argument: the command must take two.hyperat.json (the active editor), not demo (the last used).
      const refused = await vscode.commands.executeCommand<string | undefined>("hyperat.startRun");
      assert.equal(refused, undefined, "the daemon refused the config");
      const deadline = Date.now() + 30_000; // a condition with room for a loaded 2-core machine
      let d: vscode.Diagnostic | undefined;
      while (!d && Date.now() < deadline) {
        d = vscode.languages.getDiagnostics(vscode.Uri.file(two)).find((x) => x.source === "hyperat (daemon)");
        if (!d) await new Promise((r) => setTimeout(r, 100));
      }
      assert.ok(d, "a diagnostic from the daemon's error");
      assert.equal(d.code, "/training/steps");
      assert.equal(d.severity, vscode.DiagnosticSeverity.Error);
      const doc = await vscode.workspace.openTextDocument(two);
      assert.equal(doc.getText(d.range), '"x"');
      writeFileSync(two, JSON.stringify({ ...demo, name: "two", training: { ...demo.training, steps: 3 } }, null, 2));
      await new Promise((r) => setTimeout(r, 500)); // the open editor reloads the file from disk
      const id = await vscode.commands.executeCommand<string>("hyperat.startRun");
      assert.ok(id && /two/.test(id), `the run is two's: ${id}`);
      const run = JSON.parse(readFileSync(join(folder(), ".hyperat", "runs", id, "run.json"), "utf8")) as { configPath: string };
      assert.equal(run.configPath, two);
      await vscode.commands.executeCommand("hyperat.stopRun", id).then(undefined, () => undefined);
    });

    it('squiggles "eps": "9/0" as an error from the shared fraction parser', async () => {
      const bad = join(folder(), "zero.hyperat.json");
      writeFileSync(bad, JSON.stringify({ attack: { eps: "9/0" } }, null, 2));
      const doc = await vscode.workspace.openTextDocument(bad);
      await vscode.window.showTextDocument(doc);
      // A condition, not a sleep: 10 s was once too short on a loaded 2-core machine.
      const deadline = Date.now() + 30_000;
      let d: vscode.Diagnostic | undefined;
      while (!d && Date.now() < deadline) {
        d = vscode.languages.getDiagnostics(doc.uri).find((x) => x.source === "hyperat" && /division by zero/.test(x.message));
        if (!d) await new Promise((r) => setTimeout(r, 200));
      }
      assert.ok(d, "a hyperat diagnostic for 9/0");
      assert.equal(d.severity, vscode.DiagnosticSeverity.Error);
      assert.equal(doc.getText(d.range), '"9/0"');
    });

    it("reports semantic config problems as diagnostics", async () => {
      const bad = join(folder(), "bad.hyperat.json");
      writeFileSync(bad, JSON.stringify({ attack: { eps: 8 }, data: { train: "missing/train.bin" } }, null, 2));
      const doc = await vscode.workspace.openTextDocument(bad);
      await vscode.window.showTextDocument(doc);
      const deadline = Date.now() + 30_000; // a condition with room for a loaded 2-core machine
      let messages: string[] = [];
      while (Date.now() < deadline) {
        messages = vscode.languages.getDiagnostics(doc.uri).filter((d) => d.source === "hyperat").map((d) => d.message);
        if (messages.length >= 2) break;
        await new Promise((r) => setTimeout(r, 200));
      }
      assert.ok(messages.some((m) => /attack\.eps = 8 is larger than 1/.test(m)), messages.join("; "));
      assert.ok(messages.some((m) => /train data not found/.test(m)), messages.join("; "));
    });
  });
}
