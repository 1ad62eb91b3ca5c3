// Exclusive ownership of a run folder: `<run>/.owner.lock`, created with O_CREAT|O_EXCL (atomic
// on local filesystems and NFSv3+), holding who took it (pid, start time, boot id, pid namespace,
// host) and kept fresh by a heartbeat (the file's mtime, touched through the open descriptor).
// A process takes the lock before it writes anything to a run and holds it while it works on it
// (docs/protocol.md, "Run ownership"). A lock is taken over only when its holder is provably gone:
//   - same boot and pid namespace: the pid is dead, or alive with another start time (pid reuse);
//   - otherwise (another host or container, no /proc): the heartbeat expired;
// or with `force`, which the user asks for explicitly (`--force`, "Take Over Run").
// Removing a stale lock happens under a second O_EXCL file (the takeover mutex) and only if the
// lock is still the inode that was judged stale, so two processes cannot both replace it.
import * as fs from "node:fs";
import * as fsp from "node:fs/promises";
import * as path from "node:path";
import { randomBytes } from "node:crypto";
import { currentProcess, liveness, type ProcessIdentity } from "./processIdentity";
import { RunBusyError } from "./errors";

export const LOCK_FILE = ".owner.lock";
const TAKEOVER_FILE = ".owner.lock.takeover";
/** How often a holder touches its lock. */
export const HEARTBEAT_MS = 5_000;
/** A lock whose holder cannot be checked is stale once it has not been touched for this long. */
export const LEASE_MS = 30_000;
/** A takeover mutex older than this belongs to a process that died mid-takeover. */
const TAKEOVER_STALE_MS = 10_000;

/** The content of `.owner.lock`. */
export interface LockHolder extends ProcessIdentity {
  /** Tells apart several run managers in one process. */
  instance: string;
  /** What holds it, for the RunBusy message (e.g. "hyperat daemon"). */
  command: string;
  acquiredAt: string;
  /** Random per acquisition: tells this lock from a later one in the same inode (inode numbers
   * are reused at once on tmpfs and ext4). */
  token: string;
}

export interface AcquireOptions {
  instance: string;
  /** Take the lock even from a live holder (the user asked for it). */
  force?: boolean;
  /** Instances of run managers alive in this process (a pid check cannot tell them apart). */
  liveInstances?: ReadonlySet<string>;
  /** Called once if another process takes the lock away (a forced takeover). */
  onLost?: (by: LockHolder | undefined) => void;
  now?: () => number;
}

/** Why an existing lock may or may not be replaced. */
export type LockVerdict = { stale: true; why: string } | { stale: false; why: string };

/** Pure judgement of a lock file (content may be undefined: unreadable or half-written). */
export function judgeLock(
  holder: LockHolder | undefined,
  mtimeMs: number,
  nowMs: number,
  liveInstances: ReadonlySet<string> = new Set(),
  me: ProcessIdentity = currentProcess(),
): LockVerdict {
  const expired = nowMs - mtimeMs > LEASE_MS;
  if (!holder) return expired ? { stale: true, why: "unreadable lock, heartbeat expired" } : { stale: false, why: "a lock that is being written" };
  if (holder.pid === me.pid && holder.startTime === me.startTime && holder.bootId === me.bootId && holder.hostname === me.hostname) {
    return liveInstances.has(holder.instance) ? { stale: false, why: "held by another run manager in this process" } : { stale: true, why: "its run manager in this process has closed" };
  }
  switch (liveness(holder, me)) {
    case "gone":
      return { stale: true, why: `pid ${holder.pid} is gone${holder.startTime ? " (or now another process)" : ""}` };
    case "alive":
      return { stale: false, why: `pid ${holder.pid} is alive` };
    case "unknown":
      return expired ? { stale: true, why: `heartbeat older than ${LEASE_MS / 1000} s` } : { stale: false, why: "its heartbeat is fresh" };
  }
}

export function describeHolder(h: LockHolder | undefined): string {
  if (!h) return "a process that is still writing its lock";
  return `pid ${h.pid} on ${h.hostname} (${h.command}, since ${h.acquiredAt})`;
}

function parseHolder(text: string): LockHolder | undefined {
  try {
    const o = JSON.parse(text) as LockHolder;
    return o && typeof o === "object" && Number.isInteger(o.pid) && typeof o.instance === "string" && typeof o.token === "string" ? o : undefined;
  } catch {
    return undefined;
  }
}

/** The lock file as it is now: inode, mtime and holder; undefined when there is none. */
async function inspect(file: string): Promise<{ ino: number; mtimeMs: number; holder?: LockHolder } | undefined> {
  let handle: fsp.FileHandle;
  try {
    handle = await fsp.open(file, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw e;
  }
  try {
    const st = await handle.stat();
    return { ino: st.ino, mtimeMs: st.mtimeMs, holder: parseHolder(await handle.readFile("utf8")) };
  } finally {
    await handle.close();
  }
}

/** Runs `fn` while holding the takeover mutex; false when another takeover is in progress. */
async function underTakeoverMutex(dir: string, fn: () => Promise<void>, now: () => number): Promise<boolean> {
  const file = path.join(dir, TAKEOVER_FILE);
  let handle: fsp.FileHandle | undefined;
  for (let attempt = 0; attempt < 2 && !handle; attempt++) {
    try {
      handle = await fsp.open(file, "wx");
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
      const st = await fsp.stat(file).catch(() => undefined);
      if (st && now() - st.mtimeMs < TAKEOVER_STALE_MS) return false;
      await fsp.rm(file, { force: true }); // left by a process that died mid-takeover
    }
  }
  if (!handle) return false;
  try {
    await fn();
  } finally {
    await handle.close();
    await fsp.rm(file, { force: true });
  }
  return true;
}

/** Locks held by this process, released on exit (process.exit in the CLI skips `finally`). */
const held = new Set<RunLock>();
let exitHookInstalled = false;
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on("exit", () => {
    for (const l of held) l.releaseSync();
  });
}

