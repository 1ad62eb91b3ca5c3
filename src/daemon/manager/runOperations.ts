// Operations on a run's saved state: merge and evaluate. While one works the run shows
// `merging`/`evaluating`, and returns to its state before when it ends, fails or is cancelled.
import type { MergeStrategy } from "../../core/config/types";
import * as path from "node:path";
import type { CheckpointRef, MergeRecord, RunState } from "../../protocol/runs";
import type { RunEvaluateResult } from "../../protocol/methods";
import { runCommandAccepted } from "../../protocol/runStates";
import { modelReportDir, modelSlug, type ModelSelector } from "../../protocol/modelSelector";
import { assertRunHasModel } from "../runModels";
import type { EngineProgress } from "../compute/contract";
import type { ComputeHost } from "../compute/inProcess";
import { InvalidStateError, OperationCancelledError } from "../errors";
import { explainError } from "../../core/engineErrors";
import { extractEvaluationRecords } from "../report";
import type { ManagerEvent, ProgressTokens } from "./events";
import type { HostPool } from "./hostPool";
import { settle, type LiveRun } from "./liveRun";
import type { RunRecorder } from "./runRecorder";

export interface RunOperationsDeps {
  recorder: RunRecorder;
  hosts: HostPool;
  tokens: ProgressTokens;
  emit: (e: ManagerEvent) => void;
}

export class RunOperations {
  constructor(private readonly deps: RunOperationsDeps) {}

  async merge(run: LiveRun, strategy: MergeStrategy, from: CheckpointRef = "latest"): Promise<MergeRecord> {
    return this.withOperation(run, "merging", `Merging ${run.id} (${strategy}, ${from})`, async (host, onProgress, signal) => {
      const out = await host.merge(run.dir, run.cfg, strategy, onProgress, from, signal);
      const record: MergeRecord = {
        strategy,
        modelPath: out.modelPath,
        ...(out.lambdas ? { lambdas: out.lambdas } : {}),
        ...(out.objective ? { objective: out.objective } : {}),
        from,
        ...(out.step !== undefined ? { step: out.step } : {}),
        time: new Date().toISOString(),
      };
      await this.deps.recorder.appendLines(run, [{ kind: "merge", ...record }]);
      return record;
    });
  }

  /** With `model`, only that model, its report in reports/<model>-<time>/ (the run's report.json stays). */
  async evaluate(run: LiveRun, attacks?: string, from: CheckpointRef = "latest", model?: ModelSelector): Promise<RunEvaluateResult> {
    const only = model ? { model, reportDir: modelReportDir(model, new Date()) } : undefined;
    const title = `Evaluating ${model ? `${modelSlug(model)} of ` : ""}${run.id} (${from})`;
    return this.withOperation(run, "evaluating", title, async (host, onProgress, signal) => {
      // The engine writes report.json and report.md (src/daemon/compute/contract.ts); this records the result.
      const report = await host.evaluate(run.dir, run.cfg, attacks, onProgress, from, signal, only);
      const reportPath = path.join(run.dir, ...(only ? only.reportDir.split("/") : []), "report.json");
      const records = extractEvaluationRecords(report);
      await this.deps.recorder.appendLines(run, [{ kind: "evaluationReport", reportPath, records, ...(model ? { model } : {}), time: new Date().toISOString() }]);
      for (const r of records) this.deps.recorder.recordEvaluation(run, { ...r, split: "test" });
      return { reportPath, records, report };
    }, model ? () => assertRunHasModel(run.dir, { ...run.manifest, id: run.id }, model) : undefined);
  }

  /** Merge/evaluate: allowed on finished or paused runs; the run shows `state` meanwhile, with
   * the state it came from kept in `operation` (so readers fall back to it if this process dies),
   * and returns to where it was; progress in LSP's begin/report/end shape, cancellable through
   * `cancel` (the engine checks the signal between batches / λ steps and writes nothing). */
  private async withOperation<T>(
    run: LiveRun,
    state: "merging" | "evaluating",
    title: string,
    op: (host: ComputeHost, onProgress: (p: EngineProgress) => void, signal: AbortSignal) => Promise<T>,
    /** Throws when the request cannot be done, after the state rules and before the state changes. */
    check?: () => Promise<void>,
  ): Promise<T> {
    await settle(run);
    const before = run.manifest.state;
    const verb = state === "merging" ? "merge" : "evaluate";
    if (!runCommandAccepted(verb, before) || run.task) throw new InvalidStateError(run.id, before, verb);
    await check?.();
    // The check awaited: another request may have started an operation meanwhile.
    if (run.task || run.manifest.state !== before) throw new InvalidStateError(run.id, run.manifest.state, verb);
    const back: RunState = before === "interrupted" ? "stopped" : before;
    const backMessage = run.manifest.message;
    const token = this.deps.tokens.next(run.id, state);
    const operation = verb;
    const host = this.deps.hosts.acquire();
    const controller = new AbortController();
    run.operation = controller;
    let healthy = true;
    const work = (async () => {
      run.manifest.operation = { kind: state, previousState: back, startedAt: new Date().toISOString() };
      await this.deps.recorder.setState(run, state);
      this.deps.emit({ type: "progress", token, runId: run.id, operation, value: { kind: "begin", title, cancellable: true } });
      try {
        const result = await op(host, (p) =>
          this.deps.emit({ type: "progress", token, runId: run.id, operation, value: { kind: "report", message: p.message ?? p.title, percentage: p.percentage } }),
        controller.signal);
        this.deps.emit({ type: "progress", token, runId: run.id, operation, value: { kind: "end", message: "done" } });
        run.manifest.operation = undefined;
        await this.deps.recorder.setState(run, back, backMessage);
        return result;
      } catch (e) {
        run.manifest.operation = undefined;
        if (controller.signal.aborted) {
          // The engine stopped at a batch / λ-step boundary before writing: the worker is sound.
          this.deps.emit({ type: "progress", token, runId: run.id, operation, value: { kind: "end", message: "cancelled" } });
          await this.deps.recorder.setState(run, back, backMessage);
          throw new OperationCancelledError(run.id, state === "merging" ? "the merge" : "the evaluation");
        }
        healthy = false;
        const msg = `${state === "merging" ? "merge" : "evaluation"} failed: ${explainError(e).message}`;
        this.deps.emit({ type: "progress", token, runId: run.id, operation, value: { kind: "end", message: msg } });
        await this.deps.recorder.setState(run, back, msg);
        throw e;
      } finally {
        if (run.operation === controller) run.operation = undefined;
        await this.deps.hosts.release(host, healthy);
      }
    })();
    run.task = work;
    try {
      return await work;
    } finally {
      if (run.task === work) run.task = undefined;
    }
  }
}
