// The run folder is a run's whole truth (docs/architecture.md, "The run folder"): `.hyperat/runs/<id>/` with
// config.json (frozen), run.json (manifest, atomic, written last), metrics.jsonl (append-only),
// checkpoints/, adapters/, merged/, report.json + report.md. The readers here are pure functions
// of a folder so the extension can show runs while the daemon is down.
import * as fs from "node:fs/promises";
import * as path from "node:path";
import { randomBytes } from "node:crypto";
import { constants as fsConstants } from "node:fs";
import { writeFileAtomic } from "../core/io/files";
import { makeDirs } from "../core/io/dirs";
import { nextBest, selectionTarget } from "./best";
import { readRunAnnotations } from "./runAnnotations";
import { currentProcess, liveness, pidExists, type ProcessIdentity } from "./processIdentity";
import {
  ACTIVE_RUN_STATES,
  BaseModelRecord,
  BestRecord,
  EvaluationRecord,
  LoraNormsSnapshot,
  MergeRecord,
  MetricsLine,
  RUN_STATES,
  RunArtifacts,
  RunDetail,
  isValidRunId,
  RunState,
  RunSummary,
  StepMetric,
} from "../protocol/runs";

export const MANIFEST_VERSION = 1;
export const MANIFEST_FILE = "run.json";
export const CONFIG_FILE = "config.json";
export const METRICS_FILE = "metrics.jsonl";
export const RUN_SUBDIRS = ["checkpoints", "adapters", "merged"] as const;

/** Which process works on a run. `instance` tells apart several managers in one process; the
 * start time, boot id and pid namespace tell a live owner from a reused pid (processIdentity.ts). */
export interface RunOwner extends Partial<Omit<ProcessIdentity, "pid">> {
  pid: number;
  instance: string;
  startedAt: string;
}

/** run.json. `state` is never "interrupted": readers derive that from a dead owner. */
export interface RunManifest extends Omit<RunSummary, "dir"> {
  version: number;
  owner?: RunOwner;
}

/** `<workspace>/.hyperat/runs` */
export function runsDirOf(workspace: string): string {
  return path.join(workspace, ".hyperat", "runs");
}

/** Sortable, readable and unique: `20261126-104455-demo-3f9a`. */
export function newRunId(name: string, now = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, "").replace("T", "-").slice(0, 15);
  const slug = name.toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-|-$/g, "").slice(0, 40) || "run";
  return `${stamp}-${slug}-${randomBytes(2).toString("hex")}`;
}

// ---------------------------------------------------------------- ownership

/** Managers alive in this process (a pid check cannot tell them apart). */
const liveInstances = new Set<string>();

export function registerLiveInstance(instance: string): void {
  liveInstances.add(instance);
}

export function unregisterLiveInstance(instance: string): void {
  liveInstances.delete(instance);
}

/** The live managers of this process, for the run lock (runLock.ts). */
export function liveInstancesView(): ReadonlySet<string> {
  return liveInstances;
}

/** Whether the process (and, in this process, the manager) that owns a run still lives. An owner
 * recorded with its start time is gone once its pid is dead or belongs to another process. */
export function isOwnerAlive(owner: RunOwner | undefined): boolean {
  if (!owner) return false;
  const me = currentProcess();
  if (owner.pid === me.pid && (owner.startTime === undefined || owner.startTime === me.startTime)) return liveInstances.has(owner.instance);
  if (owner.hostname === undefined) return pidExists(owner.pid); // written before start times were recorded
  return liveness({ ...owner, hostname: owner.hostname }, me) !== "gone";
}

/** The state to show: an active state whose owner is gone means the run was interrupted, except
 * for a merge/evaluation of a settled run, which returns to the state before it. */
export function effectiveState(m: RunManifest): RunState {
  if (!ACTIVE_RUN_STATES.includes(m.state) || isOwnerAlive(m.owner)) return m.state;
  return m.operation && m.operation.kind === m.state ? m.operation.previousState : "interrupted";
}

