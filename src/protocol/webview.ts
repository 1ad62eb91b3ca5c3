// Messages between the extension host and a run dashboard webview (postMessage only).
// Plain types and `is...` guards, no runtime imports: the webview bundle cannot load
// vscode-jsonrpc, and both sides validate every message they receive.
import type { EvaluationRecord, LoraNormsSnapshot, MergeRecord, MergeStrategy, RunDetail, RunState, StepMetric } from "./runs";
import { RUN_STATES } from "./runs";

/** One training event of the full history: a step, or a resume that supersedes later steps. */
export type HistoryEvent = ({ kind: "step" } & StepMetric) | { kind: "resume"; fromStep: number };

/** Host → webview. `snapshot` replaces everything; the others append. */
export type HostToWebviewMessage =
  | { type: "snapshot"; detail: RunDetail }
  /** The whole metrics.jsonl in chunks after a snapshot (`first` starts over, `done` ends it),
   * then, for runs no daemon reports on (CLI runs), its new lines as they are appended. */
  | { type: "history"; first: boolean; done: boolean; events: HistoryEvent[] }
  | { type: "status"; state: RunState; step: number; totalSteps: number; message?: string }
  | { type: "metrics"; metric: StepMetric }
  | { type: "loraNorms"; snapshot: LoraNormsSnapshot }
  | { type: "evaluation"; record: EvaluationRecord }
  | { type: "merge"; merge: MergeRecord }
  /** The run's operation in progress (merge, evaluation, preparation), or null when none. */
  | { type: "progress"; progress: OperationProgress | null }
  /** The last evaluation's adversarial examples (examples.safetensors), one strip per model. */
  | { type: "examples"; strips: ExampleStrip[] };

/** One test image as an evaluation left it, for one model. Images are PNG data: URLs. */
export interface ExampleItem {
  /** Index in the test split. */
  index: number;
  label: number;
  cleanPred: number;
  advPred: number;
  /** "clean" (misclassified without attack), the first attack that broke it, or null (robust). */
  brokenBy: string | null;
  clean: string;
  adversarial: string;
  /** The perturbation amplified: mid-grey is no change, ±eps spans black to white. */
  perturbation: string;
}

export interface ExampleStrip {
  target: string;
  /** The report's model name (hyperat-adaptive, pretrained, ...). */
  name: string;
  eps: string;
  step: number;
  items: ExampleItem[];
}

/** What the dashboard header shows while an operation of the run is in progress. */
export interface OperationProgress {
  title: string;
  /** prepare, validate, merge or evaluate (src/protocol/methods.ts ProgressOperation). */
  operation?: string;
  message?: string;
  /** 0..100 */
  percentage?: number;
  cancellable: boolean;
}

export const WEBVIEW_ACTIONS = ["pause", "resume", "stop", "cancel", "merge", "evaluate", "openReport", "revealFolder"] as const;
export type WebviewAction = (typeof WEBVIEW_ACTIONS)[number];

/** Webview → host. `ready` asks for a snapshot; `action` forwards a button press. */
export type WebviewToHostMessage =
  | { type: "ready" }
  | { type: "action"; action: WebviewAction; strategy?: MergeStrategy };

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);
const isNum = (v: unknown): v is number => typeof v === "number" && Number.isFinite(v);
const isStr = (v: unknown): v is string => typeof v === "string";
const isNumArray = (v: unknown): v is number[] => Array.isArray(v) && v.every(isNum);
const isStrArray = (v: unknown): v is string[] => Array.isArray(v) && v.every(isStr);
const isRecordOf = <T>(v: unknown, item: (x: unknown) => x is T): v is Record<string, T> =>
  isObj(v) && Object.values(v).every(item);

export function isRunState(v: unknown): v is RunState {
  return (RUN_STATES as readonly unknown[]).includes(v);
}

export function isStepMetric(v: unknown): v is StepMetric {
  return (
    isObj(v) && isNum(v.step) && isNum(v.totalSteps) && isStr(v.defense) && isNum(v.loss) &&
    isNum(v.cleanAcc) && isNum(v.advAcc) && isNum(v.lr) && isNum(v.seconds)
  );
}

