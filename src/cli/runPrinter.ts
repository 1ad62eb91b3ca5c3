// Shows RunManager events in a terminal: a cli-progress bar per training run on a TTY, plain
// throttled lines otherwise (CI logs, pipes). Everything goes to stderr; results go to stdout.
import { SingleBar, Presets } from "cli-progress";
import type { ManagerEvent, RunManager } from "../daemon/runManager";

export interface RunPrinterOptions {
  tty?: boolean;
  verbose?: boolean;
  /** Minimum milliseconds between plain step lines. */
  plainEveryMs?: number;
  write?: (line: string) => void;
}

export class RunPrinter {
  private bar?: SingleBar;
  private lastPlain = 0;
  private readonly lastState = new Map<string, string>();
  private readonly tty: boolean;
  private readonly write: (line: string) => void;

  constructor(private readonly opts: RunPrinterOptions = {}) {
    this.tty = opts.tty ?? !!process.stderr.isTTY;
    this.write = opts.write ?? ((l) => process.stderr.write(l + "\n"));
  }

  attach(manager: RunManager): () => void {
    return manager.onEvent((e) => this.show(e));
  }

  /** A line above the bar. */
  line(text: string): void {
    this.bar?.stop();
    this.bar = undefined;
    this.write(text);
  }

  show(e: ManagerEvent): void {
    switch (e.type) {
      case "metrics": {
        const msg = `${e.defense} loss ${e.loss.toFixed(4)} clean ${(100 * e.cleanAcc).toFixed(0)}% adv ${(100 * e.advAcc).toFixed(0)}%`;
        if (this.tty) {
          if (!this.bar) {
            this.bar = new SingleBar(
              { format: `${e.runId} [{bar}] {value}/{total} {msg}`, stream: process.stderr, hideCursor: true },
              Presets.shades_classic,
            );
            this.bar.start(e.totalSteps, e.step, { msg });
          } else this.bar.update(e.step, { msg });
          return;
        }
        const now = Date.now();
        if (now - this.lastPlain >= (this.opts.plainEveryMs ?? 1000) || e.step === e.totalSteps) {
          this.lastPlain = now;
          this.write(`step ${e.step}/${e.totalSteps} ${msg} (${e.seconds.toFixed(2)} s)`);
        }
        return;
      }
      case "status":
        // Repeated states are checkpoints: worth a line only when asked for details.
        if (this.lastState.get(e.runId) === e.state && !this.opts.verbose) return;
        this.lastState.set(e.runId, e.state);
        this.line(`run ${e.runId}: ${e.state} at step ${e.step}/${e.totalSteps}${e.message ? ` (${e.message})` : ""}`);
        return;
      case "evaluation":
        this.line(`  ${e.target} at step ${e.step}: clean ${(100 * e.cleanAccuracy).toFixed(1)}%, worst-case robust ${(100 * e.worstCaseRobustAccuracy).toFixed(1)}%`);
        return;
      case "progress":
        if (e.value.kind === "begin") this.line(e.value.title);
        else if (e.value.kind === "report" && this.opts.verbose) this.line(`  ${e.value.percentage !== undefined ? `${e.value.percentage.toFixed(0)}% ` : ""}${e.value.message ?? ""}`);
        else if (e.value.kind === "end" && e.value.message) this.line(`  ${e.value.message}`);
        return;
      case "log":
        if (e.level === "warn" || e.level === "error" || (e.level === "info" && this.opts.verbose)) this.line(`[${e.level}] ${e.message}`);
        return;
      case "loraNorms":
        return;
    }
  }

  close(): void {
    this.bar?.stop();
    this.bar = undefined;
  }
}
