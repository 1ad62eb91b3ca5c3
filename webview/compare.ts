// The compare-runs page (browser side): overlaid curves per metric (one line per run), the
// robustness table and the config diff, each exportable (charts as PNG, data as CSV). Receives
// one validated HostToCompareMessage; sends `ready` and `export` (src/protocol/compare.ts).
import type { Chart as ChartType, Plugin } from "chart.js" with { "resolution-mode": "import" };
import { compareRunLabel, isHostToCompareMessage, type CompareToHostMessage, type HostToCompareMessage } from "../src/protocol/compare";
import { lineDatasets, lineOptions, type AxisChoice } from "./chartOptions";
import { OVERLAY_METRICS, diffCsv, overlaySeries, seriesCsv, tableCsv, validationSeries, type OverlayMetric } from "./compareSeries";
import type { Series } from "./series";
import { baseCss, el, seriesColor, themeVar } from "./dom";
import { formatPercent } from "../src/core/evaluate/percent";

declare function acquireVsCodeApi(): { postMessage(m: CompareToHostMessage): void };
const vscode = acquireVsCodeApi();

let data: Extract<HostToCompareMessage, { type: "compare" }> | undefined;
let smoothing = 0.6;
const charts = new Map<string, ChartType>();
const chartSeries = new Map<string, Series[]>();
let Chart: typeof ChartType;

const css = themeVar;
const color = seriesColor;
// The robustness table prints percentages as every report does.
const pct = formatPercent;

function button(label: string, id: string, onClick: () => void): HTMLElement {
  const b = el("vscode-button", { secondary: "", id }, label);
  b.addEventListener("click", onClick);
  return b;
}

const exportCsv = (name: string, text: string) => vscode.postMessage({ type: "export", format: "csv", name, data: text });

function card(grid: HTMLElement, id: string, title: string, body: HTMLElement, exports: HTMLElement[]): void {
  const c = el("section", { class: "card", id: `card-${id}` });
  const h = el("h3", {}, title);
  const tools = el("span", { class: "tools" });
  tools.append(...exports);
  h.append(tools);
  c.append(h, body);
  grid.append(c);
}

function layout(): void {
  const app = document.getElementById("app")!;
  app.replaceChildren();
  const style = el("style");
  style.textContent = `${baseCss(420)}
    .card h3 { display: flex; justify-content: space-between; gap: 8px; }
    .card .tools { display: flex; gap: 4px; }
    .wide { grid-column: 1 / -1; }
    table.data { border-collapse: collapse; font-size: 12px; }
    table.data td, table.data th { padding: 2px 8px; border-bottom: 1px solid var(--vscode-panel-border, #8883); text-align: left; }
    table.data td.num { text-align: right; font-variant-numeric: tabular-nums; }`;
  const header = el("header");
  const slider = el("input", { id: "smoothing", type: "range", min: "0", max: "0.99", step: "0.01", value: String(smoothing) }) as HTMLInputElement;
  const label = el("span", { id: "smoothing-label" }, `smoothing ${smoothing.toFixed(2)}`);
  slider.addEventListener("input", () => {
    smoothing = Number(slider.value);
    label.textContent = `smoothing ${smoothing.toFixed(2)}`;
    render();
  });
  header.append(el("h2", { id: "title" }, "Compare runs"), label, slider,
    button("Reset zoom", "reset-zoom", () => charts.forEach((c) => (c as ChartType & { resetZoom?: () => void }).resetZoom?.())));
  const grid = el("div", { class: "grid" });
  card(grid, "table", "Worst-case robust accuracy per model: final and best", el("div", { id: "runs-table" }), [
    button("CSV", "export-table-csv", () => data && exportCsv("robustness", tableCsv(data.table))),
  ]);
  card(grid, "diff", "Config fields that differ", el("div", { id: "config-diff" }), [
    button("CSV", "export-diff-csv", () => data && exportCsv("config-diff", diffCsv(data.diff, data.runs))),
  ]);
  const charted: Array<[string, string]> = [["val", "Validation worst-case robust accuracy"], ...OVERLAY_METRICS.map((m): [string, string] => [m.id, m.title])];
  for (const [id, title] of charted) {
    card(grid, id, title, el("canvas", { id: `chart-${id}` }), [
      button("PNG", `export-${id}-png`, () => {
        const chart = charts.get(id);
        if (chart) vscode.postMessage({ type: "export", format: "png", name: id, data: chart.toBase64Image("image/png") });
      }),
      button("CSV", `export-${id}-csv`, () => exportCsv(id, seriesCsv(chartSeries.get(id) ?? [], id === "val" ? "worst_case_robust_accuracy" : id))),
    ]);
  }
  grid.querySelector("#card-table")!.classList.add("wide");
  grid.querySelector("#card-diff")!.classList.add("wide");
  app.append(style, header, grid);
}

