// Shared by the daemon tests: temp workspaces, fake-engine configs and an event collector.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

export const FAKE_ENGINE = path.resolve(__dirname, "fakeEngine.ts");

export function tempWorkspace(prefix = "hyperat-daemon-"): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

/** Writes a fake-engine config (see FakeConfig; wrong types on purpose are allowed). */
export function writeConfig(dir: string, name: string, cfg: Record<string, unknown>): string {
  const file = path.join(dir, `${name}.hyperat.json`);
  fs.writeFileSync(file, JSON.stringify({ name, ...cfg }, null, 2));
  return file;
}

/** Collects events and lets a test wait for one that matches (with a generous guard timeout). */
export class Collector<E> {
  readonly events: E[] = [];
  private waiters: Array<{ pred: (e: E) => boolean; resolve: (e: E) => void }> = [];

  push = (e: E): void => {
    this.events.push(e);
    for (const w of [...this.waiters]) {
      if (w.pred(e)) {
        this.waiters.splice(this.waiters.indexOf(w), 1);
        w.resolve(e);
      }
    }
  };

  /** Resolves with the first event (already seen, or future) matching `pred`. */
  waitFor(pred: (e: E) => boolean, what: string, timeoutMs = 30_000): Promise<E> {
    const seen = this.events.find(pred);
    if (seen) return Promise.resolve(seen);
    return new Promise<E>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), timeoutMs);
      this.waiters.push({ pred, resolve: (e) => (clearTimeout(timer), resolve(e)) });
    });
  }

  /** Like waitFor but only among events that arrive from now on. */
  next(pred: (e: E) => boolean, what: string, timeoutMs = 30_000): Promise<E> {
    const from = this.events.length;
    return this.waitFor((e) => this.events.indexOf(e) >= from && pred(e), what, timeoutMs);
  }
}
