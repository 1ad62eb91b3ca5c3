import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { displayNameProblem, noteFromInput, noteProblem, noteToInput, tagsFromInput, tagsInUse, tagsProblem, tagsToInput } from "../../src/extension/annotationInput";
import { checkAnnotations, normalizeAnnotations } from "../../src/daemon/runAnnotations";

describe("annotation input boxes", () => {
  test("tags: commas or spaces separate, duplicates and blanks go; shown back comma-separated", () => {
    assert.deepEqual(tagsFromInput(" baseline, eps8  lr-high,,baseline "), ["baseline", "eps8", "lr-high"]);
    assert.deepEqual(tagsFromInput(""), [], "empty input clears");
    assert.equal(tagsToInput(["a", "b"]), "a, b");
    assert.equal(tagsToInput(undefined), "");
  });

  test("every tag the box accepts is one the file accepts", () => {
    const typed = "a,b  c\tdé-1 ünïcode";
    assert.equal(tagsProblem(typed), undefined);
    assert.deepEqual(checkAnnotations(normalizeAnnotations({ tags: tagsFromInput(typed) }), "f").tags, ["a", "b", "c", "dé-1", "ünïcode"]);
    assert.match(tagsProblem("x".repeat(41)) ?? "", /is 41 characters; at most 40/);
    assert.match(tagsProblem(Array.from({ length: 33 }, (_, i) => `t${i}`).join(" ")) ?? "", /At most 32 tags \(this is 33\)/);
  });

  test("a multi-line note round-trips through the one-line box, backslashes included", () => {
    for (const note of ["", "one line", "## Why\n\nlr too high?\n- try 1e-4", "a literal \\n stays", "C:\\runs\\new", "ends with \\", "\\\\n", "crlf\r\nline"]) {
      const back = noteFromInput(noteToInput(note));
      assert.equal(back, note.replace(/\r\n/g, "\n"), JSON.stringify(note));
      assert.ok(!noteToInput(note).includes("\n"), "the box's value is one line");
    }
  });

  test("typed directly: \\n breaks the line, other backslashes stay as written (Markdown escapes)", () => {
    assert.equal(noteFromInput("first\\nsecond"), "first\nsecond");
    assert.equal(noteFromInput("5 \\* 3"), "5 \\* 3");
    assert.equal(noteFromInput("path\\\\name"), "path\\name");
  });

  test("length checks while typing match the writer's limits", () => {
    assert.equal(displayNameProblem("  a short name  "), undefined);
    assert.match(displayNameProblem("x".repeat(121)) ?? "", /At most 120 characters \(this is 121\)/);
    assert.equal(noteProblem("x".repeat(8000)), undefined);
    assert.match(noteProblem("x".repeat(8001)) ?? "", /At most 8000/);
  });

  test("tags in use: most used first, then by name", () => {
    const runs = [{ annotations: { tags: ["b", "a"] } }, { annotations: { tags: ["b"] } }, {}, { annotations: { tags: ["c"] } }];
    assert.deepEqual(tagsInUse(runs), ["b", "a", "c"]);
    assert.deepEqual(tagsInUse(runs, 1), ["b"]);
  });
});
