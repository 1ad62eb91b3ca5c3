import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";

interface Step { id: string; description: string; media: { markdown: string }; completionEvents: string[] }
const pkg = JSON.parse(readFileSync("package.json", "utf8")) as {
  contributes: {
    commands: Array<{ command: string }>;
    walkthroughs: Array<{ id: string; steps: Step[] }>;
    viewsWelcome: Array<{ view: string; contents: string }>;
  };
};
const commands = new Set(pkg.contributes.commands.map((c) => c.command));
const vscodeignore = readFileSync(".vscodeignore", "utf8");

test("the walkthrough goes config → start → dashboard → merge → evaluate → report with commands that exist", () => {
  const [w] = pkg.contributes.walkthroughs;
  assert.equal(w.id, "hyperat.gettingStarted");
  assert.deepEqual(w.steps.map((s) => s.id), ["what", "config", "start", "dashboard", "merge", "evaluate", "report"]);
  for (const s of w.steps) {
    assert.ok(existsSync(s.media.markdown), `${s.id}: ${s.media.markdown} exists`);
    for (const [, cmd] of s.description.matchAll(/\(command:([\w.]+)/g)) assert.ok(commands.has(cmd), `${s.id} links ${cmd}`);
    for (const e of s.completionEvents) if (e.startsWith("onCommand:")) assert.ok(commands.has(e.slice(10)), `${s.id} completes on ${e}`);
  }
  assert.match(vscodeignore, /^!media\/walkthrough\/\*\.md$/m, "the walkthrough's pages are packaged");
});

test("the Runs view's welcome content offers New Config… and the walkthrough", () => {
  const welcome = pkg.contributes.viewsWelcome.find((v) => v.view === "hyperat.runs")!;
  assert.match(welcome.contents, /\(command:hyperat\.newConfig\)/);
  assert.match(welcome.contents, /workbench\.action\.openWalkthrough\?%22hyperat\.hyperat%23hyperat\.gettingStarted%22/);
  assert.ok(commands.has("hyperat.newConfig"));
});
