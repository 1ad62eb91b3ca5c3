import * as path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { RunConfig } from "../../core/config/types";
import { Dataset } from "../../core/data/types";
import { EvalResult } from "../../core/evaluate/evaluator";
import { subset } from "../../core/data/types";
import { ViTConfig } from "../../core/model/config";
import { evaluateJobs, paramsToJob } from "./evalPool";
import { EvalJob } from "./evalJob";
import { resolveWorkers } from "../parallel/workerCount";
import { resolveAttackList } from "../../core/evaluate/presets";
import { loadModelSpec } from "../../core/model/modelSource";
import { ParamMap, disposeParams } from "../../core/model/params";
import { countTrainableParams } from "../../core/train/paramCount";
import { activeBackend, describeBackend, deviceFacts } from "../../core/backend/select";
import { writeFileAtomic } from "../../core/io/files";
import { CancelSignal, EngineProgress } from "../compute/contract";
import { HyperatSession } from "./trainSession";
import { fitEvaluationBatch } from "../../core/evaluate/batchMemory";
import { workersThatFit } from "../../core/memory/workersThatFit";
import { memoryLimit } from "../../core/memory/limits";
import { hostMemoryFor, planConfigOf } from "./memoryPlan";
import { listMergedModels, refreshModelCards } from "./exports";
import { robustbenchEntry } from "./robustbench";
import { CheckpointRef } from "../../protocol/runs";
import { renderRunReport } from "./runReport";
import { EXAMPLES_FILE, examplesTensors, examplesToKeep } from "../../core/evaluate/examplesFile";
import { writeSafetensorsFile } from "../../core/io/files";
import { copyPixels } from "../../core/data/types";
import type { ModelEvaluation, RunReport } from "../../core/evaluate/runReportJson";
import type { ModelEvaluationTarget } from "../compute/contract";
import type { ModelSelector } from "../../protocol/modelSelector";
import { pickModel, writeModelReport } from "./modelReport";

interface Variant {
  name: string;
  target: string;
  checkpoint?: string;
  trainableParams: number;
  /** What "Evaluate This Model" calls it (src/protocol/modelSelector.ts); full-at's model has none. */
  model?: ModelSelector;
  /** Builds the model's parameters; `own` are the new tensors the caller disposes. */
  build: () => Promise<{ vit: ViTConfig; params: ParamMap; own: ParamMap }>;
}

/** The models of a run worth comparing, in the order the report lists them. */
async function variants(runDir: string, cfg: RunConfig, session: HyperatSession): Promise<Variant[]> {
  const vit = session.backbone.vit;
  const tunable = session.trainer.args.tunable;
  const counted = countTrainableParams(cfg, vit)!;
  const out: Variant[] = [
    {
      name: "pretrained",
      target: "pretrained",
      checkpoint: session.backbone.source,
      trainableParams: counted.backbone,
      model: { kind: "base" },
      build: async () => ({ vit, params: session.backbone.params, own: {} }),
    },
  ];
  const label = tunable.method === "hyperat" ? "hyperat-lora" : tunable.method;
  if (tunable.method !== "full-at") {
    cfg.defenses.forEach((d, t) =>
      out.push({
        name: `${label}-${d.name}`,
        target: d.name,
        trainableParams: counted.trainable,
        model: { kind: "adapter", defense: d.name },
        build: async () => {
          const folded = tf.tidy(() => session.trainer.foldedParams(t));
          const base = tunable.params();
          const own = Object.fromEntries(Object.entries(folded).filter(([k, v]) => base[k] !== v));
          return { vit, params: folded, own };
        },
      }),
    );
  } else {
    out.push({ name: "full-at", target: "full-at", trainableParams: counted.trainable, build: async () => ({ vit, params: tunable.params(), own: {} }) });
  }
  // Merged models are evaluated as the files users get, loaded back from disk (both layouts).
  for (const { strategy, file } of await listMergedModels(runDir)) {
    out.push({
      name: `${tunable.method === "hyperat" ? "hyperat" : tunable.method}-${strategy}`,
      target: strategy,
      checkpoint: file,
      trainableParams: counted.trainable,
      model: { kind: "merged", strategy },
      build: async () => {
        // Through its config.json, as timm and plain PyTorch users load the folder.
        const loaded = await loadModelSpec(file);
        return { vit: loaded.config, params: loaded.params, own: loaded.params };
      },
    });
  }
  return out;
}

