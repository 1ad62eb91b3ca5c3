import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { blackBoxBeatsWhiteBoxWarning, probabilityOutputsWarning } from "../../../src/core/evaluate/checks";

describe("gradient-masking checks (pure parts)", () => {
  test("probability-looking outputs: every row non-negative and summing to 1", () => {
    assert.match(probabilityOutputsWarning(Float32Array.from([0.2, 0.8, 0.5, 0.5]), 2, 2) ?? "", /look like probabilities/);
    assert.equal(probabilityOutputsWarning(Float32Array.from([0.2, 0.8, 0.5, 0.6]), 2, 2), undefined, "one row off");
    assert.equal(probabilityOutputsWarning(Float32Array.from([-0.5, 1.5]), 1, 2), undefined, "negative entry = logits");
    assert.equal(probabilityOutputsWarning(new Float32Array(0), 0, 2), undefined);
  });

  test("black box beating white box needs a success and a gradient attack before it", () => {
    assert.equal(blackBoxBeatsWhiteBoxWarning("square", 0, 10, ["pgd-20"]), undefined);
    assert.equal(blackBoxBeatsWhiteBoxWarning("square", 3, 10, []), undefined);
    assert.equal(
      blackBoxBeatsWhiteBoxWarning("square", 3, 10, ["apgd-ce", "apgd-t"])?.split(":")[0],
      "square (gradient-free) broke 3 of 10 samples that survived apgd-ce, apgd-t",
    );
  });
});
