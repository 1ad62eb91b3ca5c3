import { execFile } from "node:child_process";
import { promises as fsp } from "node:fs";
import * as path from "node:path";
import type { GpuAdapterInfo } from "../core/backend/select";

/**
 * How much memory the GPU behind a hardware WebGPU adapter has free: WebGPU itself does not say
 * (GPUAdapterInfo has no memory size), so the memory planner would otherwise assume 4 GiB
 * (src/core/memory/limits.ts). Asked from the driver's own tools:
 * - NVIDIA: `nvidia-smi --query-gpu=name,memory.total,memory.free` (MiB), installed with the driver;
 * - AMD (amdgpu, Linux): /sys/class/drm/card*\/device/mem_info_vram_{total,used}.
 * Anything else (Intel, Apple's unified memory, no tool) answers undefined and the planner keeps
 * its default; HYPERAT_MEMORY_LIMIT_GIB overrides either way.
 */
export interface GpuMemory {
  /** Free now, plus what this process's tfjs already holds on it (the plan counts that itself). */
  availableBytes: number;
  totalBytes: number;
  /** Where the figure comes from, for the plan's messages. */
  source: string;
}

export interface GpuMemoryProbes {
  /** Runs a program, resolving its stdout (rejects when it is missing or fails). */
  run(file: string, args: string[]): Promise<string>;
  readFile(file: string): Promise<string>;
  readDir(dir: string): Promise<string[]>;
}

const MIB = 2 ** 20;

export interface NvidiaGpu {
  name: string;
  totalBytes: number;
  freeBytes: number;
}

/** Rows of `nvidia-smi --query-gpu=name,memory.total,memory.free --format=csv,noheader,nounits`. */
export function parseNvidiaSmi(csv: string): NvidiaGpu[] {
  const gpus: NvidiaGpu[] = [];
  for (const line of csv.split(/\r?\n/)) {
    const cells = line.split(",").map((c) => c.trim());
    if (cells.length !== 3) continue;
    const [name, total, free] = cells;
    const [t, f] = [Number(total), Number(free)];
    if (name && Number.isFinite(t) && Number.isFinite(f) && t > 0) gpus.push({ name, totalBytes: t * MIB, freeBytes: f * MIB });
  }
  return gpus;
}

/**
 * The GPU Dawn chose, among several: the one whose name the adapter's description or device
 * names, else (it cannot be told apart) the one with the least free memory, so the plan never
 * counts on more than any of them has.
 */
export function pickGpu<T extends { name: string; freeBytes: number }>(gpus: T[], adapter: GpuAdapterInfo): { gpu: T; matched: boolean } | undefined {
  if (gpus.length === 0) return undefined;
  const said = `${adapter.description} ${adapter.device}`.toLowerCase();
  // Whole words only: "NVIDIA A" must not match the "a" inside "nvidia".
  const names = (g: T) => [g.name, g.name.replace(/^nvidia /i, "")].map((n) => new RegExp(`\\b${n.toLowerCase().replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}\\b`));
  const named = gpus.filter((g) => names(g).some((re) => re.test(said)));
  if (gpus.length === 1 || named.length === 1) return { gpu: named.length === 1 ? named[0] : gpus[0], matched: true };
  return { gpu: leastFree(gpus), matched: false };
}

function leastFree<T extends { freeBytes: number }>(gpus: T[]): T {
  return gpus.reduce((a, b) => (b.freeBytes < a.freeBytes ? b : a));
}

const gib = (n: number) => `${(n / 2 ** 30).toFixed(1)} GiB`;

/** The figure for one GPU: its free memory plus this process's own, said with where it came from. */
function available(gpu: { totalBytes: number; freeBytes: number }, own: number, from: string, note: string): GpuMemory {
  return {
    availableBytes: Math.min(gpu.totalBytes, gpu.freeBytes + own),
    totalBytes: gpu.totalBytes,
    source: `${from} ${gib(gpu.freeBytes)} free of ${gib(gpu.totalBytes)}` + (own > 0 ? ` + ${gib(own)} this process holds` : "") + note,
  };
}

async function nvidia(adapter: GpuAdapterInfo, own: number, probes: GpuMemoryProbes): Promise<GpuMemory | undefined> {
  let out: string;
  try {
    out = await probes.run("nvidia-smi", ["--query-gpu=name,memory.total,memory.free", "--format=csv,noheader,nounits"]);
  } catch {
    return undefined;
  }
  const picked = pickGpu(parseNvidiaSmi(out), adapter);
  if (!picked) return undefined;
  const { gpu, matched } = picked;
  return available(gpu, own, `nvidia-smi: ${gpu.name},`, matched ? "" : " (the GPU with the least free memory: the adapter's name matched none)");
}

const DRM = "/sys/class/drm";
const AMD_VENDOR = "0x1002";

async function amd(own: number, probes: GpuMemoryProbes): Promise<GpuMemory | undefined> {
  let cards: string[];
  try {
    cards = (await probes.readDir(DRM)).filter((c) => /^card\d+$/.test(c));
  } catch {
    return undefined;
  }
  const found: { name: string; totalBytes: number; freeBytes: number }[] = [];
  for (const card of cards) {
    const dev = path.join(DRM, card, "device");
    try {
      if ((await probes.readFile(path.join(dev, "vendor"))).trim() !== AMD_VENDOR) continue;
      const total = Number((await probes.readFile(path.join(dev, "mem_info_vram_total"))).trim());
      const used = Number((await probes.readFile(path.join(dev, "mem_info_vram_used"))).trim());
      if (Number.isFinite(total) && Number.isFinite(used) && total > 0) found.push({ name: card, totalBytes: total, freeBytes: Math.max(0, total - used) });
    } catch {
      continue; // not an amdgpu card with VRAM counters
    }
  }
  if (found.length === 0) return undefined;
  // sysfs names cards, not models: with several, the one with the least free memory.
  const gpu = leastFree(found);
  return available(gpu, own, `amdgpu sysfs ${gpu.name}:`, found.length > 1 ? ` (the least free of ${found.length} AMD GPUs)` : "");
}

/**
 * The adapter's GPU memory, when its driver's tools tell; undefined for software adapters.
 * `ownBytes`: what this process's tfjs holds on the GPU already (the plan counts it itself).
 */
export async function gpuMemoryOf(adapter: GpuAdapterInfo, ownBytes = 0, probes: GpuMemoryProbes = systemProbes()): Promise<GpuMemory | undefined> {
  if (adapter.software) return undefined; // lavapipe allocates in RAM: limits.ts uses free RAM
  const vendor = `${adapter.vendor} ${adapter.description}`.toLowerCase();
  if (vendor.includes("nvidia")) return nvidia(adapter, ownBytes, probes);
  if (/\bamd\b|\bati\b|radeon/.test(vendor)) return amd(ownBytes, probes);
  return undefined;
}

function systemProbes(): GpuMemoryProbes {
  return {
    run: (file, args) => new Promise((resolve, reject) => {
      execFile(file, args, { timeout: 10_000, encoding: "utf8" }, (err, stdout) => (err ? reject(err) : resolve(stdout)));
    }),
    readFile: (file) => fsp.readFile(file, "utf8"),
    readDir: (dir) => fsp.readdir(dir),
  };
}
