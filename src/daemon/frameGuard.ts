// A check in front of vscode-jsonrpc's StreamMessageReader, which does the real framing. On a
// header without Content-Length, with a non-numeric one, or a negative one, that reader fires an
// error (or, for "-1", silently waits for the next header inside the body) and keeps reading from
// a position it can no longer trust, so the daemon never answered again (issue 17). This pass-
// through follows the same LSP framing only far enough to check each header block; bytes go on
// unchanged, and at the first bad header it stops passing data and reports why, so the daemon can
// answer a JSON-RPC parse error and exit (the extension restarts it; daemonClient.ts onExit).
import { Transform, type TransformCallback } from "node:stream";

const HEADER_END = Buffer.from("\r\n\r\n", "ascii");
/** Headers are two short lines in practice; anything longer is not LSP framing. */
const MAX_HEADER_BYTES = 8192;

/** What is wrong with one header block, or undefined; exported for unit tests. */
export function headerProblem(header: string): { problem: string; length?: undefined } | { problem?: undefined; length: number } {
  let length: number | undefined;
  for (const line of header.split("\r\n")) {
    const colon = line.indexOf(":");
    if (colon < 0) return { problem: `header line ${JSON.stringify(line)} has no ':'` };
    if (line.slice(0, colon).trim().toLowerCase() !== "content-length") continue;
    const value = line.slice(colon + 1).trim();
    if (!/^\d+$/.test(value)) return { problem: `Content-Length must be a non-negative integer, got ${JSON.stringify(value)}` };
    length = Number(value);
    if (!Number.isSafeInteger(length)) return { problem: `Content-Length ${value} is too large` };
  }
  if (length === undefined) return { problem: `header ${JSON.stringify(header)} has no Content-Length` };
  return { length };
}

export class FrameGuard extends Transform {
  private pending = Buffer.alloc(0);
  /** Body bytes still to pass before the next header starts. */
  private bodyLeft = 0;
  private broken = false;

  constructor(private readonly onBadFrame: (problem: string) => void) {
    super();
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    if (this.broken) return done();
    let data = this.pending.length ? Buffer.concat([this.pending, chunk]) : chunk;
    this.pending = Buffer.alloc(0);
    let passed = 0;
    for (;;) {
      if (this.bodyLeft > 0) {
        const n = Math.min(this.bodyLeft, data.length - passed);
        this.bodyLeft -= n;
        passed += n;
        if (this.bodyLeft > 0) break;
      }
      const rest = data.subarray(passed);
      const end = rest.indexOf(HEADER_END);
      if (end < 0) {
        if (rest.length > MAX_HEADER_BYTES) return this.fail(data.subarray(0, passed), `no end of header within ${MAX_HEADER_BYTES} bytes`, done);
        this.pending = Buffer.from(rest);
        data = data.subarray(0, passed);
        break;
      }
      const verdict = headerProblem(rest.subarray(0, end).toString("ascii"));
      if (verdict.problem !== undefined) return this.fail(data.subarray(0, passed), verdict.problem, done);
      passed += end + HEADER_END.length;
      this.bodyLeft = verdict.length;
    }
    if (passed > 0) this.push(data.subarray(0, passed));
    done();
  }

  private fail(good: Buffer, problem: string, done: TransformCallback): void {
    this.broken = true;
    if (good.length) this.push(good); // whole messages before the bad header still count
    done();
    this.onBadFrame(problem);
  }
}
