import { test, describe, before } from "node:test";
import assert from "node:assert/strict";
import { selectTestBackend } from "../../../src/core/backend/select";
import { validateConfig } from "../../../src/core/config/validate";
import { attackSettings, buildTrainer, buildTunable } from "../../../src/core/train/build";
import { disposeParams } from "../../../src/core/model/params";
import { HyperatTunable } from "../../../src/core/train/tunable";
import { Trainer } from "../../../src/core/train/trainer";
import { tinyConfig, randomParams } from "../model/tinyVit";

const vit = tinyConfig();

describe("building a trainer from a validated config", () => {
  before(async () => {
    await selectTestBackend();
  });

  test("attackSettings turns fraction strings into numbers", () => {
    const cfg = validateConfig({ attack: { eps: "4/255", stepSize: 0.01, steps: 3 } });
    assert.deepEqual(attackSettings(cfg), { eps: 4 / 255, stepSize: 0.01, steps: 3 });
  });

  for (const method of ["hyperat", "lora-at", "full-at"] as const) {
    test(`${method}: the tunable, defenses, weights and optimizer come from the config`, () => {
      const p = randomParams(vit, 1);
      const cfg = validateConfig({
        method,
        seed: 5,
        defenses: [{ name: "mart", beta: 3, weight: 2 }, { name: "pgd-at", weight: 0.5 }],
        lora: { rank: 3, alpha: 6, targets: ["proj"] },
        hypernet: { embedDim: 2, hiddenDim: 4, latentDim: 3 },
        optimizer: { lr: 0.02, weightDecay: 0.1 },
        training: { steps: 7 },
      });
      const tr = buildTrainer(cfg, vit, p);
      assert.equal(tr.args.tunable.method, method);
      const K = method === "hyperat" ? 2 : 1;
      assert.deepEqual(tr.args.defenses.map((d) => d.name), ["mart", "pgd-at"].slice(0, K));
      assert.deepEqual(tr.args.weights, [2, 0.5].slice(0, K));
      assert.equal(tr.args.totalSteps, 7);
      assert.equal(tr.args.seed, 5);
      assert.equal(tr.args.optimizer.lr, 0.02);
      assert.equal(tr.args.optimizer.weightDecay, 0.1);
      if (tr.args.tunable instanceof HyperatTunable) {
        const a = tr.args.tunable.hypernet.args;
        assert.deepEqual([a.numDefenses, a.rank, a.alpha, a.embedDim, a.hiddenDim, a.latentDim, a.targets], [2, 3, 6, 2, 4, 3, ["proj"]]);
      }
      const lora = method === "full-at" ? undefined : tr.args.tunable.lora(0);
      if (lora) {
        assert.equal(lora.scale, 2);
        assert.deepEqual(Object.keys(lora.factors), ["blocks.0.attn.proj", "blocks.1.attn.proj"]);
        assert.deepEqual(lora.factors["blocks.0.attn.proj"].a.shape, [vit.dim, 3]);
      }
      tr.dispose();
      tr.args.tunable.dispose();
      disposeParams(p);
    });
  }

  test("buildTunable for full-at makes every parameter a variable (copies, not the inputs)", () => {
    const p = randomParams(vit, 2);
    const t = buildTunable(validateConfig({ method: "full-at" }), vit, p);
    assert.deepEqual(Object.keys(t.vars).sort(), Object.keys(p).sort());
    for (const k of Object.keys(p)) assert.notEqual(t.vars[k], p[k]);
    t.dispose();
    disposeParams(p);
  });

  test("the trainer rejects sampling weights that do not match the defenses", () => {
    const p = randomParams(vit, 3);
    const tr = buildTrainer(validateConfig({ defenses: [{ name: "trades" }] }), vit, p);
    assert.throws(() => new Trainer({ ...tr.args, weights: [1, 1] }), /2 sampling weights for 1 defenses/);
    tr.dispose();
    tr.args.tunable.dispose();
    disposeParams(p);
  });
});
