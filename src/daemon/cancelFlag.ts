// Cancellation that crosses a worker-thread boundary. The compute worker may be inside a long
// loop that yields rarely (adaptive merging's λ steps only await their reads, which on cpu and
// wasm resolve without giving the event loop a turn), so a posted "cancel" message could arrive
// only after the work is done. A SharedArrayBuffer word is read
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
