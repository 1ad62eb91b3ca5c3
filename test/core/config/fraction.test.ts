import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { parseFraction } from "../../../src/core/config/fraction";

describe("parseFraction", () => {
  const good: Array<{ input: string | number; value: number; text: string }> = [
    { input: "8/255", value: 8 / 255, text: "8/255" },
    { input: " 8 / 255 ", value: 8 / 255, text: "8/255" },
    { input: "0.5/2", value: 0.25, text: "0.5/2" },
    { input: "0.03", value: 0.03, text: "0.03" },
    { input: "1", value: 1, text: "1" },
    { input: 0.031, value: 0.031, text: "0.031" },
    { input: 2 / 255, value: 2 / 255, text: String(2 / 255) },
    // The wider grammar (issue 13): what parseEps accepted, the config accepts too.
    { input: "1e-3", value: 1e-3, text: "1e-3" },
    { input: ".5", value: 0.5, text: ".5" },
    { input: "3E-2 / 2", value: 0.015, text: "3E-2/2" },
  ];
  for (const g of good) {
    test(`${JSON.stringify(g.input)} → value ${g.value}, text "${g.text}"`, () => {
      const f = parseFraction(g.input, "/attack/eps");
      assert.equal(f.value, g.value);
      assert.equal(f.text, g.text);
    });
  }

  const bad: Array<{ input: string | number; error: RegExp }> = [
    { input: "9/0", error: /^\/attack\/eps: division by zero in "9\/0"$/ },
    { input: "8/", error: /^\/attack\/eps: expected a number or a fraction like "8\/255", got "8\/"$/ },
    { input: "-8/255", error: /expected a number or a fraction/ },
    { input: "1e", error: /expected a number or a fraction/ },
    { input: "8/255/2", error: /expected a number or a fraction/ },
    { input: "", error: /expected a number or a fraction/ },
    { input: NaN, error: /^\/attack\/eps: expected a finite number, got NaN$/ },
    { input: Infinity, error: /expected a finite number, got Infinity/ },
  ];
  for (const b of bad) {
    test(`${typeof b.input === "string" ? JSON.stringify(b.input) : String(b.input)} is rejected naming the field`, () => {
      assert.throws(() => parseFraction(b.input, "/attack/eps"), { message: b.error });
    });
  }
});
