import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { ViTConfig } from "../core/model/config";

/** What `bench/pytorch_reference.py` prints (the same keys as `hyperat bench --json`). */
export interface PytorchResult {
  trainStepMs: number;
  advStepMs: number;
  hyperatStepMs: number;
  loraAtStepMs: number;
  imagesPerSecond: number;
  peakRssBytes: number;
  backend: string;
  workers: number;
  cpuMs?: Record<string, number>;
  torchVersion?: string;
}

export type PytorchOutcome = { ok: true; result: PytorchResult; python: string } | { ok: false; reason: string };

/** The reference script: in the repository (dev, npm run bench) or next to the bundle. */
export function referenceScript(): string | undefined {
  const candidates = [path.resolve("bench/pytorch_reference.py"), path.join(__dirname, "..", "bench", "pytorch_reference.py")];
  return candidates.find((p) => fs.existsSync(p));
}

/** A Python that can import torch: Debian's python3-torch lives in /usr/bin/python3's path. */
function findPython(): string | undefined {
  for (const py of [process.env.HYPERAT_PYTHON, "/usr/bin/python3", "python3"]) {
    if (!py) continue;
    const r = spawnSync(py, ["-c", "import torch"], { stdio: "ignore" });
    if (r.status === 0) return py;
  }
  return undefined;
}

/**
 * Runs the PyTorch reference for the same shape and steps with `threads` threads and
 * OMP_WAIT_POLICY=PASSIVE (../shared/recipes/compute-backends.md: 3x faster than the default
 * here). Returns a reason instead of throwing where python3 or torch is absent.
 */
export function runPytorch(vit: ViTConfig, o: { batch: number; pgdSteps: number; warmup: number; iters: number; threads: number }): PytorchOutcome {
  const script = referenceScript();
  if (!script) return { ok: false, reason: "bench/pytorch_reference.py not found" };
  const python = findPython();
  if (!python) return { ok: false, reason: "no python3 with torch found (Debian: apt-get install -y python3-torch); PyTorch comparison skipped" };
  const args = [
    script,
    ...Object.entries({
      dim: vit.dim, depth: vit.depth, heads: vit.heads, "mlp-dim": vit.mlpDim, img: vit.imgSize, patch: vit.patchSize,
      batch: o.batch, "pgd-steps": o.pgdSteps, warmup: o.warmup, iters: o.iters, threads: o.threads,
    }).flatMap(([k, v]) => [`--${k}`, String(v)]),
  ];
  const r = spawnSync(python, args, { encoding: "utf8", env: { ...process.env, OMP_WAIT_POLICY: "PASSIVE" }, maxBuffer: 1 << 20 });
  if (r.status !== 0) return { ok: false, reason: `pytorch_reference.py failed (exit ${r.status}): ${(r.stderr || "").trim().split("\n").slice(-1)[0]}` };
  const line = r.stdout.trim().split("\n").pop() ?? "";
  try {
    return { ok: true, result: JSON.parse(line) as PytorchResult, python };
  } catch {
    return { ok: false, reason: `pytorch_reference.py printed no JSON: ${line.slice(0, 200)}` };
  }
}
