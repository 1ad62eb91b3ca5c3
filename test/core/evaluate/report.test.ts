import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { buildReport, formatTable, reportMarkdown } from "../../../src/core/evaluate/report";
import type { EvalResult } from "../../../src/core/evaluate/evaluator";

const result: EvalResult = {
  cleanAccuracy: 0.9,
  robustAccuracy: { "apgd-ce": 0.5, "apgd-t": 0.45, square: 0.44 },
  worstCaseRobustAccuracy: 0.44,
  n: 100,
  threatModel: { norm: "Linf", eps: "8/255" },
  epsValue: 8 / 255,
  seed: 7,
  batchSize: 32,
  backend: "wasm",
  versions: { tfjs: "4.22.0", hyperat: "0.1.0" },
  seconds: 12.5,
  attacks: [
    { name: "apgd-ce", description: "APGD-CE, 100 iterations", usesGradients: true, settings: { steps: 100 }, attacked: 90, broken: 40, seconds: 5 },
    { name: "apgd-t", description: "APGD-T", usesGradients: true, settings: {}, attacked: 50, broken: 5, seconds: 6 },
    { name: "square", description: "Square", usesGradients: false, settings: {}, attacked: 45, broken: 1, seconds: 1.5 },
  ],
  warnings: ["square (gradient-free) broke 1 of 45 samples"],
};

describe("evaluation report", () => {
  test("JSON carries the issue's fields plus what was evaluated", () => {
    const rep = buildReport(result, { checkpoint: "model.safetensors", architecture: "vit-tiny", data: "synthetic:shapes10" }, new Date("2026-01-02T03:04:05Z"));
    const round = JSON.parse(JSON.stringify(rep));
    for (const key of ["cleanAccuracy", "robustAccuracy", "worstCaseRobustAccuracy", "n", "threatModel", "seed", "backend"]) assert.ok(key in round, key);
    assert.deepEqual(round.threatModel, { norm: "Linf", eps: "8/255" });
    assert.equal(round.generatedAt, "2026-01-02T03:04:05.000Z");
    assert.deepEqual(round.model, { checkpoint: "model.safetensors", architecture: "vit-tiny" });
    assert.equal(round.format, "hyperat-eval-report");
  });

  test("markdown has RobustBench's fields", () => {
    const md = reportMarkdown(buildReport(result, { checkpoint: "model.safetensors", architecture: "vit-tiny" }));
    for (const field of [
      "| Architecture | vit-tiny |",
      "| Threat model | Linf |",
      "| eps | 8/255 |",
      "| Clean accuracy | 90.00% |",
      "| Robust accuracy | 44.00% |",
      "| Evaluation method | per-sample worst case over apgd-ce → apgd-t → square",
      "| n | 100 |",
      "| Checkpoint | model.safetensors |",
      "| apgd-t | APGD-T | 45.00% | 5 / 50 | 6.0 |",
      "- square (gradient-free) broke 1 of 45 samples",
    ]) {
      assert.ok(md.includes(field), `missing: ${field}\n${md}`);
    }
  });

  test("terminal table lists clean, each attack and the worst case", () => {
    const lines = formatTable(result).split("\n");
    assert.match(lines[0], /^attack\s+accuracy\s+notes$/);
    assert.match(lines[2], /^clean\s+90\.00%$/);
    assert.match(lines[3], /^apgd-ce\s+50\.00%\s+40\/90 broken, 5\.0s$/);
    assert.match(lines[6], /^worst case\s+44\.00%\s+n = 100, Linf eps = 8\/255$/);
  });
});
