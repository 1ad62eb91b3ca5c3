import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { isHarmlessDaemonNoise, StderrLines } from "../../src/extension/daemonStderr";

// Dawn's lines as the webgpu package printed them on lavapipe (Mesa 25.0.7) here.
const DAWN = [
  "Warning: maxDynamicUniformBuffersPerPipelineLayout artificially reduced from 1000000 to 16 to fit dynamic offset allocation limit.",
  "Warning: maxDynamicStorageBuffersPerPipelineLayout artificially reduced from 1000000 to 16 to fit dynamic offset allocation limit.",
];

describe("daemon stderr lines", () => {
  test("Dawn's limit warnings are noise; the daemon's own warnings are not", () => {
    for (const l of DAWN) assert.equal(isHarmlessDaemonNoise(l), true, l);
    assert.equal(isHarmlessDaemonNoise("[warn] run.start failed: memory plan over the limit"), false);
    assert.equal(isHarmlessDaemonNoise("Warning: maxBufferSize reduced"), false);
  });

  test("a line torn across chunks comes out once, whole; blanks and Dawn's lines are dropped", () => {
    const s = new StderrLines();
    assert.deepEqual(s.push(`${DAWN[0]}\n[info] daemon st`), []);
    assert.deepEqual(s.push("arted\r\n\n  \n"), ["[info] daemon started"]);
    assert.deepEqual(s.push(`${DAWN[1]}\n[warn] a`), []);
    assert.deepEqual(s.end(), ["[warn] a"]);
    assert.deepEqual(s.end(), []);
  });
});
