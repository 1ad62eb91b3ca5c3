import type { Command } from "commander";
import { selectBackend } from "../../core/backend/select";
import { isBackendRequest } from "../../core/backend/names";
import { setFastPaths } from "../../core/model/vit";
import { presetConfig, validateConfig, ViTConfig } from "../../core/model/config";
import { resolveWorkers, WorkersOption } from "../../daemon/parallel/workerCount";
import { runBench, BenchResult } from "../../bench/runBench";
import { runPytorch, PytorchOutcome } from "../../bench/pytorch";
import { machineInfo } from "../../bench/machine";
import { suiteMarkdown, writeSection, SuiteEntry } from "../../bench/resultsFile";

interface BenchFlags {
  preset: string;
  dim?: string;
  depth?: string;
  heads?: string;
  mlpDim?: string;
  img?: string;
  patch?: string;
  batch: string;
  pgdSteps: string;
  warmup: string;
  iters: string;
  workers?: string;
  backend: string;
  json?: boolean;
  plain?: boolean;
  pytorch?: boolean;
  suite?: string;
  write?: string;
}

function int(flag: string, v: string | undefined, min: number): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw new Error(`--${flag}: expected an integer ≥ ${min}, got "${v}"`);
  return n;
}

/** A preset, with any of --dim/--depth/--heads/--mlp-dim/--img/--patch overriding it. */
export function benchShape(f: Pick<BenchFlags, "preset" | "dim" | "depth" | "heads" | "mlpDim" | "img" | "patch">): ViTConfig {
  const base = presetConfig(f.preset, { imgSize: int("img", f.img, 1), patchSize: int("patch", f.patch, 1) });
  const dim = int("dim", f.dim, 1) ?? base.dim;
  return validateConfig({
    ...base,
    dim,
    depth: int("depth", f.depth, 1) ?? base.depth,
    heads: int("heads", f.heads, 1) ?? base.heads,
    mlpDim: int("mlp-dim", f.mlpDim, 1) ?? (f.dim ? 4 * dim : base.mlpDim),
  });
}

function shapeLabel(c: ViTConfig): string {
  return `depth ${c.depth}, width ${c.dim}, ${c.heads} heads, MLP ${c.mlpDim}, ${c.imgSize}×${c.imgSize} patch ${c.patchSize} (${(c.imgSize / c.patchSize) ** 2 + 1} tokens)`;
}

const RATIO_KEYS = ["trainStepMs", "advStepMs", "loraAtStepMs", "hyperatStepMs"] as const;

function ratios(r: BenchResult, p: PytorchOutcome): Record<string, number> | undefined {
  if (!p.ok) return undefined;
  return Object.fromEntries(RATIO_KEYS.map((k) => [k, Math.round((r[k] / p.result[k]) * 100) / 100]));
}

function printHuman(r: BenchResult, p?: PytorchOutcome): void {
  const torch = p?.ok ? p.result : undefined;
  for (const k of RATIO_KEYS) {
    const g = r.gflops[k.replace("Ms", "") as keyof BenchResult["gflops"]];
    console.log(`${k.padEnd(14)} ${r[k].toFixed(0).padStart(8)} ms  ${String(g).padStart(6)} GFLOP/s${torch ? `   PyTorch ${torch[k].toFixed(0).padStart(7)} ms  ratio ${(r[k] / torch[k]).toFixed(2)}×` : ""}`);
  }
  console.log(`imagesPerSecond ${r.imagesPerSecond}   peakRss ${(r.peakRssBytes / 2 ** 20).toFixed(0)} MiB   backend ${r.backend}   workers ${r.workers}`);
  if (p && !p.ok) console.log(`pytorch: ${p.reason}`);
}

/** `--suite default`: vit-micro and the issue's depth-6/width-192 shape, 1 and all workers. */
async function runSuite(f: BenchFlags, log: (s: string) => void): Promise<SuiteEntry[]> {
  if (f.suite !== "default") throw new Error(`--suite: unknown suite "${f.suite}"; known: default`);
  const shapes: Array<[string, ViTConfig]> = [
    ["vit-micro", benchShape({ preset: "vit-micro" })],
    ["depth-6 width-192", benchShape({ preset: "vit-tiny", dim: "192", depth: "6", heads: "3", mlpDim: "768", img: "32", patch: "4" })],
  ];
  const common = { batch: int("batch", f.batch, 1)!, pgdSteps: int("pgd-steps", f.pgdSteps, 0)!, warmup: int("warmup", f.warmup, 0)!, iters: int("iters", f.iters, 1)! };
  const all = resolveWorkers(parseWorkers(f.workers ?? "auto"));
  const entries: SuiteEntry[] = [];
  for (const [name, vit] of shapes) {
    const runs: BenchResult[] = [];
    for (const workers of all > 1 ? [1, all] : [1]) {
      log(`${name}: wasm, ${workers} worker(s)`);
      runs.push(await runBench({ ...common, vit, workers, backend: f.backend as never, log }));
      // Each result as soon as it exists: a suite cut short still leaves its numbers in the log.
      log(`${name}: ${JSON.stringify(runs[runs.length - 1])}`);
    }
    log(`${name}: PyTorch, ${all} thread(s)`);
    const pytorch = runPytorch(vit, { ...common, threads: all });
    log(`${name}: ${JSON.stringify(pytorch)}`);
    entries.push({ name, shape: shapeLabel(vit), batch: common.batch, pgdSteps: common.pgdSteps, runs, pytorch });
  }
  return entries;
}