/**
 * The suite a run's final report uses when the call names none: the config's, where "auto"
 * (the default) is `standard` (AutoAttack's standard version) from n = 1000 test images up and
 * `quick` below, where a report is a preview rather than a robustness claim.
 */
export function defaultSuite(cfg: RunConfig): string {
  const a = cfg.evaluation.attacks;
  if (a !== "auto") return a;
  return cfg.evaluation.n >= 1000 ? "standard" : "quick";
}

/** The report's note on what its suite can claim. */
export function suiteNote(attacks: string): string | undefined {
  if (attacks.trim() === "quick") return "quick suite (PGD-20, CW-20): a preview, not a robustness claim; use the standard suite (AutoAttack's standard version) with n >= 1000 for that";
  return undefined;
}

/**
 * Evaluates every model of a run on the test split with one attack suite (each attack on the
 * survivors of the previous ones, per-sample worst case) and writes report.json and report.md
 * (their only writer). Returns the report.json document. With `only`, evaluates that one model
 * and writes its report.json, report.md and examples into `only.reportDir` (all or nothing),
 * leaving the run's own report, model cards and robustbench.json as they are.
 */
export async function evaluateRun(
  runDir: string,
  cfg: RunConfig,
  session: HyperatSession,
  test: Dataset,
  attacks: string,
  onProgress: (p: EngineProgress) => void,
  from: CheckpointRef = "latest",
  signal?: CancelSignal,
  only?: ModelEvaluationTarget,
): Promise<RunReport> {
  const list = resolveAttackList(attacks);
  const every = await variants(runDir, cfg, session);
  const all = only ? [pickModel(every, only.model)] : every;
  const n = Math.min(cfg.evaluation.n, test.n);
  const info = activeBackend();
  const backend = info?.backend ?? cfg.backend;
  // Every variant shares the backbone's shape: one plan before any model is built. A batch that
  // does not fit runs smaller (same results); a model that does not fit at 1 image is refused.
  const host = await hostMemoryFor(info);
  const fitted = fitEvaluationBatch(session.backbone.vit, planConfigOf(cfg), Math.min(cfg.evaluation.batchSize, n), memoryLimit(info ?? backend, host), "evaluation.batchSize", cfg.evaluation.batchSize);
  const pool = workersThatFit(Math.min(resolveWorkers(cfg.training.workers, info?.backend), all.length), fitted.bytes, host.freeBytes, { doing: "evaluating", holds: "a model and its attack batch" });
  const memoryNotes = [fitted.note, pool.note].filter((s): s is string => s !== undefined);
  for (const note of memoryNotes) onProgress({ title: `Evaluating ${all.length} models`, message: note });
  const data = subset(test, Array.from({ length: n }, (_, i) => i));
  const examples = examplesToKeep(data.height, data.width, all.length, n);
  const done = new Array<number>(all.length).fill(0);
  const jobs = all.map((v) => async (): Promise<EvalJob> => {
    const { vit, params, own } = await v.build();
    try {
      return { vit, params: await paramsToJob(params), attacks: list, eps: cfg.attack.eps, seed: cfg.seed, batchSize: fitted.batch, n, examples };
    } finally {
      disposeParams(own);
    }
  });
  const results = await evaluateJobs(jobs, data, {
    workers: pool.workers,
    backend,
    signal,
    onProgress: (i, p) => {
      done[i] = p.total > 0 ? p.done / p.total : 0;
      onProgress({ title: `Evaluating ${all.length} models`, message: `${all[i].name} ${p.attack}: ${p.message}`, percentage: (100 * done.reduce((a, b) => a + b, 0)) / all.length });
    },
  });
  const kept = results.map((r, i) => ({ target: all[i].target, name: all[i].name, examples: r.examples }));
  const examplesInto = (dir: string) => writeExamples(dir, data, kept, String(cfg.attack.eps), list, session.step);
  if (!only) await examplesInto(runDir);
  // The images live in examples.safetensors; report.json keeps the numbers.
  for (const r of results) delete r.examples;
  const models: ModelEvaluation[] = results.map((result, i) => ({
    name: all[i].name,
    target: all[i].target,
    step: session.step,
    cleanAccuracy: result.cleanAccuracy,
    robustAccuracy: result.robustAccuracy,
    worstCaseRobustAccuracy: result.worstCaseRobustAccuracy,
    trainableParams: all[i].trainableParams,
    seconds: result.seconds,
    checkpoint: all[i].checkpoint,
    warnings: result.warnings,
    result,
  }));
  const report: RunReport = {
    format: "hyperat-run-report",
    version: 1,
    generatedAt: new Date().toISOString(),
    run: cfg.name,
    method: cfg.method,
    defenses: cfg.defenses.map((d) => d.name),
    step: session.step,
    /** The checkpoint the LoRAs were evaluated at ("latest", "best", "step-N"). */
    from,
    data: cfg.data.test,
    threatModel: { norm: "Linf", eps: String(cfg.attack.eps) },
    suite: attacks,
    attacks: list,
    ...(suiteNote(attacks) ? { note: suiteNote(attacks) } : {}),
    backend: activeBackend()?.backend,
    ...(activeBackend() ? { compute: describeBackend(activeBackend()!) } : {}),
    ...(deviceFacts(activeBackend()) ? { device: deviceFacts(activeBackend()) } : {}),
    attackBatchSize: fitted.batch,
    ...(memoryNotes.length ? { memoryNotes } : {}),
    models,
    ...(only ? { model: only.model } : {}),
  };
  if (only) {
    await writeModelReport(runDir, only.reportDir, async (dir) => {
      await examplesInto(dir);
      await writeFileAtomic(path.join(dir, "report.json"), JSON.stringify(report, null, 2) + "\n");
      await writeFileAtomic(path.join(dir, "report.md"), renderRunReport(report));
    });
    return report;
  }
  await writeFileAtomic(path.join(runDir, "report.json"), JSON.stringify(report, null, 2) + "\n");
  await writeFileAtomic(path.join(runDir, "report.md"), renderRunReport(report));
  await refreshModelCards(
    runDir,
    models.map((m) => ({ target: m.target, ev: { n: m.result.n, attacks: list, cleanAccuracy: m.cleanAccuracy, robustAccuracy: m.robustAccuracy, worstCaseRobustAccuracy: m.worstCaseRobustAccuracy, suite: attacks, note: suiteNote(attacks), step: session.step } })),
  );
  const rb = robustbenchEntry(cfg, report.suite, list, models, session.backbone.vit);
  if (rb) await writeFileAtomic(path.join(runDir, "robustbench.json"), JSON.stringify(rb, null, 2) + "\n");
  return report;
}

/** examples.safetensors next to the report (atomic), from the models that kept examples. */
async function writeExamples(runDir: string, data: Dataset, kept: Array<{ target: string; name: string; examples?: EvalResult["examples"] }>, eps: string, attacks: string[], step: number): Promise<void> {
  const models = kept.filter((m): m is { target: string; name: string; examples: NonNullable<EvalResult["examples"]> } => m.examples !== undefined);
  if (models.length === 0) return;
  const k = models[0].examples.indices.length;
  const size = data.height * data.width * 3;
  const clean = new Float32Array(k * size);
  copyPixels(data.images, 0, k * size, clean, 0);
  const { tensors, metadata } = examplesTensors({ clean, labels: data.labels, eps, attacks, step, models });
  await writeSafetensorsFile(path.join(runDir, EXAMPLES_FILE), tensors, metadata);
}
