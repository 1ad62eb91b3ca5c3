import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { configProblems, MODEL_MODULES } from "../../src/extension/configProblems";

const existing = new Set(["/ws/data/train.bin", "/abs/model.safetensors"]);
const exists = (p: string) => existing.has(p);

describe("configProblems", () => {
  test("the schema's module list is the model's", () => {
    assert.deepEqual([...MODEL_MODULES], ["qkv", "proj", "fc1", "fc2"]);
  });

  test("a clean config has no problems", () => {
    const text = JSON.stringify({
      data: { train: "data/train.bin", val: "synthetic:shapes10?n=8", test: "data/train.bin?x=1" },
      model: { path: "/abs/model.safetensors" },
      attack: { eps: "8/255" },
      lora: { targets: ["qkv", "fc2"] },
    });
    assert.deepEqual(configProblems(text, "/ws", exists), []);
  });

  test("missing data and model files are errors at the value, with the resolved path", () => {
    const text = `{"data":{"test":"data/nope"},"model":{"path":"m.safetensors"}}`;
    const problems = configProblems(text, "/ws", exists);
    assert.deepEqual(
      problems.map((p) => [p.path, p.message, text.slice(p.offset, p.offset + p.length)]),
      [
        ["/data/test", "test data not found: /ws/data/nope", '"data/nope"'],
        ["/model/path", "model file not found: /ws/m.safetensors", '"m.safetensors"'],
      ],
    );
  });

  test("data specs are read by the engine's spec parser: the query is not part of the path, hf: models and malformed specs are left to the daemon", () => {
    const text = JSON.stringify({ data: { train: "/abs/train.bin?n=5&format=cifar10", test: "data/train.bin?n=1&n=2" }, model: { path: "hf:timm/vit_tiny_patch16_224" } });
    assert.deepEqual(
      configProblems(text, "/ws", exists).map((p) => [p.path, p.message]),
      [["/data/train", "train data not found: /abs/train.bin"]],
    );
  });

  test("eps > 1 is an error that suggests the fraction; eps = 0 a warning", () => {
    const [p] = configProblems(`{"attack":{"eps":8}}`, "/ws", exists);
    assert.equal(p.path, "/attack/eps");
    assert.match(p.message, /larger than 1.*did you mean 8\/255/);
    assert.equal(p.severity, "error");
    const [z] = configProblems(`{"attack":{"eps":"0/255"}}`, "/ws", exists);
    assert.equal(z.severity, "warning");
  });

  test("a LoRA target the model lacks is flagged at its array item", () => {
    const text = `{"lora":{"targets":["qkv","query"]}}`;
    const [p] = configProblems(text, "/ws", exists);
    assert.equal(p.path, "/lora/targets/1");
    assert.equal(text.slice(p.offset, p.offset + p.length), '"query"');
  });

  test('"eps": "9/0" passes the schema pattern but is an error from the engine\'s own fraction parser', () => {
    const text = `{"attack":{"eps":"9/0","stepSize":"2/255"}}`;
    const problems = configProblems(text, "/ws", exists);
    assert.equal(problems.length, 1);
    const [p] = problems;
    assert.equal(p.path, "/attack/eps");
    assert.equal(p.severity, "error");
    assert.equal(text.slice(p.offset, p.offset + p.length), '"9/0"');
    // The same text the engine's validateConfig would give (src/core/config/fraction.ts).
    assert.equal(p.message, 'attack.eps: division by zero in "9/0"');
  });

  test("unknown defense names are errors at the name, listing the known ones", () => {
    const text = `{"defenses":[{"name":"pgd-at"},{"name":"fast-at"}]}`;
    const [p, ...rest] = configProblems(text, "/ws", exists);
    assert.deepEqual(rest, []);
    assert.equal(p.path, "/defenses/1/name");
    assert.equal(p.severity, "error");
    assert.equal(text.slice(p.offset, p.offset + p.length), '"fast-at"');
    assert.match(p.message, /unknown defense "fast-at"; known: pgd-at, trades, mart/);
  });

  test("unknown attacks in evaluation.attacks and training.validationAttack are errors; suites and budgets pass", () => {
    const ok = `{"evaluation":{"attacks":"auto"},"training":{"validationAttack":"pgd-10,square-100"}}`;
    assert.deepEqual(configProblems(ok, "/ws", exists), []);
    const bad = `{"evaluation":{"attacks":"pgd-20, deepfool"},"training":{"validationAttack":"auto"}}`;
    const problems = configProblems(bad, "/ws", exists);
    assert.deepEqual(problems.map((p) => [p.path, p.severity]), [["/evaluation/attacks", "error"], ["/training/validationAttack", "error"]]);
    assert.match(problems[0].message, /unknown attack "deepfool"/);
    assert.match(problems[1].message, /unknown attack "auto"/);
  });

  test("unparsable text yields nothing", () => {
    assert.deepEqual(configProblems("{", "/ws", exists), []);
  });
});
