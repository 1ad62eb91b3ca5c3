// Messages between the extension host and the compare-runs webview (postMessage only). Plain
// types and `is...` guards with no runtime imports, as ./webview.ts: the page bundle loads this.
import type { EvaluationRecord, RunState } from "./runs";

/** One run's kept step trajectory as parallel arrays (compact for 100k-step runs). */
export interface CompareSteps {
  step: number[];
  loss: number[];
  cleanAcc: number[];
  advAcc: number[];
  lr: number[];
}

export interface CompareRun {
  id: string;
  name: string;
  /** The run's display name (Rename Run…, annotations.json); the page labels the run by it, else by its id. */
  displayName?: string;
  state: RunState;
  method: string;
  /** The target the run's best checkpoint is chosen by (its validation curve is overlaid). */
  bestTarget?: string;
  steps: CompareSteps;
  /** Validation (val) and final evaluation (test) records, oldest first. */
  evaluations: EvaluationRecord[];
}

/** A row of the robustness table: one model of one run. */
export interface CompareRow {
  runId: string;
  /** The display name when set, else the config's name. */
  runName: string;
  target: string;
  /** The last test-split evaluation of this model, else its last validation. */
  final?: { worstCase: number; clean: number; split: "val" | "test"; step: number };
  /** The highest worst-case robust accuracy any validation or evaluation of it reached. */
  best?: { worstCase: number; split: "val" | "test"; step: number };
}

/** A config field that differs between the runs: its JSON path and each run's value as JSON
 * text (undefined where the run's config lacks it). */
export interface ConfigDiffRow {
  path: string;
  values: Array<string | undefined>;
}

/** How the page names a run: its display name, else its id (unique, unlike config names). */
export function compareRunLabel(run: Pick<CompareRun, "id" | "displayName">): string {
  return run.displayName ?? run.id;
}

export type HostToCompareMessage = { type: "compare"; runs: CompareRun[]; table: CompareRow[]; diff: ConfigDiffRow[] };

export const EXPORT_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;

/** Page → host: `ready` asks for the data; `export` saves a chart (PNG data: URL) or CSV text. */
export type CompareToHostMessage =
  | { type: "ready" }
  | { type: "export"; format: "png" | "csv"; name: string; data: string };

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);
const isStr = (v: unknown): v is string => typeof v === "string";
/** Finite numbers; NaN (a diverged loss) crosses postMessage intact and is allowed in steps. */
const isNumArray = (v: unknown): v is number[] => Array.isArray(v) && v.every((x) => typeof x === "number");

function isCompareRun(v: unknown): v is CompareRun {
  if (!isObj(v) || !isStr(v.id) || !isStr(v.name) || !isStr(v.state) || !isStr(v.method) || !isObj(v.steps) || !Array.isArray(v.evaluations)) return false;
  if (v.displayName !== undefined && !isStr(v.displayName)) return false;
  const s = v.steps;
  const n = isNumArray(s.step) ? s.step.length : -1;
  return n >= 0 && [s.loss, s.cleanAcc, s.advAcc, s.lr].every((a) => isNumArray(a) && a.length === n);
}

export function isHostToCompareMessage(v: unknown): v is HostToCompareMessage {
  return (
    isObj(v) && v.type === "compare" && Array.isArray(v.runs) && v.runs.every(isCompareRun) &&
    Array.isArray(v.table) && v.table.every((r) => isObj(r) && isStr(r.runId) && isStr(r.target)) &&
    Array.isArray(v.diff) && v.diff.every((d) => isObj(d) && isStr(d.path) && Array.isArray(d.values) && d.values.length === (v.runs as unknown[]).length)
  );
}

/** PNG data: URLs up to 20 MB and CSV up to 64 MB; anything else from the page is refused. */
export function isCompareToHostMessage(v: unknown): v is CompareToHostMessage {
  if (!isObj(v)) return false;
  if (v.type === "ready") return true;
  if (v.type !== "export" || !isStr(v.name) || !EXPORT_NAME.test(v.name) || !isStr(v.data)) return false;
  if (v.format === "png") return v.data.startsWith("data:image/png;base64,") && v.data.length <= 20 * 2 ** 20;
  return v.format === "csv" && v.data.length <= 64 * 2 ** 20;
}
