import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { escapeMarkdown, markdownCode, markdownTable } from "../../src/core/markdown";
import { renderRunReport } from "../../src/daemon/engine/runReport";
import { buildReport, reportMarkdown } from "../../src/core/evaluate/report";
import type { EvalResult } from "../../src/core/evaluate/evaluator";

const HOSTILE = "**bold** | <img src=x onerror=alert(1)> [link](javascript:alert(1)) `code` _em_ ~~s~~ &amp; \\ #\nsecond line";

/** Undoes CommonMark backslash escapes, as a renderer shows the text. */
const shown = (s: string) => s.replace(/\\([!-/:-@[-`{-~])/g, "$1");
/** Whether `needle` occurs with its first character not backslash-escaped (so it renders as markup). */
const raw = (md: string, needle: string) => md.split(needle).slice(0, -1).some((before) => !before.endsWith("\\"));
/** Pipes that split a GFM table cell (not preceded by a backslash). */
const cellPipes = (row: string) => (row.match(/(^|[^\\])\|/g) ?? []).length;

describe("Markdown escaping", () => {
  test("special characters are escaped, newlines flattened, and the text shows unchanged", () => {
    const e = escapeMarkdown(HOSTILE);
    assert.ok(!e.includes("\n"));
    assert.ok(!/(^|[^\\])[<>[\]*_`|~&]/.test(e.replace(/\\\\/g, "")), e);
    assert.equal(shown(e), HOSTILE.replace("\n", " "));
    assert.equal(escapeMarkdown("pgd-20 run.1"), "pgd-20 run.1", "ordinary names stay readable");
  });

  test("a code span's fence outgrows the backticks inside it", () => {
    assert.equal(markdownCode("hyperat eval --data x"), "`hyperat eval --data x`");
    assert.equal(markdownCode("a ``b`` c"), "``` a ``b`` c ```");
  });

  test("a table is a header, a rule with one --- per column, and one line per row", () => {
    assert.deepEqual(markdownTable(["a", "b"], [["1", "**2**"], ["x", ""]]), ["| a | b |", "|---|---|", "| 1 | **2** |", "| x |  |"]);
    assert.deepEqual(markdownTable(["only"], []), ["| only |", "|---|"]);
  });

  test("report.md of a run: a hostile run name, model name, attack and warning neither format nor add columns", () => {
    const row = (name: string) => ({ name, cleanAccuracy: 0.5, robustAccuracy: { "pgd|20": 0.25 }, worstCaseRobustAccuracy: 0.25, trainableParams: 1, warnings: ["<b>x</b>"], result: { n: 1 } });
    const md = renderRunReport({ run: HOSTILE, method: "hyperat", step: 1, from: "latest", data: "synthetic:x?n=1&y=[2]", threatModel: { eps: "8/255" }, attacks: ["pgd|20"], models: [row("a|b"), row(HOSTILE)] });
    for (const bad of ["<img", "<b>", "**bold**", "[link]", "`code`"]) assert.ok(!raw(md, bad), `${bad} in\n${md}`);
    const rows = md.split("\n").filter((l) => l.startsWith("|"));
    assert.equal(new Set(rows.map(cellPipes)).size, 1, rows.join("\n"));
    assert.ok(shown(md).includes(HOSTILE.replace("\n", " ")));
  });

  test("report.md of a run lists what memory planning changed, after the table, and only when it changed something", () => {
    const row = { name: "m", cleanAccuracy: 0.5, robustAccuracy: { "pgd-20": 0.25 }, worstCaseRobustAccuracy: 0.25, trainableParams: 1, warnings: [], result: { n: 1 } };
    const view = { run: "r", method: "hyperat", step: 1, from: "latest", data: "d", threatModel: { eps: "8/255" }, attacks: ["pgd-20"], models: [row] };
    const note = "evaluation.batchSize 512 does not fit (…); running at 93 (results do not depend on the batch)";
    const md = renderRunReport({ ...view, memoryNotes: [note] });
    assert.ok(md.endsWith(`\n## Memory\n\n- ${escapeMarkdown(note)}\n`), md);
    assert.ok(!renderRunReport(view).includes("## Memory"));
  });

  test("the evaluation report escapes checkpoint paths, data specs, the command and warnings", () => {
    const result = {
      cleanAccuracy: 0.5, robustAccuracy: {}, worstCaseRobustAccuracy: 0.5, attacks: [], n: 1, seed: 1, seconds: 1,
      threatModel: { norm: "Linf", eps: "8/255" }, backend: "cpu", versions: {}, warnings: ["<script>w</script>"],
    } as unknown as EvalResult;
    const md = reportMarkdown(buildReport(result, { checkpoint: "/tmp/a|b/<x>.safetensors", data: "synthetic:x?n=1&y=[2]", command: "hyperat eval `x`" }));
    for (const bad of ["<x>", "<script>", "|b/", "&y", "[2]"]) assert.ok(!raw(md, bad), `${bad} in\n${md}`);
    assert.ok(md.includes("`` hyperat eval `x` ``"));
    for (const row of md.split("\n").filter((l) => l.startsWith("| ") && !l.startsWith("| Attack"))) assert.equal(cellPipes(row), 3, row);
  });
});
