// The daemon's stderr, as lines for the HyperAT log. A chunk of a pipe can end mid-line, so the
// tail waits for the next chunk; Dawn's start-up warnings are dropped because they are harmless
// and say nothing the user can act on (README.md, "Compute backends"; shared recipe webgpu.md).

/** Dawn prints these for every adapter it opens on lavapipe and other Vulkan drivers. */
const HARMLESS = [/^Warning: maxDynamic\w+BuffersPerPipelineLayout artificially reduced from \d+ to \d+/];

export function isHarmlessDaemonNoise(line: string): boolean {
  return HARMLESS.some((re) => re.test(line));
}

/** Splits a stream into whole lines, keeping a torn last line until its end arrives. */
export class StderrLines {
  private tail = "";

  /** The complete, non-blank, non-noise lines this chunk finishes. */
  push(chunk: string): string[] {
    const parts = (this.tail + chunk).split(/\r?\n/);
    this.tail = parts.pop() ?? "";
    return parts.filter((l) => l.trim() && !isHarmlessDaemonNoise(l));
  }

  /** What is left when the stream ends (a last line without a newline). */
  end(): string[] {
    const rest = this.tail;
    this.tail = "";
    return rest.trim() && !isHarmlessDaemonNoise(rest) ? [rest] : [];
  }
}
