import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { PRESETS, resolveAttackList } from "../../../src/core/evaluate/presets";

describe("attack presets", () => {
  test("named suites", () => {
    assert.deepEqual(resolveAttackList("quick"), ["pgd-20", "cw-20"]);
    assert.deepEqual(resolveAttackList("standard"), ["apgd-ce", "apgd-t", "fab-t", "square"]);
    assert.deepEqual(resolveAttackList("full"), ["fgsm", "pgd-20", "cw-20", "apgd-ce", "apgd-t", "fab-t", "square"]);
    assert.deepEqual(Object.keys(PRESETS), ["quick", "standard", "full"]);
  });

  test("custom comma lists are canonicalized and de-duplicated, order kept", () => {
    assert.deepEqual(resolveAttackList(" PGD-50, square-100 ,pgd-50,apgd-ce-20 "), ["pgd-50", "square-100", "apgd-ce-20"]);
  });

  test("unknown names list the known ones and the presets", () => {
    assert.throws(
      () => resolveAttackList("pgd-20,deepfool"),
      /unknown attack "deepfool" in "pgd-20,deepfool"; known: fgsm, pgd-<steps>, .*square\[-<queries>\]; presets: quick, standard, full/,
    );
    assert.throws(() => resolveAttackList(" , "), /names no attack/);
  });
});