function parseWorkers(v: string): WorkersOption {
  return v === "auto" ? "auto" : (int("workers", v, 1) as number);
}

export function registerBench(program: Command): void {
  program
    .command("bench")
    .description("time clean, PGD adversarial, LoRA-AT and HyperAT training steps (optionally against PyTorch)")
    .option("--preset <name>", "vit-micro | vit-tiny | …", "vit-micro")
    .option("--dim <n>", "embedding width (overrides the preset)")
    .option("--depth <n>", "blocks")
    .option("--heads <n>", "attention heads")
    .option("--mlp-dim <n>", "MLP width (default 4 × dim when --dim is given)")
    .option("--img <n>", "image side in pixels", "32")
    .option("--patch <n>", "patch side")
    .option("--batch <n>", "batch size", "32")
    .option("--pgd-steps <n>", "PGD iterations of the adversarial steps", "10")
    .option("--warmup <n>", "untimed steps first", "1")
    .option("--iters <n>", "timed steps (median reported)", "3")
    .option("--workers <n>", "data-parallel workers: auto (one per core) or a number (default 1; --suite: auto)")
    .option("--backend <name>", "auto | tensorflow-gpu | webgpu | tensorflow | wasm | cpu", "auto")
    .option("--pytorch", "also run bench/pytorch_reference.py (same model and steps) and print ratios")
    .option("--suite <name>", "default: vit-micro and the depth-6/width-192 ViT, 1 and all workers, with PyTorch")
    .option("--write <file>", "with --suite: write/update the results section of this markdown file")
    .option("--plain", "stock tfjs ops instead of the fast paths (to measure what they gain)")
    .option("--json", "print JSON")
    .action(async (f: BenchFlags) => {
      if (f.plain) setFastPaths(false);
      if (!isBackendRequest(f.backend)) throw new Error(`--backend: unknown backend "${f.backend}"`);
      const info = await selectBackend(f.backend);
      // Helpers must load the backend the main thread got, not re-run "auto".
      f.backend = info.backend;
      const log = (s: string) => process.stderr.write(`${s}\n`);
      if (f.suite) {
        const entries = await runSuite(f, log);
        const md = suiteMarkdown(entries, machineInfo(), `hyperat ${process.argv.slice(2).join(" ")}`, new Date());
        if (f.write) writeSection(f.write, md);
        console.log(f.json ? JSON.stringify(entries, null, 2) : md);
        return;
      }
      const vit = benchShape(f);
      const common = { batch: int("batch", f.batch, 1)!, pgdSteps: int("pgd-steps", f.pgdSteps, 0)!, warmup: int("warmup", f.warmup, 0)!, iters: int("iters", f.iters, 1)! };
      log(`bench: ${shapeLabel(vit)}, batch ${common.batch}, backend ${info.backend}, matMul on ${machineInfo().matMul}`);
      const r = await runBench({ ...common, vit, workers: parseWorkers(f.workers ?? "1"), backend: info.backend, log });
      const p = f.pytorch ? runPytorch(vit, { ...common, threads: r.workers }) : undefined;
      if (f.json) {
        const { trainStepMs, advStepMs, hyperatStepMs, loraAtStepMs, imagesPerSecond, peakRssBytes, backend, workers } = r;
        const out = { trainStepMs, advStepMs, hyperatStepMs, loraAtStepMs, imagesPerSecond, peakRssBytes, backend, workers, matMul: machineInfo().matMul, cpuMs: r.cpuMs, gflops: r.gflops };
        console.log(JSON.stringify(p ? { ...out, pytorch: p.ok ? p.result : { skipped: p.reason }, ratios: ratios(r, p) } : out));
      } else printHuman(r, p);
    });
}