/** The manifest as readers should see it: effective state, and an operation the owner's death
 * cut short marked `interrupted`. */
export function effectiveManifest(m: RunManifest): RunManifest {
  const state = effectiveState(m);
  if (state === m.state || !m.operation || m.operation.kind !== m.state) return { ...m, state };
  const verb = m.operation.kind === "merging" ? "merge" : "evaluation";
  return { ...m, state, operation: { ...m.operation, interrupted: true }, message: `${verb} interrupted: the process ended during it (started ${m.operation.startedAt})` };
}

// ---------------------------------------------------------------- writing

/** Creates the folder with the frozen config and empty metrics; run.json comes last so a folder
 * without it is an unfinished creation that readers skip. */
export async function createRunDir(dir: string, manifest: RunManifest, frozenConfig: unknown): Promise<void> {
  if (await exists(path.join(dir, MANIFEST_FILE))) throw new Error(`run folder ${dir} already holds a run (run.json exists)`);
  for (const sub of RUN_SUBDIRS) await makeDirs(path.join(dir, sub)); // not fs.mkdir recursive: spins below /proc
  await writeFileAtomic(path.join(dir, CONFIG_FILE), JSON.stringify(frozenConfig, null, 2) + "\n");
  await fs.writeFile(path.join(dir, METRICS_FILE), "", { flag: "a" });
  await writeManifest(dir, manifest);
}

export async function writeManifest(dir: string, manifest: RunManifest): Promise<void> {
  await writeFileAtomic(path.join(dir, MANIFEST_FILE), JSON.stringify(manifest, null, 2) + "\n");
}

/** Append, create if missing, and never through a symlink (it would carry the run's metrics
 * into a file outside its folder). */
const APPEND_NO_FOLLOW = fsConstants.O_WRONLY | fsConstants.O_APPEND | fsConstants.O_CREAT | fsConstants.O_NOFOLLOW;

/**
 * Appends metrics lines. The first append (a new writer: a resumed or adopted run) first cuts a
 * torn last line left by a crash back to the last complete line and records a `tornLine`
 * event, so torn fragments never end up in the middle of the file (issue 15: they did, at
 * lines 106 and 118 of 132). Readers still skip a torn *last* line.
 */
export class MetricsAppender {
  private checked = false;
  constructor(private readonly file: string) {}

  async append(lines: MetricsLine[]): Promise<void> {
    if (lines.length === 0) return;
    if (!this.checked) {
      const droppedBytes = await cutTornTail(this.file);
      this.checked = true;
      if (droppedBytes > 0) lines = [{ kind: "tornLine", droppedBytes, time: new Date().toISOString() }, ...lines];
    }
    await fs.appendFile(this.file, lines.map((l) => JSON.stringify(l)).join("\n") + "\n", { flag: APPEND_NO_FOLLOW });
  }
}

/**
 * Truncates `file` after its last newline (fsync'd, so the cut survives a crash) and returns
 * how many bytes of unterminated tail it dropped; 0 when the file ends in a newline or is absent.
 */
export async function cutTornTail(file: string): Promise<number> {
  let handle: fs.FileHandle;
  try {
    handle = await fs.open(file, "r+");
  } catch {
    return 0; // no file yet: appendFile creates it
  }
  try {
    const { size } = await handle.stat();
    const chunk = Buffer.alloc(Math.min(size, 64 * 1024));
    let end = size;
    let cut = 0; // no newline at all: the whole file is one torn line
    while (end > 0) {
      const start = Math.max(0, end - chunk.length);
      await handle.read(chunk, 0, end - start, start);
      const nl = chunk.subarray(0, end - start).lastIndexOf(0x0a);
      if (nl >= 0) {
        cut = start + nl + 1;
        break;
      }
      end = start;
    }
    if (cut === size) return 0;
    await handle.truncate(cut);
    await handle.sync();
    return size - cut;
  } finally {
    await handle.close();
  }
}

