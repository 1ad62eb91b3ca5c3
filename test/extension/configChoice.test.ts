import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { chooseConfig, configFileName, type ConfigChoiceInputs } from "../../src/extension/configChoice";

const ONE = "/ws/my.hyperat.json";
const TWO = "/ws/two.hyperat.json";

/** A pick that records what it was offered and answers `answer` (a function of the offer). */
function picker(answer: (c: readonly string[]) => string | undefined) {
  const offered: Array<readonly string[]> = [];
  return { offered, pick: async (c: readonly string[]) => (offered.push(c), answer(c)) };
}

function inputs(over: Partial<ConfigChoiceInputs>, pick = picker(() => undefined)): ConfigChoiceInputs {
  return { configs: [ONE, TWO], pick: pick.pick, ...over };
}

describe("chooseConfig", () => {
  test("the active editor's config wins over a stale previous choice, without asking", async () => {
    const p = picker(() => ONE);
    const c = await chooseConfig(inputs({ activeEditor: TWO, previous: ONE }, p));
    assert.deepEqual(c, { kind: "chosen", path: TWO, how: "active editor" });
    assert.equal(p.offered.length, 0);
  });

  test("an explicit argument (CodeLens, menu) wins over the active editor", async () => {
    const c = await chooseConfig(inputs({ explicit: ONE, activeEditor: TWO }));
    assert.deepEqual(c, { kind: "chosen", path: ONE, how: "explicit" });
  });

  test("with another file active and several configs it asks, offering the previous choice first", async () => {
    const p = picker((c) => c[1]);
    const c = await chooseConfig(inputs({ activeEditor: "/ws/README.md", previous: TWO }, p));
    assert.deepEqual(p.offered, [[TWO, ONE]]);
    assert.deepEqual(c, { kind: "chosen", path: ONE, how: "picked" });
  });

  test("never a silent stale choice: a dismissed pick starts nothing even with a previous choice", async () => {
    const c = await chooseConfig(inputs({ previous: ONE }));
    assert.deepEqual(c, { kind: "none", why: "dismissed" });
  });

  test("a previous choice that no longer exists is not offered", async () => {
    const p = picker(() => undefined);
    await chooseConfig(inputs({ previous: "/ws/gone.hyperat.json" }, p));
    assert.deepEqual(p.offered, [[ONE, TWO]]);
  });

  test("one config is taken without asking; none says so", async () => {
    assert.deepEqual(await chooseConfig(inputs({ configs: [ONE] })), { kind: "chosen", path: ONE, how: "only config" });
    assert.deepEqual(await chooseConfig(inputs({ configs: [] })), { kind: "none", why: "no config" });
  });

  test("configFileName keeps the file name for the toast and the row", () => {
    assert.equal(configFileName(TWO), "two.hyperat.json");
    assert.equal(configFileName("C:\\ws\\a.hyperat.json"), "a.hyperat.json");
  });
});
