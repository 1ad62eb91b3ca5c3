// Runs the same computation on the cpu backend and on webgpu and compares. webgpu needs a
// WebGPU adapter: Mesa's lavapipe (software Vulkan, scripts/system-deps.sh) on every machine.
// With CI=true a missing adapter fails the suite; elsewhere it skips with the reason printed.
import * as tf from "@tensorflow/tfjs";
import { BackendUnavailableError, selectBackend } from "../../../src/core/backend/select";

let loaded: Promise<string | undefined> | undefined;

/** Loads webgpu once; resolves to why it cannot run here (undefined when it can). */
export function webgpuUnavailable(): Promise<string | undefined> {
  loaded ??= (async () => {
    try {
      await selectBackend("webgpu");
      await tf.setBackend("cpu");
      return undefined;
    } catch (e) {
      if (!(e instanceof BackendUnavailableError)) throw e;
      if (process.env.CI === "true") throw new Error(`CI=true requires the webgpu backend (lavapipe; run scripts/system-deps.sh): ${e.message}`);
      console.error(`\n*** SKIPPING webgpu numerics: ${e.message}\n*** install mesa-vulkan-drivers >= 25 and libvulkan1 (scripts/system-deps.sh) to run them\n`);
      return e.message;
    }
  })();
  return loaded;
}

/** Float values of every named output (tensors are read and disposed). */
export type Outputs = Record<string, Float32Array | number[] | number>;

/** Runs `fn` on cpu, then on webgpu, from scratch each time (fn builds its own tensors). */
export async function onBoth(fn: () => Promise<Outputs>): Promise<{ cpu: Outputs; webgpu: Outputs }> {
  await tf.setBackend("cpu");
  const cpu = await fn();
  await tf.setBackend("webgpu");
  try {
    const webgpu = await fn();
    return { cpu, webgpu };
  } finally {
    await tf.setBackend("cpu");
  }
}

function asArray(v: Float32Array | number[] | number): number[] {
  return typeof v === "number" ? [v] : Array.from(v);
}

/** max |a − b| / max |b| per output (b = cpu, the reference). */
export function relativeErrors(r: { cpu: Outputs; webgpu: Outputs }): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, ref] of Object.entries(r.cpu)) {
    const a = asArray(r.webgpu[k]);
    const b = asArray(ref);
    if (a.length !== b.length) throw new Error(`${k}: ${a.length} values on webgpu, ${b.length} on cpu`);
    let diff = 0;
    let scale = 0;
    for (let i = 0; i < b.length; i++) {
      diff = Math.max(diff, Math.abs(a[i] - b[i]));
      scale = Math.max(scale, Math.abs(b[i]));
    }
    out[k] = diff / Math.max(scale, 1e-12);
  }
  return out;
}

/** Reads a tensor as floats and disposes it. */
export async function take(t: tf.Tensor): Promise<Float32Array> {
  const v = Float32Array.from(await t.data());
  t.dispose();
  return v;
}
