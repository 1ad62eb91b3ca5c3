import type { Command } from "commander";
import * as path from "node:path";
import { loadConfigWithFacts, toResolved } from "../../daemon/engine/configFile";
import { selectBackend, type BackendInfo } from "../../core/backend/select";
import { loadEngine } from "../../daemon/compute/loader";
import { MemoryLimitError } from "../../daemon/errors";
import { explainError } from "../../core/engineErrors";
import type { PreflightFacts } from "../../daemon/preflight";
import type { DataFacts } from "../../daemon/preflightData";

/**
 * `hyperat check CONFIG`: the checks `train` makes before it creates a run folder (issue 11
 * item 5, issue 15), and what they found, without training: the config and its schema, every
 * data spec's index or header, the model header, the backend, the memory plan and the step
 * count. The same code path as RunManager.start (src/daemon/runManager.ts), so it fails with
 * the same error `train` would give and exits 1.
 */
export interface CheckReport {
  ok: true;
  config: string;
  name: string;
  method: string;
  defenses: string[];
  backend: { requested: string; selected: string };
  model: PreflightFacts["model"];
  data: PreflightFacts["data"];
  attacks: PreflightFacts["attacks"];
  steps: PreflightFacts["steps"] & { batchSize: number };
  memory: { bytes: number; limitBytes: number; detail: string; fits: boolean };
}

export async function checkConfig(configPath: string): Promise<CheckReport> {
  const file = path.resolve(configPath); // as RunManager.start, so the messages are the same
  const { cfg, facts } = await loadConfigWithFacts(file);
  const rc = toResolved(cfg);
  const backend: BackendInfo = await selectBackend(cfg.backend);
  // Through the RunEngine interface (src/daemon/compute/contract.ts), awaited in case it becomes async.
  const mem = await loadEngine(undefined).estimateMemory(rc);
  if (mem.bytes > mem.limitBytes) throw new MemoryLimitError(mem.bytes, mem.limitBytes, mem.detail);
  return {
    ok: true,
    config: file,
    name: cfg.name,
    method: cfg.method,
    defenses: rc.defenses,
    backend: { requested: cfg.backend, selected: backend.backend },
    model: facts.model,
    data: facts.data,
    attacks: facts.attacks,
    steps: { ...facts.steps, batchSize: cfg.training.batchSize },
    memory: { ...mem, fits: true },
  };
}

const gib = (b: number) => `${(b / 2 ** 30).toFixed(2)} GiB`;
const dataLine = (d: DataFacts) => `${d.samples} samples (${d.kind}, ${d.source}${d.samples !== d.available && d.kind !== "synthetic" ? `, of ${d.available}` : ""})`;

function printReport(r: CheckReport): void {
  const m = r.model;
  console.log(`config:    ${r.config}: ok`);
  console.log(`run:       ${r.name}, ${r.method} with ${r.defenses.join(", ")}`);
  console.log(`backend:   ${r.backend.selected} (requested ${r.backend.requested})`);
  console.log(`model:     ${m.source === "file" ? m.name : `preset ${m.name}`}: width ${m.dim}, depth ${m.depth}, MLP ${m.mlpDim}${m.parameters !== undefined ? `, ${m.parameters} parameters` : ""}`);
  console.log(`train:     ${dataLine(r.data.train)}`);
  console.log(`val:       ${dataLine(r.data.val)}`);
  console.log(`test:      ${dataLine(r.data.test)}`);
  console.log(`attacks:   validation ${r.attacks.validation.join(", ")}; evaluation ${r.attacks.evaluationSuite} (${r.attacks.evaluation.join(", ")})`);
  const pre = r.steps.pretrain ? ` after ${r.steps.pretrain} clean pretraining steps (skipped when cached)` : "";
  console.log(`steps:     ${r.steps.training} at batch ${r.steps.batchSize} (${r.steps.epochs.toFixed(2)} epochs)${pre}`);
  console.log(`memory:    ${r.memory.bytes > 0 ? `${gib(r.memory.bytes)} estimated peak` : "no estimate"} of ${gib(r.memory.limitBytes)} (${r.memory.detail})`);
}

export function registerCheck(program: Command): void {
  program
    .command("check")
    .description("validate a *.hyperat.json as `train` would (data, model header, backend, memory plan, step count) without training")
    .argument("<config>", "path to a *.hyperat.json")
    .option("--json", "print the report (or the error) as JSON")
    .action(async (config: string, opts: { json?: boolean }) => {
      let report: CheckReport;
      try {
        report = await checkConfig(config);
      } catch (e) {
        if (!opts.json) throw e;
        const err = explainError(e) as Error & { jsonPath?: string; file?: string };
        console.log(JSON.stringify({ ok: false, error: { name: err.name, message: err.message, jsonPath: err.jsonPath, file: err.file } }, null, 2));
        process.exitCode = 1;
        return;
      }
      if (opts.json) console.log(JSON.stringify(report, null, 2));
      else printReport(report);
    });
}
