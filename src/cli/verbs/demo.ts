import type { Command } from "commander";
import * as path from "node:path";
import demoConfig from "../../../examples/demo.hyperat.json";
import { RunManager } from "../../daemon/runManager";
import { HyperatEngine } from "../../daemon/engine/hyperatEngine";
import { loadConfigFile } from "../../daemon/engine/configFile";
import { writeFileAtomic } from "../../core/io/files";
import { makeDirs } from "../../core/io/dirs";
import { disposeParams } from "../../core/model/params";
import { activeBackend, describeBackend } from "../../core/backend/select";
import { isBackendRequest } from "../../core/backend/names";
import { renderDemoTable, DEMO_ATTACKS } from "./demoReport";
import type { RunReport } from "../../core/evaluate/runReportJson";
import { ProgressLine } from "../progress";

interface DemoOptions {
  out: string;
  backend: string;
  steps?: string;
  cache: string;
}

/**
 * The README's main job: on the built-in synthetic data, clean-pretrain vit-micro (cached),
 * tune it with HyperAT over PGD-AT/TRADES/MART, merge uniform and adaptive, evaluate the
 * pretrained model, each defense's LoRA and both merges, and print/write the comparison.
 * It drives the same RunManager the daemon uses (one code path for a run).
 */
export function registerDemo(program: Command): void {
  program
    .command("demo")
    .description("run the full HyperAT pipeline on the built-in synthetic dataset and compare models")
    .option("--out <dir>", "output folder (config, run folder, report.json, report.md)", "demo-output")
    .option("--backend <name>", "auto | tensorflow-gpu | webgpu | tensorflow | wasm | cpu", "auto")
    .option("--steps <n>", "HyperAT steps (default: the demo config's)")
    .option("--cache <dir>", "where the clean-pretrained model is cached", ".hyperat/cache")
    .action(async (opts: DemoOptions) => runDemo(opts));
}

async function runDemo(opts: DemoOptions): Promise<void> {
  if (!isBackendRequest(opts.backend)) throw new Error(`--backend: unknown backend "${opts.backend}"`);
  const t0 = Date.now();
  const out = path.resolve(opts.out);
  await makeDirs(out); // not fs.mkdir recursive: spins below /proc
  const cfgJson = structuredClone(demoConfig) as Record<string, unknown> & { model: { pretrain: Record<string, unknown> }; training: Record<string, unknown> };
  delete cfgJson.$schema;
  cfgJson.backend = opts.backend;
  cfgJson.model.pretrain.cacheDir = path.resolve(opts.cache);
  if (opts.steps) cfgJson.training.steps = Number(opts.steps);
  const configPath = path.join(out, "demo.hyperat.json");
  await writeFileAtomic(configPath, JSON.stringify(cfgJson, null, 2) + "\n");

  // Pretraining (or the cache hit) happens here, in front of the user, with its own progress.
  const engine = new HyperatEngine();
  const cfg = await loadConfigFile(configPath);
  const bar = new ProgressLine();
  const pre0 = Date.now();
  const prepared = await engine.prepare(cfg, (p) => bar.update(p.title, p.percentage ?? 0, p.message ?? ""));
  bar.done(`pretrained model: ${prepared.backbone.notes.join("; ")}`);
  disposeParams(prepared.backbone.params); // the run loads its own copy from the cache
  const pretrainSeconds = (Date.now() - pre0) / 1000;
  const backend = activeBackend();
  console.log(`backend: ${backend ? describeBackend(backend) : "none"}`);

  const manager = new RunManager({ runsDir: path.join(out, "runs"), useWorkers: false });
  manager.onEvent((e) => {
    if (e.type === "metrics") bar.update(`HyperAT step ${e.step}/${cfgJson.training.steps}`, (100 * e.step) / Number(cfgJson.training.steps), `${e.defense.padEnd(7)} loss ${e.loss.toFixed(3)} adv acc ${(100 * e.advAcc).toFixed(0)}%`);
    else if (e.type === "progress" && e.value.kind === "report") bar.update("", e.value.percentage ?? 0, e.value.message ?? "");
    else if (e.type === "progress" && e.value.kind === "begin") bar.update(e.value.title, 0, "");
    else if (e.type === "log" && (e.level === "warn" || e.level === "error")) bar.log(`${e.level}: ${e.message}`);
  });
  try {
    const train0 = Date.now();
    const runId = await manager.start(configPath);
    await manager.idle();
    const run = await manager.get(runId);
    if (run.state !== "completed") throw new Error(`demo run ended ${run.state}${run.message ? `: ${run.message}` : ""}`);
    const trainSeconds = (Date.now() - train0) / 1000;
    bar.done(`HyperAT: ${run.step} steps in ${trainSeconds.toFixed(0)} s`);
    for (const strategy of ["uniform", "adaptive"] as const) {
      await manager.merge(runId, strategy);
      bar.done(`${strategy} merge done`);
    }
    const evaluation = await manager.evaluate(runId, DEMO_ATTACKS);
    bar.done("evaluation done");
    // The demo drives the HyperAT engine, whose report is a RunReport (src/core/evaluate/runReportJson.ts).
    const report = evaluation.report as RunReport;
    const totalSeconds = (Date.now() - t0) / 1000;
    const doc = {
      demo: "hyperat",
      backend: activeBackend()?.backend,
      attacks: DEMO_ATTACKS,
      pretrainSeconds,
      trainSeconds,
      totalSeconds,
      runDir: run.dir,
      models: report.models,
    };
    await writeFileAtomic(path.join(out, "report.json"), JSON.stringify(doc, null, 2) + "\n");
    const table = renderDemoTable(report.models);
    await writeFileAtomic(path.join(out, "report.md"), `# HyperAT demo\n\n${table}\n\nTotal ${totalSeconds.toFixed(0)} s on ${doc.backend}.\n`);
    console.log("\n" + table);
    console.log(`\nwrote ${path.join(out, "report.json")} and report.md; run folder ${run.dir}; total ${totalSeconds.toFixed(0)} s`);
  } finally {
    await manager.shutdown();
  }
}
