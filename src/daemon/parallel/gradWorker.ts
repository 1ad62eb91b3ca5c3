// A data-parallel gradient worker (worker_threads): its own tfjs + wasm instance, its own copy
// of the model. Each step it receives the current trainable values and a shard of the batch,
// runs the run's training step on that shard (trainShard: src/core/parallel/trainShard.ts;
// cleanShard: clean pretraining) and sends the shard's weighted gradients back.
import * as tf from "@tensorflow/tfjs";
import { parentPort } from "node:worker_threads";
import { selectBackend } from "../../core/backend/select";
import { setFastPaths } from "../../core/model/vit";
import type { FromWorker, ToWorker } from "./messages";
import { buildTrainer } from "../../core/train/build";
import type { Trainer } from "../../core/train/trainer";
import { shardStep } from "../../core/parallel/trainShard";
import { Rng } from "../../core/rng";
import { cleanShardGradients } from "../../core/parallel/cleanShard";
import type { ViTConfig } from "../../core/model/config";

let trainer: Trainer | undefined;
let pretrain: { vit: ViTConfig; vars: Record<string, tf.Variable> } | undefined;
const port = parentPort;
if (!port) throw new Error("gradWorker must run inside a worker thread");

function reply(m: FromWorker, transfer: ArrayBuffer[] = []): void {
  port!.postMessage(m, transfer);
}

async function handle(m: ToWorker): Promise<void> {
  if (m.kind === "initTrainer") {
    setFastPaths(m.fastPaths); // before selection, which installs the wasm kernels only while on
    const info = await selectBackend(m.backend);
    // The backbone stays alive with the trainer (its frozen tensors are used every step).
    const backbone = Object.fromEntries(Object.entries(m.backbone).map(([k, t]) => [k, tf.tensor(t.data, t.shape)]));
    trainer = buildTrainer(m.cfg, m.vit, backbone);
    reply({ kind: "ready", backend: info.backend });
  } else if (m.kind === "trainShard") {
    if (!trainer) throw new Error("gradWorker: trainShard before initTrainer");
    const vars = trainer.args.tunable.vars;
    for (const [name, values] of Object.entries(m.vars)) {
      const v = vars[name];
      if (!v) throw new Error(`gradWorker: unknown variable "${name}"`);
      tf.tidy(() => v.assign(tf.tensor(values, v.shape)));
    }
    const size = trainer.args.vit.imgSize;
    const x = tf.tensor4d(m.x, [m.n, size, size, 3]);
    const y = tf.tensor1d(m.y, "int32");
    let res;
    try {
      res = await shardStep(trainer, m.t, x, y, { ...trainer.args.attack, rng: Rng.fromState(m.attackRng) }, m.weight);
    } finally {
      tf.dispose([x, y]);
    }
    const grads: Record<string, Float32Array> = {};
    for (const [name, g] of Object.entries(res.grads)) {
      grads[name] = new Float32Array(g.dataSync()); // an own buffer we can transfer
      g.dispose();
    }
    const { loss, advCorrect, cleanCorrect } = res;
    reply({ kind: "shard", grads, loss, advCorrect, cleanCorrect }, Object.values(grads).map((g) => g.buffer as ArrayBuffer));
  } else if (m.kind === "initPretrain") {
    setFastPaths(m.fastPaths); // before selection, which installs the wasm kernels only while on
    const info = await selectBackend(m.backend);
    const vars = Object.fromEntries(Object.entries(m.init).map(([k, t]) => [k, tf.variable(tf.tensor(t.data, t.shape), true)]));
    pretrain = { vit: m.vit, vars };
    reply({ kind: "ready", backend: info.backend });
  } else if (m.kind === "cleanShard") {
    if (!pretrain) throw new Error("gradWorker: cleanShard before initPretrain");
    const { vit, vars } = pretrain;
    for (const [name, values] of Object.entries(m.vars)) {
      const v = vars[name];
      if (!v) throw new Error(`gradWorker: unknown variable "${name}"`);
      tf.tidy(() => v.assign(tf.tensor(values, v.shape)));
    }
    const x = tf.tensor4d(m.x, [m.n, vit.imgSize, vit.imgSize, 3]);
    const y = tf.tensor1d(m.y, "int32");
    let res;
    try {
      res = cleanShardGradients(vit, vars, x, y, m.weight);
    } finally {
      tf.dispose([x, y]);
    }
    const grads: Record<string, Float32Array> = {};
    for (const [name, g] of Object.entries(res.grads)) {
      grads[name] = new Float32Array(g.dataSync());
      g.dispose();
    }
    reply({ kind: "cleanShard", grads, loss: res.loss }, Object.values(grads).map((g) => g.buffer as ArrayBuffer));
  } else {
    process.exit(0);
  }
}

port.on("message", (m: ToWorker) => {
  handle(m).catch((e: unknown) => reply({ kind: "error", message: e instanceof Error ? e.message : String(e) }));
});
