import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { configFacts, runForDecorations } from "../../src/extension/configFacts";
import type { RunState } from "../../src/protocol/runs";
import { compactCount, percent } from "../../src/extension/format";
import { defenseFacts } from "../../src/extension/runTree";

const doc = `{
  "name": "demo",
  "method": "hyperat",
  "attack": { "eps": "8/255", "stepSize": 0.0078 },
  "defenses": [
    { "name": "pgd-at" },
    { "name": "trades", "beta": 6 }
  ],
  "hypernet": { "embedDim": 16 },
  "lora": { "rank": 4 }
}`;
const lineOf = (offset: number) => doc.slice(0, offset).split("\n").length - 1;

describe("configFacts", () => {
  test("eps and step size as decimals on their own key's line", () => {
    const facts = configFacts(doc);
    const byLine = facts.map((f) => [lineOf(f.offset), f.text]);
    assert.deepEqual(byLine, [
      [3, "eps = 0.03137"],
      [3, "stepSize = 0.0078"],
    ]);
    assert.equal(doc.slice(facts[0].offset, facts[0].offset + 5), '"eps"');
  });

  test("trainable count goes on the hypernet line for hyperat and on the lora line for lora-at", () => {
    const h = configFacts(doc, { trainableParams: 45210, totalParams: 4_521_000 }).find((f) => f.text.includes("trainable"));
    assert.equal(h?.text, "hypernetwork + head 45.2K trainable; backbone 4.52M frozen");
    assert.equal(lineOf(h!.offset), 8);
    const l = configFacts(doc.replace('"hyperat"', '"lora-at"'), { trainableParams: 1000 }).find((f) => f.text.includes("trainable"));
    assert.equal(lineOf(l!.offset), 9);
    assert.equal(l?.text, "LoRA + head 1.00K trainable");
    // Larger than the backbone is no percentage over 100 any more.
    const big = configFacts(doc, { trainableParams: 220_000, totalParams: 148_000 }).find((f) => f.text.includes("trainable"));
    assert.equal(big?.text, "hypernetwork + head 220K trainable; backbone 148K frozen");
  });

  test("each defense entry gets the latest run's sampled share and last robust accuracy", () => {
    // As the decorations build it from a run folder: 1 of 4 steps sampled pgd-at, 3 trades.
    const defenses = defenseFacts({
      defenses: ["pgd-at", "trades"],
      sampledCounts: { "pgd-at": 1, trades: 3 },
      evaluations: [{ step: 4, target: "trades", cleanAccuracy: 0.9, robustAccuracy: { "pgd-10": 0.4123 }, worstCaseRobustAccuracy: 0.4123 }],
    });
    const facts = configFacts(doc, { latestRun: { id: "demo-1", defenses } }).filter((f) => /latest run|sampled/.test(f.text));
    assert.deepEqual(
      facts.map((f) => [lineOf(f.offset), f.text]),
      [
        [4, "latest run demo-1"],
        [5, "sampled 25%"],
        [6, "sampled 75% · robust 41.2%"],
      ],
    );
  });

  test("broken documents and bad fractions yield no facts instead of throwing", () => {
    assert.deepEqual(configFacts("[1,2]"), []);
    assert.deepEqual(configFacts('{"attack":{"eps":"8/0"}}'), []);
  });
});

test("percent formats fractions and unknowns", () => {
  assert.equal(percent(0.4123), "41.2%");
  assert.equal(percent(1, 0), "100%");
  assert.equal(percent(undefined), "–");
});

test("compactCount", () => {
  assert.equal(compactCount(999), "999");
  assert.equal(compactCount(1_234_567), "1.23M");
  assert.equal(compactCount(86_000_000_000), "86.0B");
});

describe("runForDecorations", () => {
  const run = (id: string, createdAt: string, state: RunState, best?: boolean) => ({
    id, configPath: "/ws/a.hyperat.json", createdAt, state,
    best: best ? { target: "uniform", split: "val" as const, attack: "pgd-10", step: 5, worstCaseRobustAccuracy: 0.3, cleanAccuracy: 0.6 } : undefined,
  });

  test("the newest completed run wins over a newer accidental stopped one", () => {
    const runs = [run("old-done", "2026-12-01T10:00:00Z", "completed", true), run("accident", "2026-12-02T10:00:00Z", "stopped"), run("other", "2026-12-03T00:00:00Z", "completed")];
    runs[2].configPath = "/ws/b.hyperat.json";
    assert.equal(runForDecorations(runs, "/ws/a.hyperat.json")?.id, "old-done");
  });

  test("without a completed run: the newest with a best, else the newest; none for another config", () => {
    const runs = [run("best", "2026-12-01T10:00:00Z", "paused", true), run("new", "2026-12-02T10:00:00Z", "stopped")];
    assert.equal(runForDecorations(runs, "/ws/a.hyperat.json")?.id, "best");
    assert.equal(runForDecorations([runs[1]], "/ws/a.hyperat.json")?.id, "new");
    assert.equal(runForDecorations(runs, "/ws/c.hyperat.json"), undefined);
  });
});
