// The fast compute paths — the wasm kernels (src/core/backend/wasm/fastPaths.ts) and the model's
// fused passes and XNNPACK attention (src/core/model/vit.ts) — are on by default; tests and
// `hyperat bench --plain` switch them off to compare against the stock tfjs ops. It lives beside
// backend selection because selection installs the wasm kernels only while it is on: a process
// that switches it off before choosing wasm runs stock kernels throughout.
let fastPaths = true;

export function fastPathsEnabled(): boolean {
  return fastPaths;
}

/** Switches the fast compute paths on or off (for tests and benchmarks); returns the old value. */
export function setFastPaths(on: boolean): boolean {
  const old = fastPaths;
  fastPaths = on;
  return old;
}
