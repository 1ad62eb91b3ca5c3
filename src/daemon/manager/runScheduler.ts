// The scheduler: queued runs wait here and start training while fewer than maxConcurrentRuns
// train; merges and evaluations do not count against that limit.
import type { LiveRun } from "./liveRun";

export interface RunSchedulerOptions {
  maxConcurrentRuns: number;
  /** The runs the manager holds, by id. */
  runs: ReadonlyMap<string, LiveRun>;
  isClosed: () => boolean;
  /** The training loop (manager/trainingLoop.ts). */
  train: (run: LiveRun) => Promise<void>;
  /** Called once a run's training task has ended and the next runs were started. */
  onTrainingEnd: (run: LiveRun) => void;
}

export class RunScheduler {
  private readonly queue: string[] = [];

  constructor(private readonly opts: RunSchedulerOptions) {}

  /** Puts the run at the end of the queue; it starts at the next schedule(). */
  enqueue(run: LiveRun): void {
    this.queue.push(run.id);
  }

  dequeue(run: LiveRun): void {
    const i = this.queue.indexOf(run.id);
    if (i >= 0) this.queue.splice(i, 1);
  }

  has(runId: string): boolean {
    return this.queue.includes(runId);
  }

  get length(): number {
    return this.queue.length;
  }

  /** Empties the queue (shutdown); returns the ids that were waiting, in order. */
  drain(): string[] {
    return this.queue.splice(0);
  }

  /** Starts queued runs while there is room. */
  schedule(): void {
    while (!this.opts.isClosed() && this.queue.length > 0 && this.trainingCount() < this.opts.maxConcurrentRuns) {
      const run = this.opts.runs.get(this.queue.shift()!);
      if (!run || run.manifest.state !== "queued") continue;
      const task = this.opts.train(run);
      run.task = task;
      void task.finally(() => {
        if (run.task === task) run.task = undefined;
        this.schedule();
        this.opts.onTrainingEnd(run);
      });
    }
  }

  private trainingCount(): number {
    return [...this.opts.runs.values()].filter((r) => r.task && r.manifest.state !== "merging" && r.manifest.state !== "evaluating").length;
  }
}
