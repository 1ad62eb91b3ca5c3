import { describe, it } from "node:test";
import * as assert from "node:assert/strict";
import { parseDashboardState } from "../../src/extension/dashboardState";

describe("restored dashboard state", () => {
  it("accepts the run id a page saved", () => {
    assert.deepEqual(parseDashboardState({ runId: "20261126-104455-demo-3f9a" }), { runId: "20261126-104455-demo-3f9a" });
  });
  it("rejects missing, non-string and path-like run ids", () => {
    for (const s of [undefined, null, 42, {}, { runId: 7 }, { runId: "" }, { runId: "../x" }, { runId: "a/b" }, { runId: "a..b" }, { runId: ".hidden" }, { runId: "x".repeat(200) }]) {
      assert.equal(parseDashboardState(s), undefined, JSON.stringify(s));
    }
  });
});
