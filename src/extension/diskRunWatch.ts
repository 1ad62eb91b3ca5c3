// The early warnings (runWatch.ts) for runs the daemon does not stream: CLI runs, a shared folder
// written elsewhere, and every run after a window reload (the new connection streams only what
// comes next). Their metrics.jsonl is read from the last offset (metricsTail.ts) into the same
// RunWatch the daemon's notifications feed, so the tree and the status bar judge a flat loss with
// one function (src/protocol/trainingChecks.ts) whichever way the steps arrived. Pure (no vscode).
import { join } from "node:path";
import { METRICS_FILE } from "../daemon/runStore";
import type { MetricsLine, RunSummary } from "../protocol/runs";
import { MetricsTail } from "./metricsTail";
import type { RunWatch } from "./runWatch";
import type { RunReader } from "./runExplorer";

type RunRef = Pick<RunSummary, "id" | "dir">;

export class DiskRunWatch {
  private readonly tails = new Map<string, MetricsTail>();
  /** Per run, the read in flight: two reads of one tail at once would both advance its offset. */
  private readonly reading = new Map<string, Promise<void>>();

  constructor(
    private readonly watch: RunWatch,
    private readonly onError: (runId: string, e: Error) => void = () => {},
  ) {}

  /** Whether `runId`'s file was read at least once (its start is in the watch). */
  hasRead(runId: string): boolean {
    return this.tails.has(runId);
  }

  /** Feeds what the run's metrics.jsonl gained since the last call; never throws (onError). */
  sync(run: RunRef): Promise<void> {
    const next = (this.reading.get(run.id) ?? Promise.resolve()).then(() => this.read(run)).catch((e: Error) => this.onError(run.id, e));
    this.reading.set(run.id, next);
    return next.finally(() => this.reading.get(run.id) === next && this.reading.delete(run.id));
  }

  /**
   * Every listed run: read from disk unless the daemon streams it; a streamed run is still read
   * once, so a reload does not lose the start of its series (the flat-loss check compares with
   * it). Replaying steps the daemon already streamed is harmless: RunWatch replaces a step it
   * sees again. Runs no longer listed (deleted, archived) are dropped.
   */
  async syncRuns(runs: readonly RunRef[], streamed: (runId: string) => boolean): Promise<void> {
    const listed = new Set(runs.map((r) => r.id));
    for (const id of [...this.tails.keys()]) {
      if (listed.has(id)) continue;
      this.tails.delete(id);
      this.watch.forget(id);
    }
    await Promise.all(runs.filter((r) => !streamed(r.id) || !this.hasRead(r.id)).map((r) => this.sync(r)));
  }

  private async read(run: RunRef): Promise<void> {
    const file = join(run.dir, METRICS_FILE);
    let tail = this.tails.get(run.id);
    if (!tail || tail.file !== file) this.tails.set(run.id, (tail = new MetricsTail(file)));
    for (;;) {
      const chunk = await tail.read();
      // A replaced file: what was read from the old one no longer describes the run.
      if (chunk.reset) this.watch.forget(run.id);
      for (const line of chunk.lines) this.feed(run.id, line);
      if (!chunk.more) return;
    }
  }

  private feed(runId: string, l: MetricsLine): void {
    if (l.kind === "step" && typeof l.step === "number" && typeof l.loss === "number") this.watch.metric(runId, l.step, l.loss);
    else if (l.kind === "resume" && typeof l.fromStep === "number") this.watch.resume(runId, l.fromStep);
    else if (l.kind === "baseModel") {
      const { kind: _k, time: _t, ...record } = l;
      this.watch.baseModel(runId, record);
    }
  }
}

/** `reader` whose run list first brings the disk warnings up to date, so every view that lists
 * runs (the tree's rows, the status bar's active run) reads current flags. */
export function warningsReader(reader: RunReader, disk: DiskRunWatch, streamed: (runId: string) => boolean): RunReader {
  return {
    async listRuns() {
      const runs = await reader.listRuns();
      await disk.syncRuns(runs, streamed);
      return runs;
    },
    readRun: (runId) => reader.readRun(runId),
  };
}
