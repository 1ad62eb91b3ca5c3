import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { RUN_STATES } from "../../src/protocol/runs";
import { RUN_COMMAND_STATES } from "../../src/extension/runCommandStates";

const pkg = JSON.parse(readFileSync("package.json", "utf8")) as {
  contributes: { menus: Record<string, Array<{ command: string; when?: string }>> };
};
const KEY: Record<string, keyof typeof RUN_COMMAND_STATES> = {
  "hyperat.pauseRun": "pause",
  "hyperat.resumeRun": "resume",
  "hyperat.stopRun": "stop",
  "hyperat.mergeRun": "merge",
  "hyperat.evaluateRun": "evaluate",
  "hyperat.openDashboard": "open",
  "hyperat.revealRunFolder": "open",
};

test("the tree's context menus offer each run command in exactly the states the command accepts", () => {
  const items = pkg.contributes.menus["view/item/context"].filter((m) => m.command in KEY);
  assert.ok(items.length >= 7);
  for (const item of items) {
    const literal = /viewItem =~ \/(.+)\/$/.exec(item.when ?? "");
    assert.ok(literal, `${item.command}: when clause "${item.when}" matches viewItem with a regex`);
    const re = new RegExp(literal[1]);
    const shown = RUN_STATES.filter((s) => re.test(`hyperat.run.${s}`));
    assert.deepEqual([...shown].sort(), [...RUN_COMMAND_STATES[KEY[item.command]]].sort(), `${item.command} (${item.when})`);
  }
});

test("every run state has at least one menu command and a known icon-bearing context value", () => {
  for (const s of RUN_STATES) assert.ok(Object.values(RUN_COMMAND_STATES).some((states) => states.includes(s)), s);
});
