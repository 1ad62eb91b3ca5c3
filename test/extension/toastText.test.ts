import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { commandTitle, errorToast, TOAST_MAX } from "../../src/extension/toastText";

describe("toast text", () => {
  test("commands are named by title, never by id", () => {
    assert.equal(commandTitle("startRun"), "Start Run");
    assert.equal(commandTitle("hyperat.takeOverRun"), "Take Over Run");
  });

  test("a short error is shown whole, with no Details", () => {
    assert.deepEqual(errorToast("pauseRun", "no run \"x\""), { text: 'HyperAT Pause Run failed: no run "x"' });
  });

  test("a long error is cut at a word within the limit; the full text is behind Details", () => {
    const msg = "invalid config: /ws/demo.hyperat.json: /attack/eps: division by zero in \"9/0\" and a long explanation of what to do next";
    const t = errorToast("startRun", msg);
    assert.ok(t.text.length <= TOAST_MAX, t.text);
    assert.ok(t.text.startsWith("HyperAT Start Run failed: invalid config:"));
    assert.ok(t.text.endsWith("…"));
    assert.doesNotMatch(t.text, /startRun/);
    assert.equal(t.detail, msg);
  });

  test("a multi-line error shows its first line; the rest is behind Details", () => {
    const t = errorToast("evaluateRun", "engine failed\n  at stack line");
    assert.equal(t.text, "HyperAT Evaluate Run failed: engine failed");
    assert.equal(t.detail, "engine failed\n  at stack line");
  });
});
