import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { createRequire } from "node:module";
import type { GpuAdapterInfo } from "./select";

// WebGPU in Node through Dawn's binding (npm `webgpu`, optional). The tfjs webgpu backend
// registers itself only if `navigator.gpu` exists when its module is evaluated, so the global
// is set first and the backend is required afterwards (README.md, "Compute backends").

/** The fields of GPUAdapterInfo / GPUSupportedLimits we read (Dawn's objects expose getters). */
export interface AdapterLike {
  info?: { vendor?: string; architecture?: string; device?: string; description?: string };
  limits?: { maxBufferSize?: number; maxStorageBufferBindingSize?: number };
  isFallbackAdapter?: boolean;
}

/** Vendors/devices that are a CPU rasteriser pretending to be a GPU. */
const SOFTWARE_PATTERN = /llvmpipe|lavapipe|swiftshader|softpipe|software|warp|basic render/i;

/** Reads what an adapter says about itself; `software` when any field names a CPU rasteriser. */
export function describeAdapter(adapter: AdapterLike): GpuAdapterInfo {
  const info = adapter.info ?? {};
  const fields = {
    vendor: String(info.vendor ?? ""),
    architecture: String(info.architecture ?? ""),
    device: String(info.device ?? ""),
    description: String(info.description ?? ""),
  };
  const software = adapter.isFallbackAdapter === true ||
    Object.values(fields).some((v) => SOFTWARE_PATTERN.test(v));
  return {
    ...fields,
    software,
    maxBufferSize: Number(adapter.limits?.maxBufferSize ?? 0),
    maxStorageBufferBindingSize: Number(adapter.limits?.maxStorageBufferBindingSize ?? 0),
  };
}

/** One line for people, e.g. "mesa llvmpipe-… (software, maxBuffer 4.0 GiB)". */
export function adapterSummary(gpu: GpuAdapterInfo): string {
  const gib = (n: number) => `${(n / 2 ** 30).toFixed(1)} GiB`;
  const name = [gpu.vendor, gpu.device || gpu.description || gpu.architecture].filter(Boolean).join(" ");
  return `${name || "unknown adapter"} (${gpu.software ? "software" : "hardware"}, ` +
    `maxBuffer ${gib(gpu.maxBufferSize)}, maxStorageBinding ${gib(gpu.maxStorageBufferBindingSize)})`;
}

interface GpuLike {
  requestAdapter(opts?: { powerPreference?: string }): Promise<AdapterLike | null>;
}

const DAWN_PACKAGE = "webgpu";
let gpu: GpuLike | undefined;

/**
 * The prebuilt `dist/<platform>-<arch>/dawn.node` of the `webgpu` package. Loaded directly: the
 * package's index.js is ESM, which `require` reaches only on newer Node 20/22 releases, and
 * esbuild must not see the name (a native binary cannot be bundled; scripts/build.mjs copies it).
 */
function dawnNodePath(): string {
  const pkg = createRequire(__filename).resolve(`${DAWN_PACKAGE}/package.json`);
  const arch = process.platform === "darwin" ? "universal" : process.arch;
  const file = path.join(path.dirname(pkg), "dist", `${process.platform}-${arch}`, "dawn.node");
  if (!fs.existsSync(file)) throw new Error(`the webgpu package has no Dawn binary for ${process.platform}-${arch} (${file})`);
  return file;
}

/** Dawn's `navigator.gpu`, created once per process (one GPU context per process). */
function installNavigatorGpu(): GpuLike {
  if (gpu) return gpu;
  // Dawn's Vulkan loader warns about an unset XDG_RUNTIME_DIR on every start; give it a
  // private temp dir instead of the noise.
  if (!process.env.XDG_RUNTIME_DIR || !fs.existsSync(process.env.XDG_RUNTIME_DIR)) {
    process.env.XDG_RUNTIME_DIR = fs.mkdtempSync(path.join(os.tmpdir(), "hyperat-xdg-"));
  }
  const dawn = createRequire(__filename)(dawnNodePath()) as { create(flags: string[]): GpuLike; globals: object };
  Object.assign(globalThis, dawn.globals);
  gpu = dawn.create([]);
  const g = globalThis as { navigator?: { gpu?: unknown } };
  if (!g.navigator) Object.defineProperty(globalThis, "navigator", { value: { gpu }, configurable: true, writable: true });
  else g.navigator.gpu = gpu;
  return gpu;
}

export interface WebgpuLoadOptions {
  /** `auto` refuses software adapters (lavapipe): they are a CPU and slower than wasm + BLAS. */
  allowSoftware: boolean;
  /** For tests: replaces Dawn's adapter request. */
  requestAdapter?: () => Promise<AdapterLike | null>;
}

/** Error whose message is the reason `auto` records when it falls through. */
export class WebgpuRefusedError extends Error {}

/**
 * Finds an adapter and checks it is one we want. Throws with the reason otherwise (no adapter,
 * software adapter under `auto`). Does not touch tfjs.
 */
export async function probeAdapter(opts: WebgpuLoadOptions): Promise<GpuAdapterInfo> {
  const request = opts.requestAdapter ?? (() => installNavigatorGpu().requestAdapter({ powerPreference: "high-performance" }));
  const adapter = await request();
  if (!adapter) {
    throw new WebgpuRefusedError("no WebGPU adapter: Dawn found no usable Vulkan/Metal/D3D12 device " +
      "(Linux: install libvulkan1 and your GPU's Vulkan driver; for tests mesa-vulkan-drivers >= 25, scripts/system-deps.sh)");
  }
  const info = describeAdapter(adapter);
  if (info.software && !opts.allowSoftware) {
    throw new WebgpuRefusedError(`software adapter ${adapterSummary(info)} is used only when requested ` +
      `explicitly (--backend webgpu): it runs on the CPU, slower than wasm`);
  }
  return info;
}

/**
 * Loads Dawn and @tensorflow/tfjs-backend-webgpu, returning the adapter that will be used.
 * The tfjs backend is pure JS and bundled (it must share the bundle's tfjs-core engine); the
 * dynamic import defers its evaluation until navigator.gpu exists.
 */
export async function loadWebgpu(opts: WebgpuLoadOptions): Promise<GpuAdapterInfo> {
  const info = await probeAdapter(opts);
  await import("@tensorflow/tfjs-backend-webgpu");
  return info;
}
