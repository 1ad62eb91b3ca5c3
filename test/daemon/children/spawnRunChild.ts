// Starts runChild.ts processes and releases them together (see its header).
import { spawn, type ChildProcess } from "node:child_process";
import * as path from "node:path";

const ROOT = path.resolve(__dirname, "../../..");

export interface RunChild {
  child: ChildProcess;
  ready: Promise<void>;
  /** The JSON line it printed (undefined if it died first) and how it ended. */
  result: Promise<{ out?: Record<string, unknown>; code: number | null; signal: NodeJS.Signals | null; stderr: string }>;
  go(): void;
}

export function spawnRunChild(dir: string, action: string, extraArgs: string[] = [], env: Record<string, string> = {}): RunChild {
  const child = spawn(process.execPath, ["--import", "tsx", path.join(__dirname, "runChild.ts"), dir, action, ...extraArgs], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ["pipe", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  let markReady!: () => void;
  const ready = new Promise<void>((r) => (markReady = r));
  child.stdout!.on("data", (d: Buffer) => {
    stdout += d.toString();
    if (stdout.includes("ready\n")) markReady();
  });
  child.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
  const result = new Promise<{ out?: Record<string, unknown>; code: number | null; signal: NodeJS.Signals | null; stderr: string }>((resolve) =>
    child.on("exit", (code, signal) => {
      markReady(); // a child that died before "ready" must not hang the barrier
      const line = stdout.split("\n").find((l) => l.startsWith("{"));
      resolve({ out: line ? (JSON.parse(line) as Record<string, unknown>) : undefined, code, signal, stderr });
    }),
  );
  return { child, ready, result, go: () => child.stdin!.end("go\n") };
}
