// Spawns the real daemon (`node --import tsx src/cli/main.ts daemon --stdio`) with the fake
// engine and connects to it with vscode-jsonrpc, as the extension does.
import { spawn, type ChildProcess } from "node:child_process";
import * as path from "node:path";
import { createMessageConnection, StreamMessageReader, StreamMessageWriter, type MessageConnection } from "vscode-jsonrpc/node";
import { Collector, FAKE_ENGINE } from "./helpers";

const ROOT = path.resolve(__dirname, "../..");

export interface Notification {
  method: string;
  params: Record<string, unknown>;
}

export interface DaemonProcess {
  child: ChildProcess;
  conn: MessageConnection;
  notes: Collector<Notification>;
  stderr: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export function spawnDaemon(workspace: string, args: string[] = [], env: Record<string, string> = {}): DaemonProcess {
  const child = spawn(
    process.execPath,
    ["--import", "tsx", path.join(ROOT, "src/cli/main.ts"), "daemon", "--stdio", "--workspace", workspace, "--backend", "cpu", "--log-level", "debug", ...args],
    { cwd: ROOT, env: { ...process.env, HYPERAT_ENGINE: FAKE_ENGINE, ...env }, stdio: ["pipe", "pipe", "pipe"] },
  );
  let err = "";
  child.stderr!.on("data", (d: Buffer) => (err += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) => child.on("exit", (code, signal) => r({ code, signal })));
  const conn = createMessageConnection(new StreamMessageReader(child.stdout!), new StreamMessageWriter(child.stdin!));
  const notes = new Collector<Notification>();
  conn.onNotification((method: string, params: unknown) => notes.push({ method, params: params as Record<string, unknown> }));
  conn.onError(() => {});
  conn.listen();
  return { child, conn, notes, stderr: () => err, exited };
}

/** Ends a daemon left running by a failed test. */
export function killDaemon(d: DaemonProcess): void {
  d.conn.dispose();
  if (d.child.exitCode === null && d.child.signalCode === null) d.child.kill("SIGKILL");
}
