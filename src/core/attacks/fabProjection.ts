/**
 * The L-inf projection FAB needs (Croce & Hein, "Minimally distorted adversarial examples with a
 * fast adaptive boundary attack", ICML 2020, Sec. 3.1; reference fra31/auto-attack
 * `fab_projections.py`, `projection_linf`): the smallest d in L-inf norm with
 *   w·(t + d) = b  and  0 ≤ t + d ≤ 1.
 * Moving coordinate i by λ towards the plane lowers |w·t − b| by |w_i|·min(λ, p_i), where p_i is
 * the room the box leaves in that direction, so the answer is d_i = −sign(w_i)·min(λ*, p_i) with
 * λ* the smallest λ whose total reaches |w·t − b| (a concave piecewise-linear function of λ,
 * solved exactly by walking the sorted p_i). When even the box corner does not reach the plane,
 * the corner is returned, as the reference does. Coordinates with w_i = 0 never move.
 * Plain arrays, one sample: the caller reads tensors with `await data()` (no sync reads).
 */

/** d for one sample (t, w of length D, offset b); writes into `out` when given. */
export function projectLinfHyperplane(t: ArrayLike<number>, w: ArrayLike<number>, b: number, out?: Float32Array): Float32Array {
  const D = t.length;
  if (w.length !== D) throw new Error(`projectLinfHyperplane: w has ${w.length} entries, t has ${D}`);
  const d = out ?? new Float32Array(D);
  let wt = 0;
  for (let i = 0; i < D; i++) wt += w[i] * t[i];
  // Orient the plane so that t lies on its positive side; the move then lowers w'·t towards b'.
  const side = wt - b >= 0 ? 1 : -1;
  const gap = side * (wt - b);
  d.fill(0);
  if (!(gap > 0)) return d;
  const room = new Float64Array(D);
  const weight = new Float64Array(D);
  const order: number[] = [];
  for (let i = 0; i < D; i++) {
    const wi = side * w[i];
    if (wi === 0) continue;
    room[i] = wi > 0 ? t[i] : 1 - t[i];
    if (room[i] < 0) room[i] = 0;
    weight[i] = Math.abs(wi);
    order.push(i);
  }
  order.sort((i, j) => room[i] - room[j]);
  let slope = 0;
  for (const i of order) slope += weight[i];
  // Walk λ upward: on each segment every coordinate with room left moves at rate |w_i|.
  let lambda = Infinity;
  let reached = 0;
  let at = 0;
  for (const i of order) {
    const next = reached + slope * (room[i] - at);
    if (next >= gap) {
      lambda = at + (gap - reached) / slope;
      break;
    }
    reached = next;
    at = room[i];
    slope -= weight[i];
  }
  for (const i of order) {
    const step = Math.min(lambda, room[i]);
    d[i] = side * w[i] > 0 ? -step : step;
  }
  return d;
}

/** max |v_i| over a slice. */
export function linfNorm(v: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < v.length; i++) m = Math.max(m, Math.abs(v[i]));
  return m;
}
