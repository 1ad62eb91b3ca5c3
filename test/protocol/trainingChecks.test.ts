import { test, describe } from "node:test";
import assert from "node:assert/strict";
import {
  FLAT_LOSS_MIN_STEPS,
  FLAT_LOSS_REL_CHANGE,
  FLAT_LOSS_WINDOW,
  NEAR_CHANCE_FACTOR,
  chanceAccuracy,
  flatLoss,
  flatLossText,
  isNearChance,
  nearChanceHint,
} from "../../src/protocol/trainingChecks";

/** Steps 1..n with loss f(step). */
const series = (n: number, f: (s: number) => number) => Array.from({ length: n }, (_, i) => ({ step: i + 1, loss: f(i + 1) }));

describe("chance-level check", () => {
  test("thresholds as stated: below twice chance is near chance", () => {
    assert.equal(NEAR_CHANCE_FACTOR, 2);
    assert.equal(chanceAccuracy(10), 0.1);
    assert.equal(isNearChance(0.156, 10), true, "the issue's 15.6 % on 10 classes");
    assert.equal(isNearChance(0.199, 10), true);
    assert.equal(isNearChance(0.2, 10), false);
    assert.equal(isNearChance(0.85, 10), false);
    assert.equal(isNearChance(0.019, 100), true);
    assert.equal(isNearChance(0.05, 100), false);
  });

  test("the hint names the likely fix for where the weights came from", () => {
    assert.match(nearChanceHint("/ws/.cache/pretrain-vit-tiny.safetensors (clean-pretrained)"), /model\.pretrain\.steps/);
    assert.match(nearChanceHint("/ws/model.safetensors"), /numClasses.*normalization/);
    assert.match(nearChanceHint("random init"), /model\.path/);
  });
});

describe("flat-loss check", () => {
  test(`not judged before ${FLAT_LOSS_MIN_STEPS} steps`, () => {
    assert.equal(flatLoss(series(FLAT_LOSS_MIN_STEPS - 1, () => Math.LN10)), undefined);
  });

  test("a loss stuck at ln 10 is flagged with its start and current value", () => {
    const f = flatLoss(series(40, (s) => Math.LN10 + (s % 2 ? 1e-4 : -1e-4)));
    assert.ok(f);
    assert.equal(f.steps, 40);
    assert.ok(Math.abs(f.startLoss - Math.LN10) < 1e-3 && Math.abs(f.nowLoss - Math.LN10) < 1e-3);
    assert.equal(flatLossText(f), "loss flat at 2.303 for 40 steps");
  });

  test(`a change of ${100 * FLAT_LOSS_REL_CHANGE}% or more between the first and last ${FLAT_LOSS_WINDOW} steps is movement`, () => {
    // Mean of the last window 3 % below the first: not flat. 1 % below: flat.
    assert.equal(flatLoss(series(30, (s) => (s > 25 ? 2.0 * 0.97 : 2.0))), undefined);
    assert.ok(flatLoss(series(30, (s) => (s > 25 ? 2.0 * 0.99 : 2.0))));
    // A decreasing loss is not flat.
    assert.equal(flatLoss(series(60, (s) => 2.3 * Math.exp(-s / 30))), undefined);
  });

  test("non-finite losses are ignored, a span of steps counts (not just entries)", () => {
    const withNaN = [...series(30, () => 1.5), { step: 31, loss: NaN }];
    assert.equal(flatLoss(withNaN)?.steps, 30);
    const sparse = Array.from({ length: 20 }, (_, i) => ({ step: i * 10 + 1, loss: 1 }));
    assert.equal(flatLoss(sparse)?.steps, 191);
  });
});
