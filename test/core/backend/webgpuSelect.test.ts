// Backend selection around webgpu and tensorflow-gpu without real devices: the adapter request is
// replaced (setAdapterRequestForTests), so these run on any machine.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BackendUnavailableError, deviceFacts, describeBackend, selectBackend, setAdapterRequestForTests } from "../../../src/core/backend/select";
import { describeAdapter, probeAdapter, type AdapterLike } from "../../../src/core/backend/webgpu";
import { CUDA_LIBRARIES, missingCudaLibraries } from "../../../src/core/backend/tensorflowGpu";
import { ownsOneGpuContext, resolveWorkers } from "../../../src/daemon/parallel/workerCount";

const LAVAPIPE: AdapterLike = {
  info: { vendor: "mesa", architecture: "software", device: "llvmpipe-llvm-15-0-6-256-bits-", description: "llvmpipe: Mesa 25.0.7 (LLVM 15.0.6)" },
  limits: { maxBufferSize: 4294967295, maxStorageBufferBindingSize: 134217728 },
};
const NVIDIA: AdapterLike = {
  info: { vendor: "nvidia", architecture: "hopper", device: "", description: "NVIDIA H200" },
  limits: { maxBufferSize: 2 ** 34, maxStorageBufferBindingSize: 2 ** 31 },
};

describe("webgpu adapters", () => {
  test("lavapipe is software, an NVIDIA adapter hardware; limits are read", () => {
    const soft = describeAdapter(LAVAPIPE);
    assert.equal(soft.software, true);
    assert.equal(soft.maxStorageBufferBindingSize, 134217728);
    const hard = describeAdapter(NVIDIA);
    assert.deepEqual(hard, { vendor: "nvidia", architecture: "hopper", device: "", description: "NVIDIA H200", software: false, maxBufferSize: 2 ** 34, maxStorageBufferBindingSize: 2 ** 31 });
    assert.equal(describeAdapter({ info: { vendor: "google", device: "SwiftShader Device" } }).software, true);
    assert.equal(describeAdapter({ ...NVIDIA, isFallbackAdapter: true }).software, true);
  });

  test("no adapter, or a software one under auto, is refused with the reason; explicit takes software", async () => {
    await assert.rejects(() => probeAdapter({ allowSoftware: true, requestAdapter: async () => null }), /no WebGPU adapter/);
    await assert.rejects(() => probeAdapter({ allowSoftware: false, requestAdapter: async () => LAVAPIPE }), /software adapter mesa llvmpipe.* is used only when requested explicitly/);
    assert.equal((await probeAdapter({ allowSoftware: true, requestAdapter: async () => LAVAPIPE })).software, true);
    assert.equal((await probeAdapter({ allowSoftware: false, requestAdapter: async () => NVIDIA })).software, false);
  });
});

describe("selectBackend", () => {
  // Order matters: selectBackend keeps the first backend it activates for the process.
  test("explicit webgpu without an adapter is an error naming why", async () => {
    setAdapterRequestForTests(async () => null);
    await assert.rejects(() => selectBackend("webgpu"), (e: unknown) => e instanceof BackendUnavailableError && /backend "webgpu" was requested but cannot load: no WebGPU adapter/.test(e.message));
  });

  test("auto falls through a software adapter, recording the reason, to a CPU backend", async () => {
    setAdapterRequestForTests(async () => LAVAPIPE);
    try {
      const info = await selectBackend("auto");
      const webgpu = info.attempts.find((a) => a.backend === "webgpu");
      assert.equal(webgpu?.ok, false);
      assert.match(webgpu?.reason ?? "", /software adapter .* used only when requested explicitly/);
      assert.ok(["tensorflow", "wasm", "cpu"].includes(info.backend), info.backend);
      assert.equal(info.gpu, undefined);
      assert.equal(deviceFacts(info), undefined, "no device facts off the GPU");
    } finally {
      setAdapterRequestForTests(undefined);
    }
  });

  test("describeBackend and deviceFacts name the adapter", () => {
    const gpu = describeAdapter(NVIDIA);
    const info = { backend: "webgpu" as const, requested: "auto" as const, attempts: [], tfjsVersion: "4.22.0", gpu };
    assert.match(describeBackend(info), /^webgpu on nvidia NVIDIA H200 \(hardware, maxBuffer 16\.0 GiB, maxStorageBinding 2\.0 GiB\)$/);
    assert.deepEqual(deviceFacts(info), { gpu });
    assert.match(describeBackend({ ...info, backend: "tensorflow", gpu: undefined, gpuDeviceInUse: false }), /without a GPU device: CPU/);
  });
});

describe("tensorflow-gpu", () => {
  test("missing CUDA/cuDNN libraries are named; present ones are not", () => {
    const dir = mkdtempSync(join(tmpdir(), "hyperat-cuda-"));
    writeFileSync(join(dir, "libcudart.so.11.0"), "");
    writeFileSync(join(dir, "libcudnn.so.8"), "");
    const missing = missingCudaLibraries([dir], "linux");
    assert.deepEqual(missing, CUDA_LIBRARIES.filter((l) => l !== "libcudart.so.11.0" && l !== "libcudnn.so.8"));
    assert.deepEqual(missingCudaLibraries([dir], "darwin"), []);
  });
});

describe("one GPU context per process", () => {
  test("GPU backends never get helper workers; CPU backends do", () => {
    assert.equal(resolveWorkers(4, "webgpu"), 1);
    assert.equal(resolveWorkers("auto", "tensorflow-gpu"), 1);
    assert.equal(resolveWorkers(4, "wasm"), 4);
    assert.equal(resolveWorkers(3), 3);
    assert.deepEqual(["webgpu", "tensorflow-gpu", "tensorflow", "wasm", "cpu"].map((b) => ownsOneGpuContext(b as never)), [true, true, false, false, false]);
  });
});
