// Follows the end of a run's append-only metrics.jsonl without rereading it: each read starts at
// the byte offset after the last complete line. A last line without its newline is a write in
// progress (or the torn tail of a crash) and is held back until it is complete. A file shorter
// than the offset was replaced, so reading starts over (`reset`). Reads are bounded (`maxBytes`)
// so a 100k-line history streams in chunks instead of one giant string.
import * as fs from "node:fs/promises";
import type { MetricsLine } from "../protocol/runs";

export interface TailChunk {
  lines: MetricsLine[];
  /** The file was replaced or truncated: earlier lines no longer apply. */
  reset: boolean;
  /** More complete data is waiting past this chunk (read again). */
  more: boolean;
}

const NEWLINE = 0x0a;

export class MetricsTail {
  private offset = 0;

  constructor(
    readonly file: string,
    /** A complete line that is not valid JSON: reported, then skipped. */
    private readonly onBadLine: (line: string, byteOffset: number) => void = () => {},
  ) {}

  /** Byte offset of the first byte not yet consumed. */
  get position(): number {
    return this.offset;
  }

  async read(maxBytes = 1 << 20): Promise<TailChunk> {
    let handle: fs.FileHandle;
    try {
      handle = await fs.open(this.file, "r");
    } catch {
      return { lines: [], reset: false, more: false }; // not created yet
    }
    try {
      const size = (await handle.stat()).size;
      let reset = false;
      if (size < this.offset) {
        this.offset = 0;
        reset = true;
      }
      const want = Math.min(size - this.offset, maxBytes);
      if (want <= 0) return { lines: [], reset, more: false };
      const buf = Buffer.alloc(want);
      const { bytesRead } = await handle.read(buf, 0, want, this.offset);
      const end = buf.lastIndexOf(NEWLINE, bytesRead - 1);
      if (end < 0) {
        // One line longer than maxBytes: read it whole rather than never making progress.
        if (this.offset + bytesRead >= size) return { lines: [], reset, more: false };
        return this.readLongLine(handle, size, reset);
      }
      const start = this.offset;
      this.offset += end + 1;
      return { lines: this.parse(buf.subarray(0, end).toString("utf8"), start), reset, more: this.offset < size };
    } finally {
      await handle.close();
    }
  }

  private async readLongLine(handle: fs.FileHandle, size: number, reset: boolean): Promise<TailChunk> {
    const rest = Buffer.alloc(size - this.offset);
    const { bytesRead } = await handle.read(rest, 0, rest.length, this.offset);
    const end = rest.lastIndexOf(NEWLINE, bytesRead - 1);
    if (end < 0) return { lines: [], reset, more: false };
    const start = this.offset;
    this.offset += end + 1;
    return { lines: this.parse(rest.subarray(0, end).toString("utf8"), start), reset, more: this.offset < size };
  }

  private parse(text: string, start: number): MetricsLine[] {
    const out: MetricsLine[] = [];
    let at = start;
    for (const line of text.split("\n")) {
      const here = at;
      at += Buffer.byteLength(line) + 1;
      if (!line.trim()) continue;
      try {
        const v = JSON.parse(line) as MetricsLine;
        if (v && typeof v === "object" && typeof v.kind === "string") out.push(v);
        else this.onBadLine(line, here);
      } catch {
        this.onBadLine(line, here);
      }
    }
    return out;
  }
}