export class RunLock {
  private timer?: NodeJS.Timeout;
  private released = false;
  private releasing?: Promise<void>;
  /** Set when another process took the lock away; the holder must stop writing to the run. */
  lost = false;

  private constructor(
    readonly file: string,
    readonly holder: LockHolder,
    private readonly handle: fsp.FileHandle,
    private readonly onLost?: (by: LockHolder | undefined) => void,
  ) {}

  /**
   * Takes the lock of the run folder `dir`, or throws RunBusyError naming the holder.
   * `runId` is only for the error message.
   */
  static async acquire(dir: string, runId: string, opts: AcquireOptions): Promise<RunLock> {
    const file = path.join(dir, LOCK_FILE);
    const now = opts.now ?? Date.now;
    const holder: LockHolder = {
      ...currentProcess(), instance: opts.instance, command: commandLine(), acquiredAt: new Date(now()).toISOString(), token: randomBytes(8).toString("hex"),
    };
    for (let attempt = 0; attempt < 5; attempt++) {
      // The lock appears complete or not at all: written to a private file, then hard-linked to
      // its name (link fails with EEXIST like O_EXCL, and nobody ever sees a half-written lock).
      // Named *.tmp so that removeStaleTempFiles clears one a crash left behind.
      const draft = path.join(dir, `${LOCK_FILE}.${holder.token}.tmp`);
      const handle = await fsp.open(draft, fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_RDWR | fs.constants.O_NOFOLLOW, 0o644);
      let linked = false;
      try {
        await handle.writeFile(JSON.stringify(holder, null, 2) + "\n");
        await handle.sync();
        await fsp.link(draft, file);
        linked = true;
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code === "ENOENT") {
          await handle.close(); // the holder's temp-file cleanup removed our draft: try again
          continue;
        }
        if (code !== "EEXIST") {
          await handle.close();
          throw new Error(`cannot create the run lock ${file}: ${(e as Error).message}`);
        }
      } finally {
        await fsp.rm(draft, { force: true });
      }
      if (linked) {
        const lock = new RunLock(file, holder, handle, opts.onLost);
        lock.startHeartbeat();
        return lock;
      }
      await handle.close();
      const seen = await inspect(file);
      if (!seen) continue; // released meanwhile: try again
      const verdict = judgeLock(seen.holder, seen.mtimeMs, now(), opts.liveInstances);
      if (!verdict.stale && !opts.force) throw new RunBusyError(runId, seen.holder?.pid ?? -1, `${describeHolder(seen.holder)}; ${verdict.why}`);
      const took = await underTakeoverMutex(dir, async () => {
        const again = await inspect(file);
        // Still the lock we judged (same inode and same acquisition), not one taken meanwhile.
        if (again && again.ino === seen.ino && again.holder?.token === seen.holder?.token) await fsp.unlink(file);
      }, now);
      if (!took) throw new RunBusyError(runId, seen.holder?.pid ?? -1, `another process is taking the run over right now (lock held by ${describeHolder(seen.holder)})`);
    }
    throw new RunBusyError(runId, -1, `the lock ${file} kept changing hands; try again`);
  }

  /** The holder recorded in `dir`'s lock, if any (for status displays). */
  static async holderOf(dir: string): Promise<LockHolder | undefined> {
    return (await inspect(path.join(dir, LOCK_FILE)).catch(() => undefined))?.holder;
  }

  private startHeartbeat(): void {
    held.add(this);
    installExitHook();
    this.timer = setInterval(() => void this.beat(), HEARTBEAT_MS);
    this.timer.unref();
  }

  /** Touches the lock through our descriptor and checks it is still ours. */
  async beat(): Promise<void> {
    if (this.releasing || this.lost) return;
    const t = new Date();
    await this.handle.utimes(t, t).catch(() => {});
    await this.verify();
  }

  /** Whether the lock file still records this acquisition; the first time it does not, marks
   * the lock lost and tells `onLost`. Cheap (one small read): callers check before each write. */
  async verify(): Promise<boolean> {
    if (this.lost) return false;
    if (this.releasing) return true;
    const current = await inspect(this.file).catch(() => undefined);
    if (current?.holder?.token === this.holder.token) return true;
    this.lost = true;
    clearInterval(this.timer);
    held.delete(this);
    this.onLost?.(current?.holder);
    return false;
  }

  /** Removes the lock if it is still ours, and closes it. Idempotent. */
  release(): Promise<void> {
    this.releasing ??= (async () => {
      clearInterval(this.timer);
      const current = await inspect(this.file).catch(() => undefined);
      if (current?.holder?.token === this.holder.token) await fsp.rm(this.file, { force: true });
      this.released = true;
      held.delete(this);
      await this.handle.close().catch(() => {});
    })();
    return this.releasing;
  }

  /** Exit-time release (process.exit may come while release() is half done): synchronous. */
  releaseSync(): void {
    if (this.released) return;
    this.released = true;
    try {
      if (parseHolder(fs.readFileSync(this.file, "utf8"))?.token === this.holder.token) fs.rmSync(this.file, { force: true });
    } catch {
      /* gone already */
    }
  }
}

function commandLine(): string {
  const verb = process.argv.slice(2).find((a) => !a.startsWith("-") && !a.includes("/"));
  return verb ? `hyperat ${verb}` : path.basename(process.argv[1] ?? process.argv0);
}
