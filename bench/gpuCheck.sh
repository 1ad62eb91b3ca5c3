#!/usr/bin/env bash
# The prepared GPU check for a session whose `device` tool lends a machine (issue 11: "figures on
# any real GPU you can reach"). The device machine reaches no registry, so nothing is installed
# there: build here and carry the part of the bundle the CLI needs (34 MB; all of dist/ with
# its source maps is over the 64 MiB carry limit), then run:
#   npm run build
#   device run: command "bash bench/gpuCheck.sh", timeout_s 540, carry ["dist/cli.js",
#     "dist/node_modules", "dist/tfjs-backend-wasm.wasm", "dist/tfjs-backend-wasm-simd.wasm",
#     "dist/tfjs-backend-wasm-threaded-simd.wasm"]   (dist/node_modules holds Dawn's dawn.node)
# Tried here on lavapipe with that subset alone: `bash bench/gpuCheck.sh vit-micro 4`.
# It prints what the machine has (GPU, driver, Node, libvulkan1, Vulkan ICDs: Dawn needs the
# last two on Linux, README "Compute backends"), what `doctor` sees, then ViT-B/16 step times on
# webgpu (32 px / patch 4, batch 32; clean, PGD-10, LoRA-AT, HyperAT, with GFLOP/s). Stops
# early, saying why, when a prerequisite is missing. Output: stdout and $OUT/gpu-check.log (+ bench JSON).
# Arguments (for trying the script on a machine without a GPU): [preset] [batch], default vit-base 32.
set -uo pipefail
cd "$(dirname "$0")/.."
OUT="${OUT:-/tmp/hyperat-gpu-check}"
PRESET="${1:-vit-base}"
BATCH="${2:-32}"
mkdir -p "$OUT"
section() { printf '\n== %s\n' "$*"; }
{
  section "machine"
  date -u
  nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm --format=csv 2>&1 || echo "nvidia-smi: not available"
  section "node"
  if ! command -v node >/dev/null; then echo "node: not installed on this machine: cannot run the bundle"; exit 2; fi
  node --version
  [ -f dist/cli.js ] || { echo "dist/cli.js missing: run npm run build here and carry dist"; exit 2; }
  section "vulkan (Dawn's path to the GPU on Linux)"
  ldconfig -p 2>/dev/null | grep -E "libvulkan\.so\.1" || echo "libvulkan.so.1: missing (Debian/Ubuntu: apt-get install libvulkan1)"
  ls /usr/share/vulkan/icd.d /etc/vulkan/icd.d 2>&1 || true
  section "doctor --backend webgpu"
  timeout 120 node dist/cli.js doctor --backend webgpu
  section "bench: $PRESET, 32 px, batch $BATCH, PGD-10 (webgpu)"
  timeout 360 node dist/cli.js bench --backend webgpu --preset "$PRESET" --batch "$BATCH" --pgd-steps 10 --warmup 1 --iters 3 --json >"$OUT/bench-$PRESET.json"
  echo "exit $? ; $OUT/bench-$PRESET.json:"
  cat "$OUT/bench-$PRESET.json"
} 2>&1 | tee "$OUT/gpu-check.log"
