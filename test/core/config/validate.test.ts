import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { validateConfig, parseConfigText } from "../../../src/core/config/validate";
import { ConfigError } from "../../../src/core/config/configError";

/** Runs `fn`, expects a ConfigError and returns it. */
function configError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof ConfigError, `expected a ConfigError, got ${String(e)}`);
    return e;
  }
  assert.fail("expected a ConfigError, nothing was thrown");
}

describe("config validation (schemas/hyperat.schema.json)", () => {
  test("an empty config gets every default, nested ones included", () => {
    const cfg = validateConfig({});
    assert.equal(cfg.method, "hyperat");
    assert.equal(cfg.seed, 0);
    assert.equal(cfg.backend, "auto");
    assert.deepEqual(cfg.defenses, [
      { name: "pgd-at", beta: 6, weight: 1 },
      { name: "trades", beta: 6, weight: 1 },
      { name: "mart", beta: 6, weight: 1 },
    ]);
    assert.deepEqual(cfg.lora, { targets: ["qkv", "proj", "fc1", "fc2"], rank: 8, alpha: 16 });
    assert.deepEqual(cfg.attack, { eps: "8/255", stepSize: "2/255", steps: 10 });
    assert.deepEqual(cfg.hypernet, { embedDim: 32, hiddenDim: 128, latentDim: 32 });
    assert.equal(cfg.model.preset, "vit-micro");
    assert.equal(cfg.model.imgSize, 32);
    assert.equal(cfg.optimizer.lr, 0.001);
    assert.equal(cfg.optimizer.gradClip, 1);
    assert.equal(cfg.training.steps, 200);
    assert.equal(cfg.merge.strategy, "adaptive");
    assert.equal(cfg.evaluation.attacks, "auto"); // standard when n ≥ 1000, else quick (issue 12)
  });

  test("given values are kept, missing siblings defaulted, and the input is not modified", () => {
    const input = { defenses: [{ name: "trades", beta: 3 }], lora: { rank: 2 } };
    const frozen = structuredClone(input);
    const cfg = validateConfig(input);
    assert.deepEqual(cfg.defenses, [{ name: "trades", beta: 3, weight: 1 }]);
    assert.deepEqual(cfg.lora, { targets: ["qkv", "proj", "fc1", "fc2"], rank: 2, alpha: 16 });
    assert.deepEqual(input, frozen);
  });

  test("baselines keep only the first defense", () => {
    const cfg = validateConfig({ method: "lora-at", defenses: [{ name: "mart" }, { name: "pgd-at" }] });
    assert.deepEqual(cfg.defenses.map((d) => d.name), ["mart"]);
  });

  const bad: Array<{ name: string; input: unknown; path: string; detail: RegExp }> = [
    { name: "unknown property in a section", input: { lora: { foo: 1 } }, path: "/lora/foo", detail: /unknown property "foo"/ },
    { name: "unknown top-level property", input: { epochs: 3 }, path: "/epochs", detail: /unknown property "epochs"/ },
    { name: "wrong enum", input: { method: "magic" }, path: "/method", detail: /must be one of "hyperat", "lora-at", "full-at"/ },
    { name: "wrong defense name", input: { defenses: [{ name: "fgsm" }] }, path: "/defenses/0/name", detail: /must be one of "pgd-at", "trades", "mart"/ },
    { name: "defense without a name", input: { defenses: [{ beta: 1 }] }, path: "/defenses/0/name", detail: /missing required property "name"/ },
    { name: "wrong type", input: { lora: { rank: "eight" } }, path: "/lora/rank", detail: /must be integer/ },
    { name: "below minimum", input: { lora: { rank: 0 } }, path: "/lora/rank", detail: />= 1/ },
    { name: "eps with division by zero", input: { attack: { eps: "9/0" } }, path: "/attack/eps", detail: /division by zero in "9\/0"/ },
    { name: "eps above 1", input: { attack: { eps: "300/255" } }, path: "/attack/eps", detail: /must be in \(0, 1\].*got 1\.176/ },
    { name: "eps zero", input: { attack: { eps: 0 } }, path: "/attack/eps", detail: /must be in \(0, 1\]/ },
    { name: "eps not a fraction", input: { attack: { eps: "eight/255" } }, path: "/attack/eps", detail: /pattern/ },
    { name: "step size above 1", input: { attack: { stepSize: 2 } }, path: "/attack/stepSize", detail: /must be in \(0, 1\]/ },
    { name: "duplicate defense", input: { defenses: [{ name: "trades" }, { name: "trades" }] }, path: "/defenses/1/name", detail: /defense "trades" is listed twice/ },
    { name: "duplicate defense, later", input: { defenses: [{ name: "mart" }, { name: "pgd-at" }, { name: "mart" }] }, path: "/defenses/2/name", detail: /"mart" is listed twice/ },
    { name: "imgSize not divisible by patchSize", input: { model: { imgSize: 32, patchSize: 5 } }, path: "/model/patchSize", detail: /not divisible/ },
    { name: "zero sampling weight", input: { defenses: [{ name: "mart", weight: 0 }] }, path: "/defenses/0/weight", detail: /> 0/ },
    { name: "workers neither auto nor a positive integer", input: { training: { workers: "many" } }, path: "/training/workers", detail: /./ },
  ];
  for (const b of bad) {
    test(`error names the JSON path and the expected value: ${b.name}`, () => {
      const e = configError(() => validateConfig(b.input, "my.hyperat.json"));
      assert.equal(e.jsonPath, b.path);
      assert.match(e.detail, b.detail);
      assert.equal(e.file, "my.hyperat.json");
      assert.ok(e.message.startsWith(`my.hyperat.json: ${b.path}: `), e.message);
    });
  }

  for (const input of [null, [], "text", 3]) {
    test(`a non-object document is rejected at the root: ${JSON.stringify(input)}`, () => {
      const e = configError(() => validateConfig(input));
      assert.equal(e.jsonPath, "");
      assert.match(e.message, /^\/: a config must be a JSON object/);
    });
  }

  test("parseConfigText parses and validates valid text", () => {
    const cfg = parseConfigText('{ "method": "full-at", "seed": 4 }');
    assert.equal(cfg.method, "full-at");
    assert.equal(cfg.seed, 4);
  });

  const syntax = [
    { name: "missing value", text: '{\n  "seed": 1,\n  "method": }\n', line: 3, column: 13 },
    { name: "trailing comma in an array", text: '{\n  "lora": { "targets": ["qkv",] }\n}', line: 2, column: 31 },
    { name: "trailing comma in an object", text: '{ "seed": 1, }', line: 1, column: 14 },
    { name: "unquoted key", text: '{\n\n  seed: 1 }', line: 3, column: 3 },
    { name: "truncated", text: '{\n  "seed": 1', line: 2, column: 12 },
  ];
  for (const s of syntax) {
    test(`invalid JSON names the line and column: ${s.name}`, () => {
      const e = configError(() => parseConfigText(s.text, "bad.hyperat.json"));
      assert.equal(e.jsonPath, "");
      assert.match(e.message, new RegExp(`^bad\\.hyperat\\.json: /: invalid JSON at line ${s.line}, column ${s.column}: `));
    });
  }

  test("parseConfigText reports schema errors with their path", () => {
    const e = configError(() => parseConfigText('{ "merge": { "strategy": "median" } }'));
    assert.equal(e.jsonPath, "/merge/strategy");
    assert.match(e.detail, /must be one of "uniform", "adaptive"/);
  });

  test("a UTF-8 BOM before a valid config is accepted; a second one is a syntax error", () => {
    assert.equal(parseConfigText('\ufeff{ "seed": 4 }').seed, 4);
    const e = configError(() => parseConfigText('\ufeff\ufeff{}', "c.hyperat.json"));
    assert.equal(e.jsonPath, "");
    assert.match(e.message, /^c\.hyperat\.json: \/: invalid JSON at line 1, column 1/);
    assert.match(configError(() => parseConfigText(" \n")).detail, /the file is empty/);
  });

  test("upper bounds name the value and the schema's reason (issue 15: 1e300 steps, rank 4096)", () => {
    const steps = configError(() => validateConfig({ training: { steps: 1e300 } }));
    assert.equal(steps.jsonPath, "/training/steps");
    assert.match(steps.detail, /^must be <= 1000000000 \(At most 10\^9: .*\), got 1e\+300$/);
    assert.equal(validateConfig({ training: { steps: 1e9 } }).training.steps, 1e9);
    assert.match(configError(() => validateConfig({ lora: { rank: 4096 } })).detail, /<= 1024 \(At most min\(d_in, d_out\)/);
    assert.equal(configError(() => validateConfig({ hypernet: { hiddenDim: 200000 } })).jsonPath, "/hypernet/hiddenDim");
  });

  test("the deepest failing path is named, and alternatives at one path read as one message", () => {
    const held = configError(() => validateConfig({ data: { val: { from: "train", n: 0 } } }));
    assert.equal(held.jsonPath, "/data/val/n");
    assert.match(held.detail, /^must be >= 1, got 0/);
    const workers = configError(() => validateConfig({ training: { workers: "many" } }));
    assert.equal(workers.jsonPath, "/training/workers");
    assert.equal(workers.detail, 'must be "auto", or must be integer, got "many"');
    assert.equal(configError(() => validateConfig({ attack: { eps: [] } })).detail, "must be string or number");
  });
});
