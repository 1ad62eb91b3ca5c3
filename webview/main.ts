// The run dashboard (browser side). Receives HostToWebviewMessage via postMessage, validates
// each one, and renders with @vscode-elements/elements controls and Chart.js charts themed by
// VS Code's CSS variables. Sends only `ready` and button `action`s back.
import type { Chart as ChartType, Plugin } from "chart.js" with { "resolution-mode": "import" };
import { runDisplayName, type RunDetail, type StepMetric } from "../src/protocol/runs";
import { isHostToWebviewMessage, type HostToWebviewMessage, type OperationProgress, type WebviewAction, type WebviewToHostMessage } from "../src/protocol/webview";
import { actionEnabled } from "./actions";
import { accuracyCurves, bestPoints, lossCurves, lrCurve, normsHeatmap, samplingShares, scale01, trainAccuracyCurves, type Heatmap, type Series } from "./series";
import { lineDatasets, lineOptions, type AxisChoice } from "./chartOptions";
import { countSampled, foldHistory, mergeRecent } from "./history";
import { EXAMPLES_CSS, renderExamples } from "./examples";
import type { ExampleStrip } from "../src/protocol/webview";
import { formatDeviation, lambdaCaption, lambdaView } from "./lambdaView";
import { phaseText, runPhase } from "../src/protocol/runPhase";
import { flatLoss, flatLossText } from "../src/protocol/trainingChecks";
import { baseCss, el, seriesColor, themeVar } from "./dom";

declare function acquireVsCodeApi(): { postMessage(m: WebviewToHostMessage): void; setState(s: { runId: string }): void };
const vscode = acquireVsCodeApi();
// Saved with the page so VS Code can restore this dashboard after a window reload (dashboardState.ts).
if (document.body.dataset.runId) vscode.setState({ runId: document.body.dataset.runId });

let detail: RunDetail | undefined;
/** Every step of the kept trajectory: the streamed metrics.jsonl plus live steps (history.ts). */
let steps: StepMetric[] = [];
/** EMA weight of the smoothed curves (TensorBoard's default). */
let smoothing = 0.6;
let logLoss = false;
let historyLoading = false;
let operation: OperationProgress | null = null;
let strips: ExampleStrip[] = [];
const charts = new Map<string, ChartType>();
// chart.js is ESM-only; a dynamic import keeps this file type-checkable as CommonJS (esbuild inlines it).
let Chart: typeof ChartType;

const css = themeVar;
const color = seriesColor;

