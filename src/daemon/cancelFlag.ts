// Cancellation that crosses a worker-thread boundary. The compute worker may be inside a
// synchronous loop (adaptive merging's λ steps call dataSync and never yield), so a posted
// "cancel" message would only arrive after the work is done. A SharedArrayBuffer word is read
// directly: the owner stores the id of the call to cancel, the worker's check sees it at once.

/** What long operations check between their steps (an AbortSignal fits too). */
export interface CancelSignal {
  readonly aborted: boolean;
}

export class CancelFlag {
  private readonly word: Int32Array;

  constructor(readonly buffer: SharedArrayBuffer = new SharedArrayBuffer(4)) {
    this.word = new Int32Array(buffer);
  }

  /** Marks call `id` (a positive integer) as cancelled. */
  raise(id: number): void {
    Atomics.store(this.word, 0, id);
  }

  /** The signal call `id` checks: aborted once `raise(id)` ran, in whichever thread. */
  signalFor(id: number): CancelSignal {
    const word = this.word;
    return {
      get aborted() {
        return Atomics.load(word, 0) === id;
      },
    };
  }
}
