import * as tf from "@tensorflow/tfjs";

export interface SubsetResult {
  xAdv: tf.Tensor4D;
  fooled: boolean[];
}

/**
 * Runs `run` only on samples not yet fooled (AutoAttack runs each restart/target only on the
 * points still robust) and scatters its outputs back. Replaces `state.x` (disposing the old one).
 */
export async function runOnSurvivors(
  state: { x: tf.Tensor4D; fooled: boolean[] },
  x: tf.Tensor4D,
  y: tf.Tensor1D,
  /** `rows`: the batch rows `xs` holds, so per-sample streams follow their samples (attackRng.ts). */
  run: (xs: tf.Tensor4D, ys: tf.Tensor1D, rows: number[]) => Promise<SubsetResult>,
): Promise<void> {
  const idx: number[] = [];
  state.fooled.forEach((f, i) => {
    if (!f) idx.push(i);
  });
  if (idx.length === 0) return;
  const B = state.fooled.length;
  const idxT = tf.tensor1d(idx, "int32");
  const xs = tf.gather(x, idxT) as tf.Tensor4D;
  const ys = tf.gather(y, idxT) as tf.Tensor1D;
  const r = await run(xs, ys, idx);
  // Gather from [old rows ; new rows]: row b of the result is old b, or new j if b = idx[j].
  const map = Int32Array.from({ length: B }, (_, b) => b);
  idx.forEach((b, j) => {
    map[b] = B + j;
    state.fooled[b] = r.fooled[j];
  });
  const next = tf.tidy(() => tf.gather(tf.concat([state.x, r.xAdv]), tf.tensor1d(map, "int32")) as tf.Tensor4D);
  tf.dispose([idxT, xs, ys, r.xAdv, state.x]);
  state.x = next;
}
