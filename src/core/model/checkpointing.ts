import * as tf from "@tensorflow/tfjs";
import { ViTConfig } from "./config";
import { ParamMap } from "./params";
import { LoraSet } from "./lora";
import { block } from "./vit";

/**
 * Activation checkpointing (Chen et al. 2016, "Training deep nets with sublinear memory cost"):
 * a block runs as one tfjs custom-gradient op, so the tape keeps only its input; the backward
 * pass recomputes the block's forward and takes its gradients there, one block at a time. The
 * tape of a ViT-B step at 65 tokens is ~58 M floats per image without it (docs/memory.md), and
 * one block's plus the block inputs with it. The recomputed ops are the same ops on the same
 * inputs, so the gradients are the same bits.
 *
 * Gradients flow to the block input and to what in the block can train: LoRA factors (the
 * hypernetwork's outputs or LoRA-AT's variables) and trainable variables (full-at). Frozen
 * weights are constants of the op and get none, as they would get none used by the tape.
 */
export function checkpointedBlock(c: ViTConfig, p: ParamMap, i: number, B: number, T: number, x: tf.Tensor2D, lora?: LoraSet): tf.Tensor2D {
  const prefix = `blocks.${i}.`;
  const varNames = Object.keys(p).filter((k) => k.startsWith(prefix) && p[k] instanceof tf.Variable && (p[k] as tf.Variable).trainable);
  const loraPaths = lora ? Object.keys(lora.factors).filter((k) => k.startsWith(prefix)) : [];
  const extras: tf.Tensor[] = [...varNames.map((k) => p[k]), ...loraPaths.flatMap((k) => [lora!.factors[k].a, lora!.factors[k].b])];
  const run = (xIn: tf.Tensor2D, ex: tf.Tensor[]): tf.Tensor2D => {
    const pp: ParamMap = { ...p };
    varNames.forEach((k, j) => (pp[k] = ex[j]));
    let l = lora;
    if (lora && loraPaths.length) {
      const factors = { ...lora.factors };
      loraPaths.forEach((k, j) => (factors[k] = { a: ex[varNames.length + 2 * j] as tf.Tensor2D, b: ex[varNames.length + 2 * j + 1] as tf.Tensor2D }));
      l = { scale: lora.scale, factors };
    }
    return block(c, pp, i, B, T, xIn, l);
  };
  const op = tf.customGrad((...args: unknown[]) => {
    const save = args.pop() as tf.GradSaveFunc;
    const [xIn, ...ex] = args as tf.Tensor[];
    save([xIn, ...ex]);
    return { value: run(xIn as tf.Tensor2D, ex), gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => recompute(run, saved, dy as tf.Tensor) };
  });
  return op(x, ...extras) as tf.Tensor2D;
}

interface EngineState {
  state: { activeTape: unknown };
}

/** The block's forward again, on a tape of its own, and its vector-Jacobian product with dy. */
function recompute(run: (x: tf.Tensor2D, ex: tf.Tensor[]) => tf.Tensor2D, saved: tf.Tensor[], dy: tf.Tensor): tf.Tensor[] {
  // The outer backward pass is running at gradient depth 0, so a nested tf.grads starts (and
  // at its end clears) the engine's one active tape: keep the outer tape and put it back, or the
  // outer pass cannot free its saved tensors afterwards.
  const engine = tf.engine() as unknown as EngineState;
  const outer = engine.state.activeTape;
  try {
    return tf.grads((...xs: tf.Tensor[]) => run(xs[0] as tf.Tensor2D, xs.slice(1)))(saved, dy);
  } finally {
    engine.state.activeTape = outer;
  }
}
