// Streams one run's metrics.jsonl to its dashboard: the whole history in bounded chunks when the
// page is ready (not one giant message), then — for runs no daemon reports on, such as a CLI run
// in a terminal or a run another machine writes to a shared folder — the lines appended since,
// read from the last offset (metricsTail.ts). Calls are serialized so a follow never interleaves
// with a reload.
import type { MetricsLine } from "../protocol/runs";
import type { HistoryEvent, HostToWebviewMessage } from "../protocol/webview";
import { MetricsTail } from "./metricsTail";

/** Bytes per read: ~6k metric lines, a message of well under a megabyte of JSON. */
export const HISTORY_CHUNK_BYTES = 1 << 20;

function historyEvents(lines: readonly MetricsLine[]): HistoryEvent[] {
  const out: HistoryEvent[] = [];
  for (const l of lines) {
    if (l.kind === "step") {
      const { time: _t, ...e } = l;
      out.push(e);
    } else if (l.kind === "resume") out.push({ kind: "resume", fromStep: l.fromStep });
  }
  return out;
}

/** The live messages (other than steps) that appended lines stand for. */
function liveMessages(lines: readonly MetricsLine[]): HostToWebviewMessage[] {
  const out: HostToWebviewMessage[] = [];
  for (const l of lines) {
    switch (l.kind) {
      case "loraNorms":
        out.push({ type: "loraNorms", snapshot: { step: l.step, layers: l.layers, norms: l.norms } });
        break;
      case "validation": {
        const { kind: _k, time: _t, ...record } = l;
        out.push({ type: "evaluation", record });
        break;
      }
      case "evaluationReport":
        for (const record of l.records ?? []) out.push({ type: "evaluation", record });
        break;
      case "merge":
        out.push({ type: "merge", merge: { strategy: l.strategy, modelPath: l.modelPath, lambdas: l.lambdas, time: l.time } });
        break;
    }
  }
  return out;
}

export class RunFollower {
  private tail: MetricsTail;
  private chain: Promise<void> = Promise.resolve();

  constructor(
    private readonly file: string,
    private readonly post: (m: HostToWebviewMessage) => void,
    private readonly chunkBytes = HISTORY_CHUNK_BYTES,
    private readonly onBadLine: (line: string, offset: number) => void = () => {},
  ) {
    this.tail = new MetricsTail(file, onBadLine);
  }

  /** Sends the whole file from the start, in chunks; the first replaces the page's history. */
  loadAll(): Promise<void> {
    return this.serial(() => this.load());
  }

  /** Sends what was appended since the last read (steps as history, the rest as live messages). */
  follow(): Promise<void> {
    return this.serial(async () => {
      for (;;) {
        const chunk = await this.tail.read(this.chunkBytes);
        if (chunk.reset) return this.load(); // the file was replaced: start over
        if (chunk.lines.length) {
          const events = historyEvents(chunk.lines);
          if (events.length) this.post({ type: "history", first: false, done: true, events });
          for (const m of liveMessages(chunk.lines)) this.post(m);
        }
        if (!chunk.more) return;
      }
    });
  }

  private async load(): Promise<void> {
    this.tail = new MetricsTail(this.file, this.onBadLine);
    let first = true;
    for (;;) {
      const chunk = await this.tail.read(this.chunkBytes);
      const events = historyEvents(chunk.lines);
      if (events.length || first || !chunk.more) this.post({ type: "history", first, done: !chunk.more, events });
      first = false;
      if (!chunk.more) return;
    }
  }

  private serial(f: () => Promise<void>): Promise<void> {
    const next = this.chain.then(f, f);
    this.chain = next.catch(() => {});
    return next;
  }
}
