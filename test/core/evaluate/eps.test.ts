import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { parseEps } from "../../../src/core/evaluate/eps";

describe("parseEps", () => {
  test("fractions keep their exact text", () => {
    assert.deepEqual(parseEps("8/255"), { value: 8 / 255, text: "8/255" });
    assert.deepEqual(parseEps(" 4 / 255 "), { value: 4 / 255, text: "4/255" });
    assert.deepEqual(parseEps("0.5/255"), { value: 0.5 / 255, text: "0.5/255" });
  });

  test("decimals as strings or numbers", () => {
    assert.deepEqual(parseEps("0.031"), { value: 0.031, text: "0.031" });
    assert.deepEqual(parseEps(0.25), { value: 0.25, text: "0.25" });
    assert.deepEqual(parseEps(1), { value: 1, text: "1" });
    assert.deepEqual(parseEps("3e-2"), { value: 0.03, text: "3e-2" });
    assert.deepEqual(parseEps({ value: 0, text: "2/255" }), { value: 2 / 255, text: "2/255" }, "a parsed Eps is re-derived from its text");
  });

  test("out of (0, 1] and malformed inputs are errors that say why", () => {
    assert.throws(() => parseEps("0"), /eps: "0" = 0 must be in \(0, 1\]/);
    assert.throws(() => parseEps("0/255"), /must be in \(0, 1\]/);
    assert.throws(() => parseEps(-0.1), /eps: "-0.1" = -0.1 must be in \(0, 1\]/);
    assert.throws(() => parseEps("-0.1"), /eps: expected a number or a fraction/);
    assert.throws(() => parseEps("8"), /did you mean "8\/255"\?/);
    assert.throws(() => parseEps("300/255"), /must be in \(0, 1\]/);
    assert.throws(() => parseEps("8/0"), /division by zero in "8\/0"/);
    assert.throws(() => parseEps("8/255/2"), /expected a number or a fraction/);
    assert.throws(() => parseEps("eight"), /expected a number or a fraction like "8\/255", got "eight"/);
    assert.throws(() => parseEps(""), /expected a number or a fraction/);
    assert.throws(() => parseEps(NaN), /expected a finite number, got NaN/);
    assert.throws(() => parseEps("abc", "--eps"), /^Error: --eps: expected a number or a fraction like "8\/255", got "abc"/);
  });
});
