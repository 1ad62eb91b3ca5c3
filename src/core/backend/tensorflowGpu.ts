import * as tf from "@tensorflow/tfjs";
import * as fs from "node:fs";
import * as path from "node:path";

// @tensorflow/tfjs-node-gpu links libtensorflow 2.9.1, built for CUDA 11.2 + cuDNN 8.1. When
// those libraries do not load it registers no GPU device and runs on the CPU without a word
// (tfjs#8362, #8187, #8505), so "tensorflow-gpu" must be checked, not assumed.

/** The shared libraries libtensorflow 2.9.1's GPU build opens at start. */
export const CUDA_LIBRARIES = ["libcudart.so.11.0", "libcublas.so.11", "libcublasLt.so.11", "libcufft.so.10",
  "libcurand.so.10", "libcusolver.so.11", "libcusparse.so.11", "libcudnn.so.8"];

/** True when the native binding says it placed ops on a GPU device. */
export function nativeUsesGpu(): boolean {
  const backend = tf.findBackend("tensorflow") as { binding?: { isUsingGpuDevice?: () => boolean } } | null;
  return backend?.binding?.isUsingGpuDevice?.() === true;
}

/** Library search path of this process: LD_LIBRARY_PATH, then the usual system folders. */
export function librarySearchPath(env: NodeJS.ProcessEnv = process.env): string[] {
  const fromEnv = (env.LD_LIBRARY_PATH ?? "").split(":").filter(Boolean);
  return [...fromEnv, "/usr/local/cuda/lib64", "/usr/local/cuda-11.2/lib64", "/usr/lib/x86_64-linux-gnu",
    "/usr/lib/aarch64-linux-gnu", "/usr/lib64", "/usr/lib", "/lib/x86_64-linux-gnu"];
}

/** The CUDA/cuDNN libraries found in none of `dirs` (Linux names; elsewhere none are checked). */
export function missingCudaLibraries(dirs: string[] = librarySearchPath(), platform = process.platform): string[] {
  if (platform !== "linux") return [];
  return CUDA_LIBRARIES.filter((lib) => !dirs.some((d) => fs.existsSync(path.join(d, lib))));
}