function lineChart(id: string, series: Series[], axis: AxisChoice = {}): void {
  chartSeries.set(id, series);
  const canvas = document.getElementById(`chart-${id}`) as HTMLCanvasElement;
  canvas.dataset.series = String(series.length);
  canvas.dataset.points = String(series.reduce((n, s) => n + s.points.length, 0));
  const theme = { fg: css("--vscode-foreground", "#ccc"), grid: css("--vscode-editorWidget-border", "#8884"), color };
  const datasets = lineDatasets(series, theme, axis);
  const existing = charts.get(id);
  if (existing) {
    existing.data.datasets = datasets;
    existing.update("none");
    return;
  }
  charts.set(id, new Chart(canvas, { type: "line", data: { datasets }, options: lineOptions(theme, axis) }));
}

function table(header: string[], rows: Array<Array<{ text: string; num?: boolean }>>): HTMLElement {
  const t = el("table", { class: "data" });
  const head = el("tr");
  head.append(...header.map((h) => el("th", {}, h)));
  t.append(head);
  for (const r of rows) {
    const tr = el("tr");
    tr.append(...r.map((c) => el("td", c.num ? { class: "num" } : {}, c.text)));
    t.append(tr);
  }
  return t;
}

function render(): void {
  if (!data) return;
  document.getElementById("title")!.textContent = `Compare ${data.runs.length} runs`;
  const tableBox = document.getElementById("runs-table")!;
  tableBox.replaceChildren(data.table.length === 0
    ? el("p", { class: "empty" }, "No validation or evaluation in these runs yet.")
    : table(["run", "model", "final worst case", "final clean", "final from", "best worst case", "best at"], data.table.map((r) => [
      { text: r.runId }, { text: r.target }, { text: pct(r.final?.worstCase), num: true }, { text: pct(r.final?.clean), num: true },
      { text: r.final ? `${r.final.split} @ step ${r.final.step}` : "–" }, { text: pct(r.best?.worstCase), num: true },
      { text: r.best ? `${r.best.split} @ step ${r.best.step}` : "–" },
    ])));
  const diffBox = document.getElementById("config-diff")!;
  diffBox.replaceChildren(data.diff.length === 0
    ? el("p", { class: "empty" }, "The configs are identical.")
    : table(["field", ...data.runs.map(compareRunLabel)], data.diff.map((d) => [{ text: d.path }, ...d.values.map((v) => ({ text: v ?? "(absent)" }))])));
  lineChart("val", validationSeries(data.runs), { yMin: 0, yMax: 1 });
  for (const m of OVERLAY_METRICS) {
    const axis: AxisChoice = m.id === "loss" || m.id === "lr" ? {} : { yMin: 0, yMax: 1 };
    lineChart(m.id, overlaySeries(data.runs, m.id as OverlayMetric, smoothing), axis);
  }
}

async function main(): Promise<void> {
  const c = await import("chart.js");
  const zoomModule = (await import("chartjs-plugin-zoom")) as unknown as { default?: Plugin };
  c.Chart.register(c.LineController, c.LineElement, c.PointElement, c.LinearScale, c.LogarithmicScale, c.Legend, c.Tooltip, c.Decimation, (zoomModule.default ?? zoomModule) as Plugin);
  Chart = c.Chart;
  layout();
  window.addEventListener("message", (e: MessageEvent<unknown>) => {
    if (!isHostToCompareMessage(e.data)) {
      console.warn("HyperAT compare: ignored an invalid message", e.data);
      return;
    }
    data = e.data;
    render();
  });
  vscode.postMessage({ type: "ready" });
}

void main();
