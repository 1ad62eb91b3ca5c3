// GPU memory for the planner on hardware webgpu adapters (src/daemon/gpuMemory.ts), with the
// driver tools faked: nvidia-smi's CSV, amdgpu's sysfs counters, and the cases that must answer
// nothing (software adapter, a tool that is missing, a vendor with no tool).
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { gpuMemoryOf, parseNvidiaSmi, pickGpu, type GpuMemoryProbes } from "../../src/daemon/gpuMemory";
import { memoryLimit } from "../../src/core/memory/limits";
import type { GpuAdapterInfo } from "../../src/core/backend/select";

const MIB = 2 ** 20;
const GIB = 2 ** 30;

function adapter(over: Partial<GpuAdapterInfo>): GpuAdapterInfo {
  return { vendor: "", architecture: "", device: "", description: "", software: false, maxBufferSize: 2 ** 32, maxStorageBufferBindingSize: 2 ** 31, ...over };
}

function probes(files: Record<string, string>, smi?: string): GpuMemoryProbes & { calls: string[] } {
  const calls: string[] = [];
  return {
    calls,
    run: async (file, args) => {
      calls.push([file, ...args].join(" "));
      if (smi === undefined) throw Object.assign(new Error(`spawn ${file} ENOENT`), { code: "ENOENT" });
      return smi;
    },
    readFile: async (f) => {
      calls.push(f);
      if (!(f in files)) throw Object.assign(new Error(`ENOENT: ${f}`), { code: "ENOENT" });
      return files[f];
    },
    readDir: async (d) => {
      calls.push(d);
      const names = Object.keys(files).filter((f) => f.startsWith(`${d}/`)).map((f) => f.slice(d.length + 1).split("/")[0]);
      if (names.length === 0) throw Object.assign(new Error(`ENOENT: ${d}`), { code: "ENOENT" });
      return [...new Set(names)];
    },
  };
}

