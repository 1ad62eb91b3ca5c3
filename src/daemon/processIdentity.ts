// Who a process is, precisely enough to tell "that pid is still the process that took the lock"
// from "that pid now belongs to someone else" (pid reuse). On Linux: the start time from
// /proc/<pid>/stat (field 22, clock ticks since boot), the boot id and the pid namespace, so a
// pid is only compared with pids of the same kernel boot and namespace. Elsewhere these are
// undefined and callers fall back on the lock's heartbeat (see runLock.ts).
import * as fs from "node:fs";
import * as os from "node:os";

export interface ProcessIdentity {
  pid: number;
  /** /proc/<pid>/stat starttime: the same pid with a different value is a different process. */
  startTime?: string;
  /** /proc/sys/kernel/random/boot_id: a different value means the holder's machine rebooted. */
  bootId?: string;
  /** /proc/self/ns/pid: pids are only comparable within one namespace (containers). */
  pidNamespace?: string;
  hostname: string;
}

function readOrUndefined(read: () => string): string | undefined {
  try {
    return read().trim() || undefined;
  } catch {
    return undefined;
  }
}

/** Field 22 of /proc/<pid>/stat; the comm field (2) may hold spaces and parentheses, so parse
 * after its last ')'. Undefined when the process does not exist or there is no /proc. */
export function processStartTime(pid: number): string | undefined {
  const stat = readOrUndefined(() => fs.readFileSync(`/proc/${pid}/stat`, "utf8"));
  if (!stat) return undefined;
  const rest = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  // rest[0] is field 3 (state), so field 22 is rest[19].
  return rest[19];
}

let self: ProcessIdentity | undefined;

export function currentProcess(): ProcessIdentity {
  self ??= {
    pid: process.pid,
    startTime: processStartTime(process.pid),
    bootId: readOrUndefined(() => fs.readFileSync("/proc/sys/kernel/random/boot_id", "utf8")),
    pidNamespace: readOrUndefined(() => fs.readlinkSync("/proc/self/ns/pid")),
    hostname: os.hostname(),
  };
  return self;
}

/** Whether `pid` exists (EPERM: it exists but belongs to another user). */
export function pidExists(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** The answer about a recorded process: alive, provably gone, or not checkable from here. */
export type Liveness = "alive" | "gone" | "unknown";

/**
 * Whether the process `who` names is still running, seen from this process. Pids are only
 * compared when both sides know they share a boot and a pid namespace; then a missing pid or a
 * different start time is proof the holder is gone. Otherwise the answer is "unknown".
 */
export function liveness(who: Pick<ProcessIdentity, "pid" | "startTime" | "bootId" | "pidNamespace" | "hostname">, me = currentProcess()): Liveness {
  if (who.hostname !== me.hostname) return "unknown";
  if (who.bootId && me.bootId && who.bootId !== me.bootId) return "gone"; // the machine rebooted since
  const comparable = !!who.bootId && who.bootId === me.bootId && !!who.pidNamespace && who.pidNamespace === me.pidNamespace;
  if (!comparable) return pidExists(who.pid) ? "unknown" : me.bootId ? "unknown" : "gone";
  if (!pidExists(who.pid)) return "gone";
  if (who.startTime && who.startTime !== processStartTime(who.pid)) return "gone"; // pid reused
  return "alive";
}
