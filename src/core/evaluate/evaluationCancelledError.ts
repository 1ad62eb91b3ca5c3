/** An evaluation stopped by its cancel signal, naming the pass it stopped in ("clean", an
 * attack, "the next model"). Its own file, free of tfjs, so the daemon's error revival
 * (src/daemon/errors.ts) can give it back its class after it crossed a worker thread. */
export class EvaluationCancelledError extends Error {
  constructor(readonly attack: string) {
    super(`evaluation cancelled during ${attack}`);
    this.name = "EvaluationCancelledError";
  }
}