export function isLoraNormsSnapshot(v: unknown): v is LoraNormsSnapshot {
  if (!isObj(v) || !isNum(v.step) || !isStrArray(v.layers) || !isRecordOf(v.norms, isNumArray)) return false;
  const n = v.layers.length;
  return Object.values(v.norms).every((row) => row.length === n);
}

export function isEvaluationRecord(v: unknown): v is EvaluationRecord {
  return (
    isObj(v) && isNum(v.step) && isStr(v.target) && isNum(v.cleanAccuracy) &&
    isRecordOf(v.robustAccuracy, isNum) && isNum(v.worstCaseRobustAccuracy)
  );
}

export function isHistoryEvent(v: unknown): v is HistoryEvent {
  if (!isObj(v)) return false;
  if (v.kind === "resume") return isNum(v.fromStep);
  return v.kind === "step" && isStepMetric(v);
}

export function isMergeRecord(v: unknown): v is MergeRecord {
  return (
    isObj(v) && (v.strategy === "uniform" || v.strategy === "adaptive") && isStr(v.modelPath) && isStr(v.time) &&
    (v.lambdas === undefined || isRecordOf(v.lambdas, isNumArray))
  );
}

/** Shallow check of a RunDetail: the summary fields and the array/record containers. */
export function isRunDetail(v: unknown): v is RunDetail {
  return (
    isObj(v) && isStr(v.id) && isStr(v.name) && isRunState(v.state) && isNum(v.step) && isNum(v.totalSteps) &&
    isStrArray(v.defenses) && Array.isArray(v.recentMetrics) && v.recentMetrics.every(isStepMetric) &&
    Array.isArray(v.loraNorms) && v.loraNorms.every(isLoraNormsSnapshot) &&
    Array.isArray(v.evaluations) && v.evaluations.every(isEvaluationRecord) &&
    Array.isArray(v.merges) && v.merges.every(isMergeRecord) && isRecordOf(v.sampledCounts, isNum)
  );
}

const isPngUrl = (v: unknown): v is string => isStr(v) && v.startsWith("data:image/png;base64,");

export function isExampleStrip(v: unknown): v is ExampleStrip {
  return (
    isObj(v) && isStr(v.target) && isStr(v.name) && isStr(v.eps) && isNum(v.step) && Array.isArray(v.items) &&
    v.items.every((i) => isObj(i) && isNum(i.index) && isNum(i.label) && isNum(i.cleanPred) && isNum(i.advPred) &&
      (i.brokenBy === null || isStr(i.brokenBy)) && isPngUrl(i.clean) && isPngUrl(i.adversarial) && isPngUrl(i.perturbation))
  );
}

export function isHostToWebviewMessage(v: unknown): v is HostToWebviewMessage {
  if (!isObj(v)) return false;
  switch (v.type) {
    case "snapshot":
      return isRunDetail(v.detail);
    case "status":
      return isRunState(v.state) && isNum(v.step) && isNum(v.totalSteps) && (v.message === undefined || isStr(v.message));
    case "metrics":
      return isStepMetric(v.metric);
    case "history":
      return typeof v.first === "boolean" && typeof v.done === "boolean" && Array.isArray(v.events) && v.events.every(isHistoryEvent);
    case "loraNorms":
      return isLoraNormsSnapshot(v.snapshot);
    case "evaluation":
      return isEvaluationRecord(v.record);
    case "merge":
      return isMergeRecord(v.merge);
    case "examples":
      return Array.isArray(v.strips) && v.strips.every(isExampleStrip);
    case "progress":
      return v.progress === null || (isObj(v.progress) && isStr(v.progress.title) && typeof v.progress.cancellable === "boolean" &&
        (v.progress.message === undefined || isStr(v.progress.message)) && (v.progress.percentage === undefined || isNum(v.progress.percentage)) &&
        (v.progress.operation === undefined || isStr(v.progress.operation)));
    default:
      return false;
  }
}

export function isWebviewToHostMessage(v: unknown): v is WebviewToHostMessage {
  if (!isObj(v)) return false;
  if (v.type === "ready") return true;
  if (v.type !== "action") return false;
  if (!(WEBVIEW_ACTIONS as readonly unknown[]).includes(v.action)) return false;
  return v.strategy === undefined || v.strategy === "uniform" || v.strategy === "adaptive";
}
