import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { attackListErrors, attackNameError, ATTACK_SUITES } from "../../../src/core/attacks/attackNames";
import { KNOWN_ATTACKS, resolveAttack } from "../../../src/core/attacks/registry";
import { PRESETS } from "../../../src/core/evaluate/presets";

/** "apgd-ce[-<steps>]" → ["apgd-ce", "apgd-ce-7"]: each form of a KNOWN_ATTACKS entry. */
function examples(form: string): string[] {
  const bare = form.replace(/\[.*\]/, "").replace(/<[a-z]+>/, "7");
  const full = form.replace(/[[\]]/g, "").replace(/<[a-z]+>/, "7");
  return [...new Set([bare, full])];
}

describe("attackNames agrees with the registry", () => {
  test("every KNOWN_ATTACKS form is accepted by both (a new attack must be added to attackNames.ts too)", () => {
    for (const form of KNOWN_ATTACKS) {
      for (const name of examples(form)) {
        assert.doesNotThrow(() => resolveAttack(name), name);
        assert.equal(attackNameError(name), undefined, name);
      }
    }
  });

  test("names the registry rejects are rejected here too", () => {
    for (const name of ["deepfool", "pgd", "pgd-0", "pgd-x", "cw-2000000", "apgd-xx", "square-0", ""]) {
      assert.throws(() => resolveAttack(name), Error, name);
      assert.notEqual(attackNameError(name), undefined, name);
    }
  });

  test("suites are the presets plus auto; auto is refused where it has no meaning", () => {
    assert.deepEqual([...ATTACK_SUITES].sort(), ["auto", ...Object.keys(PRESETS)].sort());
    assert.deepEqual(attackListErrors("standard"), []);
    assert.deepEqual(attackListErrors(" pgd-20 , cw-20 "), []);
    assert.deepEqual(attackListErrors("auto"), []);
    assert.equal(attackListErrors("auto", false).length, 1);
    assert.deepEqual(attackListErrors("pgd-20,nope,fgsm").length, 1);
    assert.match(attackListErrors(" , ")[0], /names no attack/);
  });
});
