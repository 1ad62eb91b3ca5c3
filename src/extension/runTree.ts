// What the Runs tree shows, as plain data built from run folders (RunSummary/RunDetail, read
// from disk so the tree works while the daemon is down). runExplorer.ts turns these into
// vscode.TreeItems; keeping this pure lets node:test check labels, icons and context values.
import { join } from "node:path";
import { describeBest, type RunDetail, type RunState, type RunSummary } from "../protocol/runs";
import { percent } from "./format";
import { phaseText, runPhase, type PhaseOperation } from "../protocol/runPhase";
import { configFileName } from "./configChoice";
import { modelOfArtifact, type ModelKind, type ModelSelector } from "../protocol/modelSelector";

export interface TreeNodeModel {
  /** Stable id (VS Code keeps expansion state by it). */
  id: string;
  label: string;
  description?: string;
  tooltip?: string;
  /** Codicon id. */
  icon: string;
  /** ThemeColor id for the icon. */
  iconColor?: string;
  /** Drives the menus in package.json: hyperat.run.<state>, hyperat.group, hyperat.file, hyperat.report,
   * hyperat.defense, hyperat.model.<kind>.<run state> (modelContextValue). */
  contextValue: string;
  collapsible: "none" | "collapsed" | "expanded";
  runId: string;
  /** Absolute path of a file node. */
  file?: string;
  /** The run's note (Markdown), shown under the tooltip text (runExplorer.ts renders it). */
  note?: string;
  /** A config group's key (runGrouping.ts); such a node has no run (`runId` is ""). */
  groupKey?: string;
  /** The model a model row holds (Evaluate This Model, Export…). */
  model?: ModelSelector;
}

/** A model row's context value: its kind and its run's state, so package.json's `when` clauses
 * offer Evaluate This Model in the states RUN_COMMAND_STATES.evaluate allows and Export… in
 * RUN_COMMAND_STATES.export's (src/protocol/runStates.ts; test/protocol/runStates.test.ts). */
export function modelContextValue(kind: ModelKind, state: RunState): string {
  return `hyperat.model.${kind}.${state}`;
}

const STATE_ICONS: Record<RunState, [string, string?]> = {
  queued: ["clock"],
  running: ["sync~spin", "charts.blue"],
  pausing: ["loading~spin"],
  paused: ["debug-pause", "charts.yellow"],
  merging: ["merge", "charts.blue"],
  evaluating: ["shield", "charts.blue"],
  completed: ["pass", "testing.iconPassed"],
  failed: ["error", "testing.iconFailed"],
  stopped: ["debug-stop"],
  interrupted: ["warning", "charts.orange"],
};

/** What the row knows beyond run.json: the daemon's open operation and early warnings. */
export interface RunRowLive {
  /** The run's open operation (progressTracker.ts current()). */
  operation?: PhaseOperation;
  /** The daemon is starting (spawned, not yet initialized) while this run waits for it. */
  daemonStarting?: boolean;
  /** Early warnings (flat loss, base model near chance), shown first in the tooltip. */
  warnings?: readonly string[];
}

/** How a row is laid out beyond the run itself. */
export interface RunRowLayout {
  /** The row sits under its config's group node (runGrouping.ts), which already names the config. */
  underConfigGroup?: boolean;
}

/** "#baseline #eps8" for the row's description; "" without tags. */
export function tagsText(tags: readonly string[] | undefined): string {
  return (tags ?? []).map((t) => `#${t}`).join(" ");
}

/** "#baseline · training 40/200 · two.hyperat.json · best 41.2% (uniform, val pgd-10, step 40)":
 * the user's tags (first: they name the run, and the end of a long description is cut off), the
 * phase, the config the run came from (issue 16 item 1), and a best that says what it is. */