describe("GPU memory from the driver's tools", () => {
  test("parses nvidia-smi's CSV in MiB and skips lines that are not GPU rows", () => {
    const gpus = parseNvidiaSmi("NVIDIA H200, 143771, 140000\n\nNVIDIA A100-SXM4-80GB, 81920, 1024\nNo devices were found, x\n");
    assert.deepEqual(gpus, [
      { name: "NVIDIA H200", totalBytes: 143771 * MIB, freeBytes: 140000 * MIB },
      { name: "NVIDIA A100-SXM4-80GB", totalBytes: 81920 * MIB, freeBytes: 1024 * MIB },
    ]);
  });

  test("one NVIDIA GPU: free memory plus what this process already holds, capped at the total", async () => {
    const p = probes({}, "NVIDIA H200, 143771, 100000\n");
    const m = await gpuMemoryOf(adapter({ vendor: "nvidia", architecture: "hopper" }), 2 * GIB, p);
    assert.equal(m?.availableBytes, 100000 * MIB + 2 * GIB);
    assert.equal(m?.totalBytes, 143771 * MIB);
    assert.match(m!.source, /nvidia-smi: NVIDIA H200, 97\.7 GiB free of 140\.4 GiB \+ 2\.0 GiB this process holds/);
    assert.deepEqual(p.calls, ["nvidia-smi --query-gpu=name,memory.total,memory.free --format=csv,noheader,nounits"]);
    const capped = await gpuMemoryOf(adapter({ vendor: "nvidia" }), 200 * GIB, p);
    assert.equal(capped?.availableBytes, 143771 * MIB);
  });

  test("several GPUs: the one the adapter names, else the one with the least free memory", () => {
    const gpus = [{ name: "NVIDIA A100-SXM4-80GB", freeBytes: 70 * GIB }, { name: "NVIDIA GeForce RTX 4090", freeBytes: 20 * GIB }, { name: "NVIDIA H200", freeBytes: 130 * GIB }];
    assert.deepEqual(pickGpu(gpus, adapter({ description: "NVIDIA H200 (driver 550.54)" })), { gpu: gpus[2], matched: true });
    assert.deepEqual(pickGpu(gpus, adapter({ device: "GeForce RTX 4090" })), { gpu: gpus[1], matched: true });
    assert.deepEqual(pickGpu(gpus, adapter({ description: "NVIDIA: 550.54.15" })), { gpu: gpus[1], matched: false });
    assert.equal(pickGpu([], adapter({})), undefined);
  });

  test("the least-free choice is said in the source", async () => {
    const m = await gpuMemoryOf(adapter({ vendor: "nvidia", description: "NVIDIA: 550" }), 0, probes({}, "NVIDIA A, 1000, 900\nNVIDIA B, 2000, 100\n"));
    assert.equal(m?.availableBytes, 100 * MIB);
    assert.match(m!.source, /NVIDIA B.*least free memory: the adapter's name matched none/);
  });

  test("no nvidia-smi (or it fails): no figure, so the planner keeps its default", async () => {
    assert.equal(await gpuMemoryOf(adapter({ vendor: "nvidia" }), 0, probes({})), undefined);
    assert.equal(await gpuMemoryOf(adapter({ vendor: "nvidia" }), 0, probes({}, "garbage\n")), undefined);
  });

  test("AMD: the amdgpu card's VRAM counters (other vendors' cards ignored)", async () => {
    const sys = "/sys/class/drm";
    const files = {
      [`${sys}/card0/device/vendor`]: "0x8086\n",
      [`${sys}/card0/device/mem_info_vram_total`]: "999999999999\n",
      [`${sys}/card0/device/mem_info_vram_used`]: "0\n",
      [`${sys}/card1/device/vendor`]: "0x1002\n",
      [`${sys}/card1/device/mem_info_vram_total`]: `${24 * GIB}\n`,
      [`${sys}/card1/device/mem_info_vram_used`]: `${4 * GIB}\n`,
      [`${sys}/card1-DP-1/status`]: "connected\n",
    };
    const m = await gpuMemoryOf(adapter({ vendor: "amd", architecture: "rdna-3" }), 0, probes(files));
    assert.equal(m?.availableBytes, 20 * GIB);
    assert.match(m!.source, /amdgpu sysfs card1: 20\.0 GiB free of 24\.0 GiB/);
  });

  test("software adapters, Intel and Apple answer nothing, and software asks no tool", async () => {
    const p = probes({}, "NVIDIA H200, 143771, 100000\n");
    assert.equal(await gpuMemoryOf(adapter({ vendor: "mesa", description: "llvmpipe (LLVM 15)", software: true }), 0, p), undefined);
    assert.equal(await gpuMemoryOf(adapter({ vendor: "intel", architecture: "gen-12lp" }), 0, p), undefined);
    assert.equal(await gpuMemoryOf(adapter({ vendor: "apple", architecture: "metal-3" }), 0, p), undefined);
    assert.deepEqual(p.calls, []);
  });

  test("the planner's webgpu limit is 90 % of it and names where it came from", () => {
    const gpu = adapter({ vendor: "nvidia" });
    const l = memoryLimit({ backend: "webgpu", gpu }, { freeBytes: 8 * GIB, totalBytes: 16 * GIB, gpuMemoryBytes: 100 * GIB, gpuMemorySource: "nvidia-smi: NVIDIA H200, 100.0 GiB free of 140.4 GiB" });
    assert.equal(l.bytes, 90 * GIB);
    assert.equal(l.source, "90 % of the GPU's available memory (nvidia-smi: NVIDIA H200, 100.0 GiB free of 140.4 GiB)");
    const unknown = memoryLimit({ backend: "webgpu", gpu }, { freeBytes: 8 * GIB, totalBytes: 16 * GIB });
    assert.equal(unknown.bytes, 4 * GIB);
    assert.match(unknown.source, /neither nvidia-smi nor amdgpu sysfs answered; set HYPERAT_MEMORY_LIMIT_GIB/);
  });
});
