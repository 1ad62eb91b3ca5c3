import * as tf from "@tensorflow/tfjs";
import * as path from "node:path";
import * as fs from "node:fs";
import { createRequire } from "node:module";
import { isMainThread } from "node:worker_threads";
import { BACKEND_ORDER, BackendName, BackendRequest, TFJS_BACKEND_NAME } from "./names";
import { registerFastMatMulGradient } from "./wasm/transposeFreeMatMulGradient";
import { installWasmFastPaths } from "./wasm/fastPaths";
import { installWebgpuFastPaths } from "./webgpuKernels/fastPaths";
import { fastPathsEnabled } from "./fastPathSwitch";
import { loadBlas } from "./blas";
import { installWasmBlas, shareBlasThreads, wasmBlas } from "./wasm/blasMatMul";
import { adapterSummary, loadWebgpu, probeAdapter } from "./webgpu";
import { missingCudaLibraries, nativeUsesGpu } from "./tensorflowGpu";

export interface BackendAttempt {
  backend: BackendName;
  ok: boolean;
  /** Why it did not load (first line of the error). */
  reason?: string;
}

/** What a WebGPU adapter says about itself (GPUAdapterInfo + the limits memory planning needs). */
export interface GpuAdapterInfo {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  /** lavapipe, llvmpipe, SwiftShader: a CPU pretending to be a GPU. */
  software: boolean;
  /** GPUSupportedLimits.maxBufferSize: the largest single tensor the device can hold. */
  maxBufferSize: number;
  /** GPUSupportedLimits.maxStorageBufferBindingSize: the largest tensor one kernel can bind. */
  maxStorageBufferBindingSize: number;
}

export interface BackendInfo {
  /** The backend that is active now. */
  backend: BackendName;
  requested: BackendRequest;
  attempts: BackendAttempt[];
  tfjsVersion: string;
  simd?: boolean;
  threads?: boolean;
  /** wasm only: the native BLAS that runs matMul, e.g. "openblas (libopenblas.so.0)". */
  blas?: string;
  /** wasm only: why matMul stays on XNNPACK (no koffi, no BLAS library, HYPERAT_BLAS=off). */
  blasUnavailable?: string;
  /** webgpu only: the adapter in use. */
  gpu?: GpuAdapterInfo;
  /** tensorflow-gpu only: whether libtensorflow registered a GPU device (false = it runs on the CPU). */
  gpuDeviceInUse?: boolean;
}

export class BackendUnavailableError extends Error {
  constructor(readonly requested: BackendName, readonly reason: string) {
    super(`backend "${requested}" was requested but cannot load: ${reason}`);
    this.name = "BackendUnavailableError";
  }
}

let active: BackendInfo | undefined;
/** What `probeBackend` found when it did not activate anything (a webgpu adapter). */
let probed: BackendInfo | undefined;

/** The backend selected by `selectBackend`, if any. */
export function activeBackend(): BackendInfo | undefined {
  return active;
}

/** The backend this thread computes on, else the one `probeBackend` found: what memory
 * estimates and reports describe in the daemon's main thread, whose compute runs in workers. */
export function knownBackend(): BackendInfo | undefined {
  return active ?? probed;
}

function firstLine(e: unknown): string {
  const msg = e instanceof Error ? e.message : String(e);
  return msg.split("\n")[0].slice(0, 300);
}

// Native bindings are required lazily and by a computed name so bundlers leave them alone:
// they are optional dependencies that are absent on machines without libtensorflow.
function requireOptional(name: string): unknown {
  return createRequire(__filename)(name);
}

/** True when the package itself is absent (nothing was loaded, so no kernels were left behind). */
function isNotInstalled(e: unknown, name: string): boolean {
  const err = e as { code?: string; message?: string };
  return err?.code === "MODULE_NOT_FOUND" && (err.message ?? "").includes(`'${name}'`);
}

const NATIVE_PACKAGE: Partial<Record<BackendName, string>> = {
  "tensorflow-gpu": "@tensorflow/tfjs-node-gpu",
  tensorflow: "@tensorflow/tfjs-node",
};

/** Where the tfjs-backend-wasm .wasm binaries live: next to the bundle, or in node_modules. */
function wasmDir(): string | undefined {
  const candidates = [
    process.env.HYPERAT_WASM_DIR,
    typeof __dirname === "string" ? __dirname : undefined,
    typeof __dirname === "string" ? path.join(__dirname, "wasm") : undefined,
  ];
  for (const c of candidates) {
    if (c && fs.existsSync(path.join(c, "tfjs-backend-wasm-simd.wasm"))) return c + path.sep;
  }
  return undefined;
}

/** What a successful load found out about the device, merged into BackendInfo. */
type LoadFacts = Pick<BackendInfo, "gpu" | "gpuDeviceInUse">;

