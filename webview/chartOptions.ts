// Chart.js options and datasets for the dashboard's line charts, pure so node:test checks them.
// Long runs have 100k+ steps: Chart.js's decimation plugin (LTTB, Steinarsson 2013) keeps the
// drawn points to a few per pixel of the visible range, which needs parsing: false, sorted {x, y}
// data on a linear x axis (the shape series.ts returns). Zoom and pan come from
// chartjs-plugin-zoom (wheel/pinch zoom, drag pan on x); decimation re-runs on the zoomed range.
import type { ChartDataset, ChartOptions } from "chart.js" with { "resolution-mode": "import" };
import type { Series } from "./series";

/** Points drawn per dataset after decimation, and the size below which nothing is decimated. */
export const DECIMATION = { algorithm: "lttb" as const, samples: 800, threshold: 1500 };

export interface AxisChoice {
  /** Logarithmic y (the loss). */
  logY?: boolean;
  yMin?: number;
  yMax?: number;
  yTitle?: string;
}

export interface Theme {
  fg: string;
  grid: string;
  color: (i: number) => string;
}

export function lineOptions(theme: Theme, axis: AxisChoice): ChartOptions<"line"> {
  return {
    animation: false,
    parsing: false,
    normalized: true,
    responsive: true,
    maintainAspectRatio: false,
    interaction: { mode: "nearest", axis: "x", intersect: false },
    scales: {
      x: { type: "linear", title: { display: true, text: "step", color: theme.fg }, ticks: { color: theme.fg }, grid: { color: theme.grid } },
      y: axis.logY
        ? { type: "logarithmic", title: { display: !!axis.yTitle, text: axis.yTitle ?? "", color: theme.fg }, ticks: { color: theme.fg }, grid: { color: theme.grid } }
        : { type: "linear", min: axis.yMin, max: axis.yMax, title: { display: !!axis.yTitle, text: axis.yTitle ?? "", color: theme.fg }, ticks: { color: theme.fg }, grid: { color: theme.grid } },
    },
    plugins: {
      decimation: { enabled: true, ...DECIMATION },
      legend: { labels: { color: theme.fg, boxWidth: 12, filter: (item, data) => !(data.datasets[item.datasetIndex ?? 0] as { hideInLegend?: boolean }).hideInLegend } },
      zoom: {
        zoom: { wheel: { enabled: true }, pinch: { enabled: true }, mode: "x" },
        pan: { enabled: true, mode: "x" },
        limits: { x: { min: "original", max: "original" } },
      },
    },
  } as ChartOptions<"line">;
}

export type LineDataset = ChartDataset<"line", Series["points"]> & { hideInLegend?: boolean };

export function lineDatasets(series: readonly Series[], theme: Theme, axis: AxisChoice = {}): LineDataset[] {
  return series.map((s, i) => {
    const c = theme.color(s.group ?? i);
    // A log axis cannot show values ≤ 0: leave them out rather than let the scale break.
    const data = axis.logY ? s.points.filter((p) => p.y > 0) : s.points;
    return {
      label: s.label,
      data,
      indexAxis: "x",
      borderColor: s.faint ? `color-mix(in srgb, ${c} 30%, transparent)` : c,
      backgroundColor: c,
      borderDash: s.dashed ? [6, 4] : undefined,
      borderWidth: s.faint ? 1 : 1.5,
      showLine: !s.marker,
      pointRadius: s.marker ? 6 : data.length > 40 ? 0 : 2,
      pointStyle: s.marker ? "star" : "circle",
      tension: 0,
      hideInLegend: s.hideInLegend,
    };
  });
}