/** Removes temp files that a killed process left behind: those of atomic writes
 * (`.name.<pid>.<rand>.tmp`, see core/io/files.ts) and any other `*.tmp` (older versions wrote
 * `merged/model.safetensors.tmp`), and the temp folders of one model's report (`reports/.<name>.<pid>.<rand>.tmp/`,
 * core/io/folderAtomic.ts). Only call it while holding the run's lock (runLock.ts). */
export async function removeStaleTempFiles(dir: string): Promise<string[]> {
  const removed: string[] = [];
  for (const sub of ["", ...RUN_SUBDIRS, "reports"]) {
    const d = path.join(dir, sub);
    const entries = await fs.readdir(d, { withFileTypes: true }).catch(() => [] as import("node:fs").Dirent[]);
    for (const e of entries) {
      const tempFolder = sub === "reports" && e.isDirectory() && e.name.startsWith(".") && e.name.endsWith(".tmp");
      if ((e.isFile() && e.name.endsWith(".tmp")) || tempFolder) {
        await fs.rm(path.join(d, e.name), { force: true, recursive: tempFolder });
        removed.push(path.join(sub, e.name));
      }
    }
  }
  return removed;
}

// ---------------------------------------------------------------- reading

async function exists(p: string): Promise<boolean> {
  try {
    await fs.access(p);
    return true;
  } catch {
    return false;
  }
}