export function runDescription(
  run: Pick<RunSummary, "state" | "step" | "totalSteps" | "best" | "annotations"> & { configPath?: string },
  live: RunRowLive = {},
  layout: RunRowLayout = {},
): string {
  const phase = runPhase(run, live.operation, live.daemonStarting);
  const tags = tagsText(run.annotations?.tags);
  const parts = [...(tags ? [tags] : []), live.warnings?.length ? `⚠ ${phaseText(phase)}` : phaseText(phase)];
  // Settled and paused runs still say how far they got.
  if (phase.kind === "settled" || phase.kind === "pausing" || phase.kind === "queued") parts.push(`step ${run.step}/${run.totalSteps}`);
  if (run.configPath && !layout.underConfigGroup) parts.push(configFileName(run.configPath));
  if (run.best) parts.push(`best ${describeBest(run.best)}`);
  return parts.join(" · ");
}

/** How a run is named to people: its display name when set (Rename Run…), else "demo · 14:02"
 * (its id is in the tooltip and the logs). */
export function runLabel(run: Pick<RunSummary, "name" | "createdAt" | "annotations">, now = new Date()): string {
  if (run.annotations?.displayName) return run.annotations.displayName;
  const time = shortTime(run.createdAt, now);
  // Ids like 20261202-070921-my-0b1a filled the sidebar and cut the state off: name and time
  // here, the id in the tooltip.
  return time ? `${run.name} · ${time}` : run.name;
}

/** Local "HH:MM" of an ISO time; "MM-DD HH:MM" when it is not on `now`'s day. */
export function shortTime(iso: string, now = new Date()): string {
  const t = new Date(iso);
  if (Number.isNaN(t.getTime())) return "";
  const two = (n: number) => String(n).padStart(2, "0");
  const hm = `${two(t.getHours())}:${two(t.getMinutes())}`;
  return t.toDateString() === now.toDateString() ? hm : `${two(t.getMonth() + 1)}-${two(t.getDate())} ${hm}`;
}

export function runNode(run: RunSummary, live: RunRowLive = {}, now = new Date(), layout: RunRowLayout = {}): TreeNodeModel {
  const [icon, iconColor] = live.warnings?.length && !ACTIVE_ICON_STATES.includes(run.state) ? ["warning", "charts.orange"] : STATE_ICONS[run.state] ?? ["circle-outline"];
  const a = run.annotations;
  const tooltip = [
    ...(live.warnings ?? []).map((w) => `⚠ ${w}`),
    run.annotationsProblem ? `⚠ ${run.annotationsProblem}` : "",
    a?.displayName ?? "",
    `${run.name} (${run.id})`,
    `${run.method}: ${run.defenses.join(", ")}`,
    `state: ${run.state}${run.message ? ` (${run.message})` : ""}`,
    `config: ${run.configPath}`,
    run.backend ? `backend: ${run.backend}` : "",
    a?.tags.length ? `tags: ${a.tags.join(", ")}` : "",
  ].filter(Boolean).join("\n");
  return {
    id: `run:${run.id}`,
    label: runLabel(run, now),
    description: runDescription(run, live, layout),
    tooltip,
    ...(a?.note ? { note: a.note } : {}),
    icon,
    iconColor,
    contextValue: `hyperat.run.${run.state}`,
    collapsible: "collapsed",
    runId: run.id,
  };
}

/** A spinning icon says more than a warning while the run works; the warning is in the text. */
const ACTIVE_ICON_STATES: readonly RunState[] = ["running", "pausing", "merging", "evaluating"];

/** Per-defense sampled share (from all steps) and the latest robust accuracy of its LoRA. */
export function defenseFacts(detail: Pick<RunDetail, "defenses" | "sampledCounts" | "evaluations">): Array<{ name: string; share: number; lastRobustAccuracy?: number }> {
  const total = Object.values(detail.sampledCounts).reduce((a, b) => a + b, 0);
  return detail.defenses.map((name) => {
    const last = [...detail.evaluations].reverse().find((e) => e.target === name);
    return { name, share: total ? (detail.sampledCounts[name] ?? 0) / total : 0, lastRobustAccuracy: last?.worstCaseRobustAccuracy };
  });
}