/** For tests: stands in for Dawn's adapter request (see webgpu.ts). */
let adapterOverride: (() => Promise<import("./webgpu").AdapterLike | null>) | undefined;
export function setAdapterRequestForTests(fn: typeof adapterOverride): void {
  adapterOverride = fn;
}

/** tfjs-node-gpu loaded but found no GPU: its "tensorflow" backend is the CPU build, usable as such. */
let nativeCpuFromGpuPackage = false;

/**
 * "compute" loads a backend for this thread's tensors. "probe" finds out what "compute" would
 * choose without opening a GPU device: Dawn opens one device per thread that sets the webgpu
 * backend, so the daemon's main thread, whose runs compute in worker threads, only reads the
 * adapter (issue 11: one GPU context per process). CPU backends and the native binding (one
 * libtensorflow per process, shared by its threads) load for real either way.
 */
type SelectMode = "compute" | "probe";

async function tryLoad(name: BackendName, requested: BackendRequest, mode: SelectMode): Promise<LoadFacts> {
  const facts: LoadFacts = {};
  switch (name) {
    case "tensorflow-gpu": {
      requireOptional("@tensorflow/tfjs-node-gpu");
      // libtensorflow quietly runs on the CPU when CUDA/cuDNN do not load (tfjs#8362): only a
      // registered GPU device counts as tensorflow-gpu.
      if (!nativeUsesGpu()) {
        nativeCpuFromGpuPackage = true;
        const missing = missingCudaLibraries();
        throw new Error("@tensorflow/tfjs-node-gpu loaded but registered no GPU device, so it would run on the CPU" +
          (missing.length ? ` (missing ${missing.join(", ")}: libtensorflow 2.9.1 needs CUDA 11.2 and cuDNN 8.1)` : ""));
      }
      facts.gpuDeviceInUse = true;
      break;
    }
    case "tensorflow":
      if (!nativeCpuFromGpuPackage) requireOptional("@tensorflow/tfjs-node");
      break;
    case "wasm": {
      const wasm = await import("@tensorflow/tfjs-backend-wasm");
      const dir = wasmDir();
      if (dir) wasm.setWasmPaths(dir);
      break;
    }
    case "webgpu": {
      const opts = { allowSoftware: requested === "webgpu", requestAdapter: adapterOverride };
      if (mode === "probe") return { gpu: await probeAdapter(opts) };
      facts.gpu = await loadWebgpu(opts);
      break;
    }
    case "cpu":
      break;
  }
  const ok = await tf.setBackend(TFJS_BACKEND_NAME[name]);
  if (!ok) throw new Error(`tf.setBackend("${TFJS_BACKEND_NAME[name]}") returned false`);
  await tf.ready();
  return facts;
}

/**
 * Chooses the compute backend once per process. `auto` tries BACKEND_ORDER (names.ts): a
 * tensorflow-gpu without a GPU device and a software WebGPU adapter fall through with their
 * reason recorded; any error counts as "not available" (half-installed native packages throw odd
 * errors). After one native binding failed we skip the other: its half-registered kernels make
 * the second attempt print hundreds of "already registered" warnings and it fails the same way.
 * An explicitly requested backend that cannot load throws `BackendUnavailableError`.
 */
export async function selectBackend(requested: BackendRequest = "auto"): Promise<BackendInfo> {
  return choose(requested, "compute");
}

/**
 * What `selectBackend(requested)` would choose, found without opening a GPU device in this
 * thread (see SelectMode), with the same attempts and the same error for a requested backend
 * that cannot load. A webgpu answer activates nothing: `activeBackend()` stays unset and a later
 * `selectBackend` in this thread loads it for real.
 */
export async function probeBackend(requested: BackendRequest = "auto"): Promise<BackendInfo> {
  if (!active && probed && (requested === "auto" || requested === probed.backend)) return probed;
  return choose(requested, "probe");
}

