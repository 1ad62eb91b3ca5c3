// A RunManager in its own process (fake engine, in-process compute) for the ownership and
// kill-point tests. Protocol: prints "ready", waits for one line on stdin (a barrier, so several
// children act at the same instant), does `argv[3]` on the run folder `argv[2]`, prints one JSON
// line {ok, pid, ...} or {ok: false, name, message}, and exits.
//   node --import tsx runChild.ts <runDir> resume|merge|evaluate [--force]
// With HYPERAT_TEST_KILL_AT=<phase>:<n> the process SIGKILLs itself at the n-th atomic-write
// step of that phase (see setAtomicWriteHook in src/core/io/files.ts).
import * as readline from "node:readline";
import { RunManager } from "../../../src/daemon/runManager";
import * as files from "../../../src/core/io/files";
import { FAKE_ENGINE } from "../helpers";

const [dir, action] = process.argv.slice(2);
const force = process.argv.includes("--force");
const killAt = process.env.HYPERAT_TEST_KILL_AT;
/** Durable steps of atomic writes during the action, as "phase file" (reported when not killed). */
const phases: string[] = [];
let acting = false;
const seam = (files as { setAtomicWriteHook?: (h: (phase: string, file: string) => void) => void }).setAtomicWriteHook;
seam?.((phase, file) => {
  if (!acting) return;
  phases.push(`${phase} ${file}`);
  if (killAt === `${phase}:${phases.filter((p) => p.startsWith(`${phase} `)).length}`) process.kill(process.pid, "SIGKILL");
});

async function act(manager: RunManager): Promise<Record<string, unknown>> {
  const id = await manager.adopt(dir, { force });
  if (action === "resume") {
    await manager.resume(id, { force });
    await manager.idle();
    return { id };
  }
  if (action === "merge") return { id, record: await manager.merge(id, "uniform") };
  if (action === "evaluate") return { id, reportPath: (await manager.evaluate(id, "quick")).reportPath };
  throw new Error(`unknown action ${action}`);
}

async function main(): Promise<void> {
  const manager = new RunManager({ runsDir: `${dir}/..`, engineModule: FAKE_ENGINE, useWorkers: false });
  process.stdout.write("ready\n");
  await new Promise<void>((resolve) => readline.createInterface({ input: process.stdin }).once("line", () => resolve()));
  let out: Record<string, unknown>;
  try {
    acting = true;
    out = { ok: true, pid: process.pid, ...(await act(manager)) };
    acting = false;
    out.phases = phases;
  } catch (e) {
    out = { ok: false, pid: process.pid, name: (e as Error).name, message: (e as Error).message };
  }
  await manager.shutdown();
  process.stdout.write(JSON.stringify(out) + "\n");
  process.exit(0);
}

void main();
