import * as os from "node:os";
import * as tf from "@tensorflow/tfjs";
import { activeBackend } from "../core/backend/select";

/** Where and with what a benchmark ran, for RESULTS.md. */
export interface MachineInfo {
  cpuModel: string;
  cores: number;
  memoryGiB: number;
  /** 1-minute load average when the run started: other work on the machine skews timings. */
  loadAverage: number;
  node: string;
  tfjs: string;
  platform: string;
  /** What runs the matMuls: a native BLAS behind wasm, XNNPACK, or the backend's own kernels. */
  matMul: string;
}

export function machineInfo(): MachineInfo {
  const cpus = os.cpus();
  return {
    cpuModel: cpus[0]?.model.trim() ?? "unknown",
    cores: typeof os.availableParallelism === "function" ? os.availableParallelism() : cpus.length,
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    loadAverage: Math.round(os.loadavg()[0] * 100) / 100,
    node: process.version,
    tfjs: tf.version.tfjs,
    platform: `${os.platform()} ${os.arch()}`,
    matMul: matMulEngine(),
  };
}

function matMulEngine(): string {
  const b = activeBackend();
  if (!b) return tf.getBackend();
  if (b.backend !== "wasm") return `${b.backend} backend kernels`;
  return b.blas ? `native BLAS: ${b.blas}` : `XNNPACK (${b.blasUnavailable})`;
}