function layout(): void {
  const app = document.getElementById("app")!;
  app.replaceChildren();
  const style = el("style");
  style.textContent = `${baseCss(380)}
    table.heat { border-collapse: collapse; font-size: 11px; }
    table.heat td, table.heat th { padding: 2px 6px; text-align: right; }
    table.heat th { font-weight: normal; opacity: .8; }
    .actions { display: flex; gap: 6px; flex-wrap: wrap; }
    .controls { display: flex; gap: 10px; align-items: center; flex-wrap: wrap; width: 100%; }
    #history { opacity: .7; }
    .warnings { color: var(--vscode-editorWarning-foreground); }
    #base-model { opacity: .8; }${EXAMPLES_CSS}`;
  const header = el("header");
  header.append(
    el("h2", { id: "title" }, document.body.dataset.runId ?? "run"),
    el("vscode-badge", { id: "state" }, "…"),
    el("span", { id: "progress" }),
    el("span", { id: "operation" }),
    el("span", { id: "base-model" }),
    el("span", { id: "warnings", class: "warnings" }),
  );
  const actions = el("div", { class: "actions" });
  const buttons: Array<[string, WebviewToHostMessage]> = [
    ["Pause", { type: "action", action: "pause" }],
    ["Resume", { type: "action", action: "resume" }],
    ["Stop", { type: "action", action: "stop" }],
    ["Cancel", { type: "action", action: "cancel" }],
    ["Merge (adaptive)", { type: "action", action: "merge", strategy: "adaptive" }],
    ["Merge (uniform)", { type: "action", action: "merge", strategy: "uniform" }],
    ["Evaluate", { type: "action", action: "evaluate" }],
    ["Open report", { type: "action", action: "openReport" }],
  ];
  for (const [label, msg] of buttons) {
    const b = el("vscode-button", { secondary: "", "data-action": msg.type === "action" ? msg.action : "" }, label);
    b.addEventListener("click", () => vscode.postMessage(msg));
    actions.append(b);
  }
  header.append(actions);
  const controls = el("div", { class: "controls" });
  const slider = el("input", { id: "smoothing", type: "range", min: "0", max: "0.99", step: "0.01", value: String(smoothing) });
  const sliderLabel = el("span", { id: "smoothing-label" }, `smoothing ${smoothing.toFixed(2)}`);
  slider.addEventListener("input", () => {
    smoothing = Number(slider.value);
    sliderLabel.textContent = `smoothing ${smoothing.toFixed(2)}`;
    scheduleRender();
  });
  const log = el("input", { id: "log-loss", type: "checkbox" });
  log.addEventListener("change", () => {
    logLoss = log.checked;
    scheduleRender();
  });
  const logLabel = el("label", {}, " log-scale loss");
  logLabel.prepend(log);
  const reset = el("vscode-button", { secondary: "", id: "reset-zoom" }, "Reset zoom");
  reset.addEventListener("click", () => {
    for (const c of charts.values()) (c as ChartType & { resetZoom?: () => void }).resetZoom?.();
  });
  controls.append(sliderLabel, slider, logLabel, reset, el("span", { id: "history" }));
  header.append(controls);
  const grid = el("div", { class: "grid" });
  const card = (id: string, title: string, body: HTMLElement) => {
    const c = el("section", { class: "card", id: `card-${id}` });
    c.append(el("h3", {}, title), body);
    grid.append(c);
  };
  card("sampling", "Task sampling: share of steps per defense", el("canvas", { id: "chart-sampling" }));
  card("accuracy", "Robust accuracy (worst case) per LoRA and merge; clean dashed", el("canvas", { id: "chart-accuracy" }));
  card("loss", "Training loss", el("canvas", { id: "chart-loss" }));
  card("trainacc", "Training batch accuracy: clean dashed, adversarial solid", el("canvas", { id: "chart-trainacc" }));
  card("lr", "Learning rate", el("canvas", { id: "chart-lr" }));
  const norms = el("div");
  norms.append(el("input", { id: "norms-step", type: "range", min: "0", max: "0", value: "0" }), el("span", { id: "norms-label" }), el("div", { id: "norms-table" }));
  card("norms", "Per-layer LoRA norms ‖ΔW‖ (layers × defenses)", norms);
  card("lambdas", "Adaptive merge: λ − 1/K per block and defense (0 = uniform)", el("div", { id: "lambdas-table" }, ""));
  card("examples", "Adversarial examples of the last evaluation", el("div", { id: "examples-strip" }));
  app.append(style, header, grid);
  (document.getElementById("norms-step") as HTMLInputElement).addEventListener("input", () => renderNorms());
}

function lineChart(id: string, series: Series[], axis: AxisChoice = {}): void {
  const canvas = document.getElementById(`chart-${id}`) as HTMLCanvasElement | null;
  if (!canvas) return;
  canvas.dataset.points = String(series.reduce((n, s) => n + s.points.length, 0));
  canvas.dataset.series = String(series.filter((s) => !s.hideInLegend).length);
  const theme = { fg: css("--vscode-foreground", "#ccc"), grid: css("--vscode-editorWidget-border", "#8884"), color };
  const datasets = lineDatasets(series, theme, axis);
  const key = JSON.stringify(axis);
  const existing = charts.get(id);
  if (existing && canvas.dataset.axis === key) {
    existing.data.datasets = datasets;
    existing.update("none");
    return;
  }
  existing?.destroy();
  canvas.dataset.axis = key;
  charts.set(id, new Chart(canvas, { type: "line", data: { datasets }, options: lineOptions(theme, axis) }));
}

