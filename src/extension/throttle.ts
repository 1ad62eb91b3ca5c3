// Rate limits for UI refreshes driven by daemon notifications (one per training step).

export interface Throttled {
  (): void;
  /** Drops a pending call (on dispose). */
  cancel(): void;
}

/** Calls `f` at most once per `ms`, trailing call included so the last change is shown.
 * Unlike a debounce, a steady stream of calls cannot postpone `f` forever: a run whose steps
 * arrive faster than `ms` apart still refreshes every `ms`. */
export function throttle(ms: number, f: () => void): Throttled {
  let timer: ReturnType<typeof setTimeout> | undefined;
  let last = -Infinity;
  const call = (() => {
    if (timer) return;
    const wait = Math.max(0, last + ms - Date.now());
    timer = setTimeout(() => {
      timer = undefined;
      last = Date.now();
      f();
    }, wait);
  }) as Throttled;
  call.cancel = () => {
    clearTimeout(timer);
    timer = undefined;
  };
  return call;
}
