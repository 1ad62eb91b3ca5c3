import { test } from "node:test";
import assert from "node:assert/strict";
import { reviveError, serializeError, MissingFileError } from "../../src/daemon/errors";
import { ConfigError } from "../../src/core/config/configError";
import { NonFiniteLossError } from "../../src/core/train/nonFiniteLossError";

test("errors crossing a worker thread come back as their class, so the run manager can use instanceof", () => {
  const nan = reviveError(structuredClone(serializeError(new NonFiniteLossError(3, "trades", NaN))));
  assert.ok(nan instanceof NonFiniteLossError);
  assert.equal(nan.message, "loss is NaN at step 3 (defense trades)");
  assert.equal((nan as NonFiniteLossError).step, 3);
  const cfg = reviveError(structuredClone(serializeError(new ConfigError("/attack/eps", "bad", "c.hyperat.json"))));
  assert.ok(cfg instanceof ConfigError && cfg.jsonPath === "/attack/eps" && cfg.message === "c.hyperat.json: /attack/eps: bad");
  assert.ok(reviveError(serializeError(new MissingFileError("/x"))) instanceof MissingFileError);
  const other = reviveError({ name: "RangeError", message: "m", props: {} });
  assert.equal(other.name, "RangeError");
  assert.ok(!(other instanceof NonFiniteLossError));
});

test("a loss error says the value when the step event knew it, 'not finite' otherwise", () => {
  assert.equal(new NonFiniteLossError(5, "mart", Infinity).message, "loss is Infinity at step 5 (defense mart)");
  assert.equal(new NonFiniteLossError(0).message, "loss is not finite at step 0");
});