function heatTable(h: Heatmap, digits: number, texts?: string[][]): HTMLTableElement {
  const table = el("table", { class: "heat" });
  const head = el("tr");
  head.append(el("th"), ...h.cols.map((c) => el("th", {}, c)));
  table.append(head);
  const hot = css("--vscode-charts-orange", "#d18616");
  h.rows.forEach((r, i) => {
    const tr = el("tr");
    tr.append(el("th", {}, r));
    for (const [j, v] of h.values[i].entries()) {
      const td = el("td", {}, texts?.[i]?.[j] ?? (Number.isFinite(v) ? v.toFixed(digits) : "–"));
      td.style.background = `color-mix(in srgb, ${hot} ${Math.round(scale01(v, h.min, h.max) * 85)}%, transparent)`;
      tr.append(td);
    }
    table.append(tr);
  });
  return table;
}

function renderNorms(): void {
  const box = document.getElementById("norms-table")!;
  const slider = document.getElementById("norms-step") as HTMLInputElement;
  const snaps = detail?.loraNorms ?? [];
  if (snaps.length === 0) {
    box.replaceChildren(el("p", { class: "empty" }, "No LoRA norms yet."));
    return;
  }
  const atEnd = Number(slider.value) >= Number(slider.max);
  slider.max = String(snaps.length - 1);
  if (atEnd) slider.value = slider.max; // follow live updates unless the user scrolled back
  const snap = snaps[Number(slider.value)];
  document.getElementById("norms-label")!.textContent = ` step ${snap.step}`;
  box.replaceChildren(heatTable(normsHeatmap(snap), 3));
}

function renderLambdas(): void {
  const box = document.getElementById("lambdas-table")!;
  const v = lambdaView(detail?.merges ?? []);
  if (!v) {
    box.replaceChildren(el("p", { class: "empty" }, "No adaptive merge yet: merge the run with the adaptive strategy to see λ per block and defense."));
    return;
  }
  // Colour by |deviation| so a merge that moved λ stands out; the caption says by how much.
  const table = heatTable({ rows: v.rows, cols: v.cols, values: v.deviation.map((r) => r.map(Math.abs)), min: 0, max: v.maxAbs }, 4, v.deviation.map((r) => r.map(formatDeviation)));
  box.replaceChildren(table, el("p", { id: "lambdas-caption" }, lambdaCaption(v)));
}

function renderHeader(): void {
  if (!detail) return;
  document.getElementById("title")!.textContent = `${runDisplayName(detail)} · ${detail.id}`;
  document.getElementById("state")!.textContent = detail.state;
  // The phase (pretraining n/N, training n/N, validating, merging %, ...) with the step when settled.
  const phase = runPhase(detail, operation ?? undefined);
  const phaseLine = phase.kind === "settled" || phase.kind === "pausing" ? `${phaseText(phase)} · step ${detail.step}/${detail.totalSteps}` : phaseText(phase);
  document.getElementById("progress")!.textContent = `${phaseLine}${detail.message ? ` · ${detail.message}` : ""}`;
  const b0 = detail.baseModel;
  document.getElementById("base-model")!.textContent = b0 ? `base model ${(100 * b0.cleanAccuracy).toFixed(1)}% clean (chance ${Number((100 / b0.numClasses).toFixed(1))}%)` : "";
  const warnings = [...(b0?.nearChance ? [`base model near chance${b0.hint ? `: ${b0.hint}` : ""}`] : [])];
  const flat = flatLoss(steps);
  if (flat) warnings.push(flatLossText(flat));
  document.getElementById("warnings")!.textContent = warnings.map((w) => `⚠ ${w}`).join(" · ");
  // The run's own report (one model's, under reports/, does not make "Open report" work).
  const hasReport = detail.artifacts.reports.includes("report.md");
  for (const b of Array.from(document.querySelectorAll<HTMLElement>("vscode-button[data-action]"))) {
    const action = b.dataset.action as WebviewAction;
    // "Open report" before any report exists only led to a "no report yet" toast.
    const on = actionEnabled(action, detail.state) && (action !== "openReport" || hasReport);
    if (on) b.removeAttribute("disabled");
    else b.setAttribute("disabled", "");
  }
}

