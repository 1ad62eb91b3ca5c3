import { afterEach, beforeEach, describe, mock, test } from "node:test";
import assert from "node:assert/strict";
import { throttle } from "../../src/extension/throttle";

describe("throttle", () => {
  beforeEach(() => mock.timers.enable({ apis: ["setTimeout", "Date"], now: 1_000_000 }));
  afterEach(() => mock.timers.reset());

  test("a steady stream faster than the interval still calls through every interval (a debounce would never fire)", () => {
    let calls = 0;
    const t = throttle(300, () => calls++);
    // One notification per 100 ms for 3 s, as a run with 100 ms steps sends them.
    for (let ms = 0; ms < 3000; ms += 100) {
      t();
      mock.timers.tick(100);
    }
    assert.equal(calls, 10);
  });

  test("the first call runs on the next tick, later ones wait out the interval, the trailing call is kept", () => {
    const at: number[] = [];
    const t = throttle(300, () => at.push(Date.now() - 1_000_000));
    t();
    mock.timers.tick(0);
    assert.deepEqual(at, [0]);
    t();
    t();
    mock.timers.tick(299);
    assert.deepEqual(at, [0], "coalesced until 300 ms after the last call through");
    mock.timers.tick(1);
    assert.deepEqual(at, [0, 300]);
    mock.timers.tick(10_000);
    assert.deepEqual(at, [0, 300], "nothing more without new calls");
  });

  test("cancel drops the pending call and a later call schedules again", () => {
    let calls = 0;
    const t = throttle(300, () => calls++);
    t();
    t.cancel();
    mock.timers.tick(1000);
    assert.equal(calls, 0);
    t();
    mock.timers.tick(0);
    assert.equal(calls, 1);
  });
});