function group(runId: string, key: string, label: string, icon: string, count: number): TreeNodeModel {
  return { id: `run:${runId}/${key}`, label, description: String(count), icon, contextValue: "hyperat.group", collapsible: count ? "collapsed" : "none", runId };
}

export type GroupKey = "defenses" | "checkpoints" | "adapters" | "merged" | "reports";

/** The run's children: one group per kind of thing in the folder, and the base model the run tuned. */
export function runGroups(detail: RunDetail): TreeNodeModel[] {
  const a = detail.artifacts;
  return [
    group(detail.id, "defenses", "Defenses", "shield", detail.defenses.length),
    group(detail.id, "checkpoints", "Checkpoints", "history", a.checkpoints.length),
    baseModelRow(detail),
    group(detail.id, "adapters", "Adapters", "extensions", a.adapters.length),
    group(detail.id, "merged", "Merged models", "merge", a.merged.length),
    group(detail.id, "reports", "Reports", "output", a.reports.length),
  ];
}

/** The backbone as a row of its own, so Evaluate This Model reaches it (it is no file of the run:
 * no Copy Path, Reveal or Export…). Its clean accuracy when the run measured it (issue 16 item 2). */
export function baseModelRow(detail: Pick<RunDetail, "id" | "state" | "baseModel">): TreeNodeModel {
  const b = detail.baseModel;
  return {
    id: `run:${detail.id}/base`,
    label: "Base model",
    ...(b ? { description: `clean ${percent(b.cleanAccuracy)} (val, n=${b.n})`, tooltip: `${b.source}${b.nearChance ? `\nnear chance${b.hint ? `: ${b.hint}` : ""}` : ""}` } : {}),
    icon: "package",
    contextValue: modelContextValue("base", detail.state),
    collapsible: "none",
    runId: detail.id,
    model: { kind: "base" },
  };
}

export function groupChildren(detail: RunDetail, key: GroupKey): TreeNodeModel[] {
  if (key === "defenses") {
    return defenseFacts(detail).map((d) => ({
      id: `run:${detail.id}/defenses/${d.name}`,
      label: d.name,
      description: `sampled ${percent(d.share, 0)} · robust ${percent(d.lastRobustAccuracy)}`,
      icon: "shield",
      contextValue: "hyperat.defense",
      collapsible: "none",
      runId: detail.id,
    }));
  }
  const files = detail.artifacts[key];
  return files.map((rel) => {
    const model = key === "adapters" || key === "merged" ? modelOfArtifact(rel) : undefined;
    return {
      id: `run:${detail.id}/${key}/${rel}`,
      ...(key === "merged" ? mergedLabel(rel) : { label: rel.split("/").pop() ?? rel, description: rel.includes("/") ? rel.slice(0, rel.lastIndexOf("/")) : undefined }),
      icon: key === "reports" ? "file-text" : "file-binary",
      contextValue: model ? modelContextValue(model.kind, detail.state) : key === "reports" ? "hyperat.report" : "hyperat.file",
      collapsible: "none",
      runId: detail.id,
      file: join(detail.dir, rel),
      ...(model ? { model } : {}),
    };
  });
}

/** A merged model's row says which strategy it holds (issue 16 item 5): merged/<strategy>/model.safetensors,
 * or an older run's merged/model-<strategy>.safetensors. */
export function mergedLabel(rel: string): { label: string; description?: string } {
  const m = /^merged\/(?:([^/]+)\/model\.safetensors|model-([^/]+)\.safetensors)$/.exec(rel);
  const strategy = m?.[1] ?? m?.[2];
  return strategy ? { label: `${strategy} merge`, description: rel } : { label: rel.split("/").pop() ?? rel, description: rel.includes("/") ? rel.slice(0, rel.lastIndexOf("/")) : undefined };
}
