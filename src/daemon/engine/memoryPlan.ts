import * as os from "node:os";
import * as tf from "@tensorflow/tfjs";
import { RunConfig } from "../../core/config/types";
import { ViTConfig, presetConfig } from "../../core/model/config";
import { configFromShapes } from "../../core/model/modelFile";
import { looksLikeHfVit, hfToTimm } from "../../core/model/hfNames";
import { readSafetensorsHeaderFile } from "../../core/io/safetensorsHeaderFile";
import { knownBackend, BackendInfo } from "../../core/backend/select";
import { memoryLimit, parseMemoryLimitGiB, HostMemory, MEMORY_LIMIT_ENV } from "../../core/memory/limits";
import { MemoryPlan, PlanConfig, planMemory } from "../../core/memory/plan";
import { gpuMemoryOf } from "../gpuMemory";

/**
 * The daemon's side of memory planning: the model's shapes from the safetensors header (no
 * weights are read), the config's sizes, and the active backend's limit, handed to the pure
 * planner (src/core/memory/plan.ts). Used before a run folder exists (runManager.start) and by
 * each session to resolve `training.microBatchSize: "auto"`.
 */

/** The ViT a config trains, as loading would adapt it; a file's from its header alone. */
export async function vitOfConfig(cfg: RunConfig): Promise<ViTConfig> {
  if (!cfg.model.path) {
    return presetConfig(cfg.model.preset, { imgSize: cfg.model.imgSize, patchSize: cfg.model.patchSize, numClasses: cfg.model.numClasses, mean: cfg.model.mean, std: cfg.model.std });
  }
  const file = cfg.model.path;
  const header = await readSafetensorsHeaderFile(file);
  // Shapes only: zero-length data is enough for the name mapping and the shape checks.
  let shapes: Record<string, { shape: number[]; data: Float32Array }> = Object.fromEntries(Object.entries(header.tensors).map(([k, t]) => [k, { shape: t.shape, data: new Float32Array(0) }]));
  if (looksLikeHfVit(Object.keys(shapes))) shapes = hfToTimm(shapes, file).tensors;
  const { config } = configFromShapes(shapes, header.metadata, {
    imgSize: cfg.model.imgSize,
    patchSize: cfg.model.patchSize,
    numClasses: cfg.model.numClasses ?? (header.tensors["head.weight"] ? undefined : 10),
    heads: cfg.model.heads,
    mean: cfg.model.mean,
    std: cfg.model.std,
  }, file);
  return config;
}

export function planConfigOf(cfg: RunConfig): PlanConfig {
  return {
    method: cfg.method,
    defenses: cfg.defenses.map((d) => d.name),
    lora: cfg.lora,
    hypernet: cfg.hypernet,
    attackSteps: cfg.attack.steps,
    batchSize: cfg.training.batchSize,
    microBatchSize: cfg.training.microBatchSize ?? "auto",
    evalBatchSize: cfg.evaluation.batchSize,
    merge: { strategy: cfg.merge.strategy, batchSize: cfg.merge.batchSize },
    pretrainBatchSize: cfg.model.path ? undefined : cfg.model.pretrain?.batchSize,
  };
}

/** This machine's memory, and the user's own limit from the environment (src/core/memory/limits.ts). */
export function hostMemory(): HostMemory {
  const userLimitBytes = parseMemoryLimitGiB(process.env[MEMORY_LIMIT_ENV]);
  return { freeBytes: os.freemem(), totalBytes: os.totalmem(), ...(userLimitBytes !== undefined ? { userLimitBytes } : {}) };
}

type BackendFacts = Pick<BackendInfo, "backend" | "gpu"> | string | undefined;

/**
 * `hostMemory()` plus, on a hardware webgpu adapter, the GPU's available memory from its
 * driver's tools (src/daemon/gpuMemory.ts); what tfjs in this thread already holds on the GPU
 * counts as available, since the plan counts the model itself.
 */
export async function hostMemoryFor(backend: BackendFacts): Promise<HostMemory> {
  const host = hostMemory();
  if (typeof backend !== "object" || backend.backend !== "webgpu" || !backend.gpu) return host;
  const own = tf.getBackend() === "webgpu" ? Number((tf.memory() as { numBytesAllocatedInGPU?: number }).numBytesAllocatedInGPU ?? 0) : 0;
  const gpu = await gpuMemoryOf(backend.gpu, own);
  return gpu ? { ...host, gpuMemoryBytes: gpu.availableBytes, gpuMemorySource: gpu.source } : host;
}

/** The plan for `cfg` on `backend` (default: the active or probed one, else wasm, the no-install path). */
export async function planRun(cfg: RunConfig, backend: BackendFacts = knownBackend(), vit?: ViTConfig): Promise<MemoryPlan> {
  return planMemory(vit ?? (await vitOfConfig(cfg)), planConfigOf(cfg), memoryLimit(backend ?? "wasm", await hostMemoryFor(backend)));
}
