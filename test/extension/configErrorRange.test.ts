import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { errorRange, pointerSegments } from "../../src/extension/configErrorRange";

const text = `{
  "attack": { "eps": "9/0" },
  "defenses": [{ "name": "pgd-at" }, { "name": "fast-at" }],
  "a/b": { "~x": 1 }
}`;
const under = (r: { offset: number; length: number }) => text.slice(r.offset, r.offset + r.length);

describe("errorRange: a daemon error's JSON path onto the document", () => {
  test("pointer segments: array indices become numbers, ~1 and ~0 are unescaped", () => {
    assert.deepEqual(pointerSegments("/defenses/1/name"), ["defenses", 1, "name"]);
    assert.deepEqual(pointerSegments("/a~1b/~0x"), ["a/b", "~x"]);
    assert.deepEqual(pointerSegments(""), []);
  });

  test("a value that exists is underlined exactly", () => {
    assert.equal(under(errorRange(text, "/attack/eps")), '"9/0"');
    assert.equal(under(errorRange(text, "/defenses/1/name")), '"fast-at"');
    assert.equal(under(errorRange(text, "/a~1b/~0x")), "1");
  });

  test("a missing property is reported at its parent's key, naming what was located", () => {
    const r = errorRange(text, "/attack/stepSize");
    assert.equal(under(r), '"attack"');
    assert.equal(r.located, "/attack");
  });

  test("the document root or an unknown top-level path: the first character", () => {
    assert.deepEqual(errorRange(text, ""), { offset: 0, length: 1, located: "" });
    assert.deepEqual(errorRange(text, "/nope/deeper"), { offset: 0, length: 1, located: "" });
    assert.deepEqual(errorRange("", "/x"), { offset: 0, length: 0, located: "" });
  });
});
