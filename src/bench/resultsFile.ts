import * as fs from "node:fs";
import * as path from "node:path";
import type { BenchResult } from "./runBench";
import type { MachineInfo } from "./machine";
import type { PytorchOutcome } from "./pytorch";

/** One benchmarked shape: the wasm runs (one per worker count) and the PyTorch anchor. */
export interface SuiteEntry {
  name: string;
  shape: string;
  batch: number;
  pgdSteps: number;
  runs: BenchResult[];
  pytorch: PytorchOutcome;
}

const START = "<!-- hyperat-bench:start -->";
const END = "<!-- hyperat-bench:end -->";

const STEPS = [
  ["trainStepMs", "clean train step (Adam, all weights)", "trainStep"],
  ["advStepMs", "adversarial step (PGD + train step)", "advStep"],
  ["loraAtStepMs", "LoRA-AT step (r=8, PGD)", "loraAtStep"],
  ["hyperatStepMs", "HyperAT step (hypernetwork LoRA, PGD; PGD-AT/TRADES/MART sampled)", "hyperatStep"],
] as const;

function entryMarkdown(e: SuiteEntry): string {
  const torch = e.pytorch.ok ? e.pytorch.result : undefined;
  const head = ["step", ...e.runs.map((r) => `${r.backend} ×${r.workers} ms (GFLOP/s)`), ...(torch ? [`PyTorch ${torch.workers} thr ms`, "ratio (best / PyTorch)"] : [])];
  const rows = STEPS.map(([key, label, g]) => {
    const cells = e.runs.map((r) => `${r[key].toFixed(0)} (${r.gflops[g]})`);
    const best = Math.min(...e.runs.map((r) => r[key]));
    return [label, ...cells, ...(torch ? [torch[key].toFixed(0), `${(best / torch[key]).toFixed(2)}×`] : [])];
  });
  const table = [head, head.map(() => "---"), ...rows].map((r) => `| ${r.join(" | ")} |`).join("\n");
  const lines = [`### ${e.name}: ${e.shape}, batch ${e.batch}, PGD-${e.pgdSteps}`, "", table, ""];
  for (const r of e.runs) {
    const cpu = STEPS.map(([, , g]) => r.cpuMs[g].toFixed(0)).join(" / ");
    lines.push(`- ${r.backend} ×${r.workers}: ${r.imagesPerSecond} adversarially trained images/s; HyperAT / LoRA-AT step = ${(r.hyperatStepMs / r.loraAtStepMs).toFixed(2)}; CPU ms per step (all threads; train / adv / LoRA-AT / HyperAT) ${cpu}; peak RSS ${(r.peakRssBytes / 2 ** 20).toFixed(0)} MiB (process high-water mark so far)`);
  }
  if (torch) {
    const cpu = torch.cpuMs ? `; CPU ms per step ${STEPS.map(([, , g]) => torch.cpuMs?.[g]?.toFixed(0) ?? "?").join(" / ")}` : "";
    lines.push(`- PyTorch ${torch.torchVersion ?? ""}: ${torch.imagesPerSecond} images/s${cpu}; peak RSS ${(torch.peakRssBytes / 2 ** 20).toFixed(0)} MiB`);
  }
  else if (!e.pytorch.ok) lines.push(`- PyTorch: ${e.pytorch.reason}`);
  return lines.join("\n");
}

export function suiteMarkdown(entries: SuiteEntry[], m: MachineInfo, command: string, date: Date): string {
  return [
    START,
    "## Latest `hyperat bench` run (written by the tool)",
    "",
    `- date: ${date.toISOString()}`,
    `- command: \`${command}\``,
    `- machine: ${m.cpuModel}, ${m.cores} cores, ${m.memoryGiB} GiB, ${m.platform}; load average at start ${m.loadAverage}`,
    `- versions: node ${m.node}, tfjs ${m.tfjs}; matMul on ${m.matMul}`,
    "- times are medians of wall-clock ms per step after warm-up; GFLOP/s from analytic matmul FLOPs (src/bench/flops.ts)",
    "- steps: the run's Trainer built from a config (src/bench/runBench.ts), so these are the times a run gets; PyTorch's HyperAT step runs PGD-AT's loss for every defense",
    "",
    ...entries.map(entryMarkdown),
    END,
  ].join("\n");
}

/** Replaces the tool's section of `file` (or appends it), atomically (temp file + rename). */
export function writeSection(file: string, section: string): void {
  const old = fs.existsSync(file) ? fs.readFileSync(file, "utf8") : "# Benchmark results\n";
  const a = old.indexOf(START);
  const b = old.indexOf(END);
  const next = a >= 0 && b > a ? old.slice(0, a) + section + old.slice(b + END.length) : `${old.trimEnd()}\n\n${section}\n`;
  fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, next);
  fs.renameSync(tmp, file);
}