/** Reads run.json and checks the fields readers rely on; errors name the file and the field. */
export async function readManifest(dir: string): Promise<RunManifest> {
  const file = path.join(dir, MANIFEST_FILE);
  let text: string;
  try {
    text = await fs.readFile(file, "utf8");
  } catch (e) {
    throw new Error(`${file}: cannot read run manifest: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  let m: unknown;
  try {
    m = JSON.parse(text);
  } catch (e) {
    throw new Error(`${file}: not valid JSON: ${(e as Error).message}`);
  }
  const check = (ok: boolean, field: string, want: string): void => {
    if (!ok) throw new Error(`${file}: /${field} must be ${want}`);
  };
  const o = m as Record<string, unknown>;
  check(typeof o === "object" && o !== null, "", "an object");
  check(typeof o.id === "string", "id", "a string");
  // The id is shown and sent back in requests; it must be this folder's own name, never a path.
  check(isValidRunId(o.id) && o.id === path.basename(path.resolve(dir)), "id", `the run folder's name "${path.basename(path.resolve(dir))}"`);
  check((RUN_STATES as readonly unknown[]).includes(o.state), "state", `one of ${RUN_STATES.join(", ")}`);
  check(Number.isInteger(o.step) && (o.step as number) >= 0, "step", "a non-negative integer");
  check(Number.isInteger(o.totalSteps), "totalSteps", "an integer");
  check(Array.isArray(o.defenses), "defenses", "an array");
  return m as RunManifest;
}

/** Parses metrics.jsonl. A line that does not parse (the torn tail of a crash) is skipped. */
export async function readMetricsLines(dir: string): Promise<MetricsLine[]> {
  let text: string;
  try {
    text = await fs.readFile(path.join(dir, METRICS_FILE), "utf8");
  } catch {
    return [];
  }
  const out: MetricsLine[] = [];
  for (const line of text.split("\n")) {
    if (!line.trim()) continue;
    try {
      const v = JSON.parse(line) as MetricsLine;
      if (v && typeof v === "object" && typeof v.kind === "string") out.push(v);
    } catch {
      /* torn line */
    }
  }
  return out;
}

/** How many entries RunDetail keeps of each series. */
export const RECENT_LIMITS = { metrics: 500, loraNorms: 200, evaluations: 500 };

export interface MetricsSummary {
  recentMetrics: StepMetric[];
  loraNorms: LoraNormsSnapshot[];
  evaluations: EvaluationRecord[];
  merges: MergeRecord[];
  sampledCounts: Record<string, number>;
  /** The best validation record of `target` (test numbers never count: they would select on test). */
  best?: BestRecord;
  /** The base model's clean accuracy before tuning (the latest such line). */
  baseModel?: BaseModelRecord;
}

/**
 * Folds metrics lines into series. A `resume` line drops training events past its step that were
 * written before it (they belong to an attempt that crashed before its next checkpoint), so
 * sampled counts and curves describe the trajectory the run actually kept.
 */
export function summarizeMetrics(lines: MetricsLine[], target = "uniform"): MetricsSummary {
  let steps: StepMetric[] = [];
  let norms: LoraNormsSnapshot[] = [];
  let validations: EvaluationRecord[] = [];
  const evaluated: EvaluationRecord[] = [];
  const merges: MergeRecord[] = [];
  let baseModel: BaseModelRecord | undefined;
  for (const l of lines) {
    switch (l.kind) {
      case "step": {
        const { kind: _k, time: _t, ...m } = l;
        steps.push(m);
        break;
      }
      case "loraNorms":
        norms.push({ step: l.step, layers: l.layers, norms: l.norms });
        break;
      case "validation": {
        const { kind: _k, time: _t, ...r } = l;
        validations.push(r);
        break;
      }
      case "resume":
        steps = steps.filter((s) => s.step <= l.fromStep);
        norms = norms.filter((s) => s.step <= l.fromStep);
        validations = validations.filter((s) => s.step <= l.fromStep);
        break;
      case "merge":
        merges.push({ strategy: l.strategy, modelPath: l.modelPath, lambdas: l.lambdas, ...(l.objective ? { objective: l.objective } : {}), time: l.time });
        break;
      case "evaluationReport":
        if (Array.isArray(l.records)) evaluated.push(...l.records);
        break;
      case "baseModel": {
        const { kind: _k, time: _t, ...b } = l;
        baseModel = b;
        break;
      }
    }
  }
  const sampledCounts: Record<string, number> = {};
  for (const s of steps) sampledCounts[s.defense] = (sampledCounts[s.defense] ?? 0) + 1;
  const evaluations = [...validations.map((v) => ({ ...v, split: "val" as const })), ...evaluated.map((e) => ({ split: "test" as const, ...e }))];
  let best: BestRecord | undefined;
  for (const v of validations) best = nextBest(best, v, target);
  return {
    recentMetrics: steps.slice(-RECENT_LIMITS.metrics),
    loraNorms: norms.slice(-RECENT_LIMITS.loraNorms),
    evaluations: evaluations.slice(-RECENT_LIMITS.evaluations),
    merges,
    sampledCounts,
    best,
    baseModel,
  };
}

async function listFiles(dir: string): Promise<string[]> {
  try {
    return (await fs.readdir(dir, { withFileTypes: true }))
      .filter((e) => e.isFile() && !e.name.startsWith("."))
      .map((e) => e.name)
      .sort();
  } catch {
    return [];
  }
}

async function listDirs(dir: string): Promise<string[]> {
  try {
    return (await fs.readdir(dir, { withFileTypes: true }))
      .filter((e) => e.isDirectory() && !e.name.startsWith("."))
      .map((e) => e.name)
      .sort();
  } catch {
    return [];
  }
}

/**
 * Artifact files of a run, relative to its folder (temp files of atomic writes excluded).
 * checkpoints/ lists the newest N and checkpoints/best/; adapters/ and merged/ list each
 * folder's weights (adapters/<defense>/adapter_model.safetensors, merged/<strategy>/
 * model.safetensors) and the flat files of runs from before that layout; reports lists the run's
 * report files and each reports/<model>-<time>/report.md.
 */
export async function listArtifacts(dir: string): Promise<RunArtifacts> {
  const rel = async (sub: string) => (await listFiles(path.join(dir, sub))).map((f) => `${sub}/${f}`);
  const weightsIn = async (sub: string, weights: string) => {
    const out: string[] = [];
    for (const d of await listDirs(path.join(dir, sub))) if ((await listFiles(path.join(dir, sub, d))).includes(weights)) out.push(`${sub}/${d}/${weights}`);
    return out;
  };
  const top = await listFiles(dir);
  return {
    checkpoints: [...(await rel("checkpoints")), ...(await rel("checkpoints/best"))],
    adapters: [...(await rel("adapters")), ...(await weightsIn("adapters", "adapter_model.safetensors"))],
    merged: [...(await rel("merged")), ...(await weightsIn("merged", "model.safetensors"))],
    reports: [
      ...top.filter((f) => f === "report.json" || f === "report.md" || f === "robustbench.json"),
      // One model's reports ("Evaluate This Model"): reports/<model>-<time>/, oldest first.
      ...(await weightsIn("reports", "report.md")),
    ],
  };
}

function toSummary(dir: string, m: RunManifest): RunSummary {
  const { version: _v, owner: _o, ...rest } = effectiveManifest(m);
  // A best without its record (manifests before issue 12 mixed validation and test) is not shown.
  return { ...rest, bestRobustAccuracy: m.best?.worstCaseRobustAccuracy, dir: path.resolve(dir) };
}

/** annotations.json's fields for a summary: the annotations, or why the file was ignored. */
async function annotationFields(dir: string): Promise<Pick<RunSummary, "annotations" | "annotationsProblem">> {
  const { annotations, problem } = await readRunAnnotations(dir);
  return { ...(annotations ? { annotations } : {}), ...(problem ? { annotationsProblem: problem } : {}) };
}

/** The summary of the run in `dir`, with `interrupted` derived from a dead owner and the
 * user's annotations (runAnnotations.ts) laid on. */
export async function readRunSummary(dir: string): Promise<RunSummary> {
  return { ...toSummary(dir, await readManifest(dir)), ...(await annotationFields(dir)) };
}

/** Everything about the run in `dir`; works with the daemon down. */
export async function readRunDetail(dir: string): Promise<RunDetail> {
  const manifest = await readManifest(dir);
  const summary = { ...toSummary(dir, manifest), ...(await annotationFields(dir)) };
  let config: unknown = null;
  try {
    config = JSON.parse(await fs.readFile(path.join(dir, CONFIG_FILE), "utf8"));
  } catch {
    /* a run is still readable without its frozen config; the field stays null */
  }
  const metrics = summarizeMetrics(await readMetricsLines(dir), selectionTarget(summary.method, summary.defenses));
  // Older runs' manifests hold a best over every record (validation and test alike): drop it.
  const best = metrics.best;
  return {
    ...summary,
    best,
    bestRobustAccuracy: best?.worstCaseRobustAccuracy,
    config,
    recentMetrics: metrics.recentMetrics,
    loraNorms: metrics.loraNorms,
    evaluations: metrics.evaluations,
    merges: metrics.merges,
    sampledCounts: metrics.sampledCounts,
    ...(metrics.baseModel ? { baseModel: metrics.baseModel } : {}),
    artifacts: await listArtifacts(dir),
  };
}

/** Sub-folders of `runsDir` that hold a run.json. */
export async function listRunDirs(runsDir: string): Promise<string[]> {
  let entries: import("node:fs").Dirent[];
  try {
    entries = await fs.readdir(runsDir, { withFileTypes: true });
  } catch {
    return [];
  }
  const dirs: string[] = [];
  for (const e of entries) {
    const d = path.join(runsDir, e.name);
    // Dirent.isDirectory() is false for a symlink: links out of the runs folder are not runs.
    if (e.isDirectory() && isValidRunId(e.name) && (await exists(path.join(d, MANIFEST_FILE)))) dirs.push(d);
  }
  return dirs.sort();
}

/** Summaries of every readable run, newest first; unreadable folders are reported via `onError`. */
export async function listRunSummaries(
  runsDir: string,
  onError: (dir: string, e: Error) => void = () => {},
): Promise<RunSummary[]> {
  const out: RunSummary[] = [];
  for (const d of await listRunDirs(runsDir)) {
    try {
      out.push(await readRunSummary(d));
    } catch (e) {
      onError(d, e as Error);
    }
  }
  return out.sort((a, b) => (a.createdAt < b.createdAt ? 1 : a.createdAt > b.createdAt ? -1 : b.id.localeCompare(a.id)));
}
