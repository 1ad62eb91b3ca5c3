/**
 * The loss became NaN or infinite at `step`; the run pauses at its last checkpoint instead of
 * training on garbage (src/daemon/runManager.ts). Thrown by the engine's session and by the run
 * manager when a step event reports a non-finite loss (`value`, when known). No tensor code here,
 * so the daemon's main thread can import it without loading a backend.
 */
export class NonFiniteLossError extends Error {
  constructor(
    readonly step: number,
    readonly defense?: string,
    readonly value?: number,
  ) {
    super(`loss is ${value ?? "not finite"} at step ${step}${defense ? ` (defense ${defense})` : ""}`);
    this.name = "NonFiniteLossError";
  }
}