async function choose(requested: BackendRequest, mode: SelectMode): Promise<BackendInfo> {
  if (active && (requested === "auto" || requested === active.backend)) return active;
  const attempts: BackendAttempt[] = [];
  const order: readonly BackendName[] = requested === "auto" ? BACKEND_ORDER : [requested];
  let nativeFailed = false;
  for (const name of order) {
    const native = name === "tensorflow" || name === "tensorflow-gpu";
    if (native && nativeFailed && !(name === "tensorflow" && nativeCpuFromGpuPackage)) {
      attempts.push({ backend: name, ok: false, reason: "skipped: another native tfjs binding already failed to load" });
      continue;
    }
    let facts: LoadFacts;
    try {
      facts = await tryLoad(name, requested, mode);
    } catch (e) {
      // A package that is simply absent left nothing behind; one that half-loaded did.
      if (native && !isNotInstalled(e, NATIVE_PACKAGE[name]!)) nativeFailed = true;
      attempts.push({ backend: name, ok: false, reason: firstLine(e) });
      if (requested !== "auto") throw new BackendUnavailableError(name, firstLine(e));
      continue;
    }
    attempts.push({ backend: name, ok: true });
    if (mode === "probe" && name === "webgpu") {
      probed = { backend: name, requested, attempts, tfjsVersion: tf.version.tfjs, ...facts };
      return probed;
    }
    registerFastMatMulGradient();
    // The one place the fused kernels are installed (none from model code, issue 13 item 4).
    if (name === "wasm" && fastPathsEnabled()) installWasmFastPaths();
    if (name === "webgpu" && fastPathsEnabled()) installWebgpuFastPaths();
    // Outside the try: a BLAS the user named that cannot load is their error to see, not a
    // reason to fall through to the next (slower) backend.
    active = {
      backend: name,
      requested,
      attempts,
      tfjsVersion: tf.version.tfjs,
      ...facts,
      ...(name === "tensorflow" && nativeCpuFromGpuPackage ? { gpuDeviceInUse: false } : {}),
      ...(name === "wasm"
        ? {
          simd: tf.env().getBool("WASM_HAS_SIMD_SUPPORT"),
          threads: tf.env().getBool("WASM_HAS_MULTITHREAD_SUPPORT"),
          ...attachBlas(),
        }
        : {}),
    };
    return active;
  }
  throw new Error(`no compute backend could load: ${attempts.map((a) => `${a.backend}: ${a.reason}`).join("; ")}`);
}

/** The device facts for reports and the daemon's initialize result; undefined on cpu/wasm. */
export function deviceFacts(info: BackendInfo | undefined): Pick<BackendInfo, "gpu" | "gpuDeviceInUse"> | undefined {
  if (!info || (info.gpu === undefined && info.gpuDeviceInUse === undefined)) return undefined;
  return {
    ...(info.gpu ? { gpu: { ...info.gpu } } : {}),
    ...(info.gpuDeviceInUse !== undefined ? { gpuDeviceInUse: info.gpuDeviceInUse } : {}),
  };
}

/** One line for people: the backend and, on wasm, what runs its matMuls and how to speed it up. */
export function describeBackend(info: BackendInfo): string {
  if (info.backend === "webgpu" && info.gpu) return `webgpu on ${adapterSummary(info.gpu)}`;
  if (info.backend === "tensorflow-gpu") return "tensorflow-gpu (GPU device registered)";
  if (info.backend === "tensorflow" && info.gpuDeviceInUse === false) return "tensorflow (tfjs-node-gpu without a GPU device: CPU)";
  if (info.backend !== "wasm") return info.backend;
  if (info.blas) return `wasm, matMul on native BLAS ${info.blas}`;
  return `wasm, matMul on XNNPACK (no native BLAS: ${info.blasUnavailable}); installing OpenBLAS ` +
    `(Debian/Ubuntu: apt-get install libopenblas0) makes wider models train several times faster`;
}

/**
 * Puts a system BLAS behind wasm's matMul (blas.ts, wasmBlasMatMul.ts). `HYPERAT_BLAS=off`
 * keeps XNNPACK; unset or `auto` searches; any other value names the library, which must load.
 */
function attachBlas(): { blas?: string; blasUnavailable?: string } {
  const want = process.env.HYPERAT_BLAS?.trim();
  if (want === "off" || want === "0" || want === "false") return { blasUnavailable: "disabled by HYPERAT_BLAS=off" };
  if (!wasmBlas()) {
    const named = want && want !== "auto" ? want : undefined;
    const r = loadBlas(named);
    // A library the user named must load: silently falling back would cost them several-fold.
    if (!r.ok && named) throw new Error(`HYPERAT_BLAS=${named}: ${r.reason}`);
    if (!r.ok) return { blasUnavailable: r.reason };
    if (!installWasmBlas(r.blas)) return { blasUnavailable: "the wasm backend has no BatchMatMul kernel registered" };
  }
  // A worker thread computes beside others (one BLAS thread each); the main thread alone gets
  // every core. The setting is per process, so pools restore it when they close.
  shareBlasThreads(isMainThread ? 1 : Number.MAX_SAFE_INTEGER);
  return { blas: wasmBlas()!.name };
}

/** For tests: selects the plain cpu backend unless HYPERAT_TEST_BACKEND says otherwise. */
export async function selectTestBackend(): Promise<BackendInfo> {
  const want = (process.env.HYPERAT_TEST_BACKEND as BackendRequest | undefined) ?? "cpu";
  return selectBackend(want);
}