/** The merge/evaluation/preparation in progress, from the host's progress tracker. */
function renderOperation(): void {
  const box = document.getElementById("operation")!;
  const pct = operation?.percentage !== undefined ? ` ${Math.round(operation.percentage)}%` : "";
  box.textContent = operation ? `${operation.title}${pct}${operation.message ? ` · ${operation.message}` : ""}` : "";
  box.hidden = !operation;
}

function render(): void {
  if (!detail) return;
  renderHeader();
  lineChart("sampling", samplingShares(steps, detail.defenses), { yMin: 0, yMax: 1 });
  lineChart("accuracy", [...accuracyCurves(detail.evaluations), ...bestPoints(detail.evaluations)], { yMin: 0, yMax: 1 });
  lineChart("loss", lossCurves(steps, smoothing), { logY: logLoss });
  lineChart("trainacc", trainAccuracyCurves(steps, smoothing), { yMin: 0, yMax: 1 });
  lineChart("lr", lrCurve(steps));
  document.getElementById("history")!.textContent = `${steps.length.toLocaleString("en-US")} steps${historyLoading ? " (loading history…)" : ""}`;
  renderNorms();
  renderLambdas();
  if (strips.length === 0) renderExamples(document.getElementById("examples-strip")!, strips);
}

let scheduled = false;
function scheduleRender(): void {
  if (scheduled) return;
  scheduled = true;
  requestAnimationFrame(() => {
    scheduled = false;
    render();
  });
}

function apply(m: HostToWebviewMessage): void {
  if (m.type === "progress") {
    operation = m.progress;
    renderOperation();
    renderHeader();
    return;
  }
  if (m.type === "examples") {
    strips = m.strips;
    renderExamples(document.getElementById("examples-strip")!, strips);
    return;
  }
  if (m.type === "snapshot") {
    detail = m.detail;
    steps = mergeRecent(steps, detail.recentMetrics);
    detail.sampledCounts = countSampled(steps);
    scheduleRender();
    return;
  }
  if (m.type === "history") {
    if (m.first) steps = [];
    foldHistory(steps, m.events);
    historyLoading = !m.done;
    if (detail) detail.sampledCounts = countSampled(steps);
    scheduleRender();
    return;
  }
  if (!detail) return; // live events before the first snapshot are covered by it
  switch (m.type) {
    case "status":
      Object.assign(detail, { state: m.state, step: m.step, totalSteps: m.totalSteps, message: m.message });
      break;
    case "metrics":
      foldHistory(steps, [{ kind: "step", ...m.metric }]);
      detail.sampledCounts[m.metric.defense] = (detail.sampledCounts[m.metric.defense] ?? 0) + 1;
      detail.step = m.metric.step;
      break;
    case "loraNorms":
      detail.loraNorms.push(m.snapshot);
      break;
    case "evaluation":
      detail.evaluations.push(m.record);
      break;
    case "merge":
      detail.merges.push(m.merge);
      break;
  }
  scheduleRender();
}

async function main(): Promise<void> {
  const c = await import("chart.js");
  // Typed for CommonJS here; the bundle (ESM) gets the plugin object as the default export.
  const zoomModule = (await import("chartjs-plugin-zoom")) as unknown as { default?: Plugin };
  const zoom = (zoomModule.default ?? zoomModule) as Plugin;
  c.Chart.register(c.LineController, c.LineElement, c.PointElement, c.LinearScale, c.LogarithmicScale, c.Legend, c.Tooltip, c.Decimation, zoom);
  Chart = c.Chart;
  layout();
  window.addEventListener("message", (e: MessageEvent<unknown>) => {
    if (isHostToWebviewMessage(e.data)) apply(e.data);
    else console.warn("HyperAT dashboard: ignored an invalid message", e.data);
  });
  vscode.postMessage({ type: "ready" });
}

void main();
