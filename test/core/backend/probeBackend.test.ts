// The daemon's main thread probes its backend instead of loading it (select.ts, SelectMode): its
// runs compute in worker threads, and a webgpu backend set here would open a second GPU device.
// Own file, own process: selectBackend keeps the first backend it activates.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { activeBackend, BackendUnavailableError, knownBackend, probeBackend, selectBackend, setAdapterRequestForTests } from "../../../src/core/backend/select";
import type { AdapterLike } from "../../../src/core/backend/webgpu";
import { planRun } from "../../../src/daemon/engine/memoryPlan";
import { validateConfig } from "../../../src/core/config/validate";

/** A hardware adapter that counts device requests: a probe must make none. */
function countingAdapter(): { adapter: AdapterLike & { requestDevice(): Promise<never> }; devices: () => number } {
  let devices = 0;
  return {
    adapter: {
      info: { vendor: "nvidia", architecture: "hopper", device: "", description: "NVIDIA H200" },
      limits: { maxBufferSize: 2 ** 34, maxStorageBufferBindingSize: 2 ** 31 },
      requestDevice: async () => {
        devices++;
        throw new Error("a probe must not open a device");
      },
    },
    devices: () => devices,
  };
}

describe("probeBackend", () => {
  test("a requested webgpu without an adapter fails as selectBackend would, activating nothing", async () => {
    setAdapterRequestForTests(async () => null);
    await assert.rejects(() => probeBackend("webgpu"), (e: unknown) => e instanceof BackendUnavailableError && /backend "webgpu" was requested but cannot load: no WebGPU adapter/.test(e.message));
    assert.equal(activeBackend(), undefined);
  });

  test("auto on a hardware adapter answers webgpu with the adapter, opening no device and loading no tfjs backend", async () => {
    const fake = countingAdapter();
    setAdapterRequestForTests(async () => fake.adapter);
    const info = await probeBackend("auto");
    assert.equal(info.backend, "webgpu");
    assert.equal(info.gpu?.description, "NVIDIA H200");
    assert.equal(info.gpu?.software, false);
    assert.deepEqual(info.attempts.at(-1), { backend: "webgpu", ok: true });
    assert.equal(fake.devices(), 0, "no GPU device was requested");
    assert.equal(tf.findBackendFactory("webgpu"), null, "the tfjs webgpu backend module was never evaluated");
    assert.equal(activeBackend(), undefined, "nothing is active in this thread");
    assert.equal(knownBackend(), info);
    assert.equal(await probeBackend("auto"), info, "asked again, the same answer without a second adapter request");
  });

  test("memory estimates in the probing thread use the probed adapter's limits", async () => {
    const cfg = validateConfig({ data: { train: "synthetic:shapes10?n=40", val: "synthetic:shapes10?n=8&seed=2", test: "synthetic:shapes10?n=8&seed=3" } }, "c.hyperat.json");
    const plan = await planRun(cfg);
    assert.equal(plan.limit.backend, "webgpu");
    assert.equal(plan.limit.maxTensorBytes, 2 ** 31);
  });

  test("a CPU backend asked for explicitly loads for real, and a later selectBackend keeps it", async () => {
    setAdapterRequestForTests(undefined);
    const info = await probeBackend("cpu");
    assert.equal(info.backend, "cpu");
    assert.equal(activeBackend(), info);
    assert.equal(tf.getBackend(), "cpu");
    assert.equal(await selectBackend("auto"), info);
    assert.equal(knownBackend(), info, "the active backend wins over the earlier probe");
  });
});
