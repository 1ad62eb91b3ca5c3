import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { RUN_STATES, type RunState } from "../../src/protocol/runs";
import { MODEL_KINDS, type ModelKind } from "../../src/protocol/modelSelector";
import { modelContextValue } from "../../src/extension/runTree";
import { RUN_COMMAND_ALSO_ACCEPTED, RUN_COMMAND_STATES, runCommandAccepted, runCommandApplies, type RunCommand } from "../../src/protocol/runStates";

const pkg = JSON.parse(readFileSync("package.json", "utf8")) as {
  contributes: { menus: Record<string, Array<{ command: string; when?: string }>> };
};
const KEY: Record<string, keyof typeof RUN_COMMAND_STATES> = {
  "hyperat.pauseRun": "pause",
  "hyperat.resumeRun": "resume",
  "hyperat.stopRun": "stop",
  "hyperat.cancelOperation": "cancel",
  "hyperat.mergeRun": "merge",
  "hyperat.evaluateRun": "evaluate",
  "hyperat.openDashboard": "open",
  "hyperat.revealRunFolder": "open",
  "hyperat.renameRun": "open",
  "hyperat.editRunTags": "open",
  "hyperat.editRunNote": "open",
  "hyperat.deleteRun": "remove",
  "hyperat.archiveRun": "remove",
};

test("the tree's context menus offer each run command in exactly the states the shared table allows", () => {
  const items = pkg.contributes.menus["view/item/context"].filter((m) => m.command in KEY);
  assert.ok(items.length >= 9);
  for (const cmd of Object.keys(KEY)) assert.ok(items.some((m) => m.command === cmd), `${cmd} has a tree menu entry`);
  for (const item of items) {
    const literal = /viewItem =~ \/(.+)\/$/.exec(item.when ?? "");
    assert.ok(literal, `${item.command}: when clause "${item.when}" matches viewItem with a regex`);
    const re = new RegExp(literal[1]);
    const shown = RUN_STATES.filter((s) => re.test(`hyperat.run.${s}`));
    assert.deepEqual([...shown].sort(), [...RUN_COMMAND_STATES[KEY[item.command]]].sort(), `${item.command} (${item.when})`);
  }
});

test("every run state has at least one command, and the table names only known states", () => {
  for (const s of RUN_STATES) assert.ok(Object.values(RUN_COMMAND_STATES).some((states) => states.includes(s)), s);
  for (const states of Object.values(RUN_COMMAND_STATES)) for (const s of states) assert.ok(RUN_STATES.includes(s), s);
});

test("the rules the issue asks for: interrupted runs merge/evaluate/resume; stop and cancel work while evaluating", () => {
  for (const c of ["merge", "evaluate", "resume"] as const) assert.ok(runCommandApplies(c, "interrupted"), c);
  assert.ok(runCommandApplies("stop", "evaluating") && runCommandApplies("stop", "merging"));
  assert.deepEqual([...RUN_COMMAND_STATES.cancel].sort(), ["evaluating", "merging"]);
  // No command both trains and merges at once: merge/evaluate never apply to an active training state.
  for (const s of ["queued", "running", "pausing", "merging", "evaluating"] as const) {
    assert.ok(!runCommandApplies("merge", s) && !runCommandApplies("evaluate", s) && !runCommandApplies("resume", s), s);
  }
});

test("beyond the offered states the daemon accepts a command only where the run is already there or on its way", () => {
  for (const c of Object.keys(RUN_COMMAND_ALSO_ACCEPTED) as RunCommand[]) {
    for (const s of RUN_COMMAND_ALSO_ACCEPTED[c]!) {
      assert.ok(RUN_STATES.includes(s) && !runCommandApplies(c, s) && runCommandAccepted(c, s), `${c}: ${s} is a known state not already offered`);
    }
  }
  // A merging or evaluating run is never resumed or paused under the operation, nor merged twice.
  for (const s of ["merging", "evaluating"] as const) {
    for (const c of ["resume", "pause", "merge", "evaluate"] as const) assert.ok(!runCommandAccepted(c, s), `${c} in ${s}`);
  }
});

test("model rows: Evaluate This Model and Export… are offered in exactly the table's states, on the kinds that have them", () => {
  const menus = pkg.contributes.menus["view/item/context"];
  const rules: Array<[string, readonly RunState[], readonly ModelKind[]]> = [
    ["hyperat.evaluateModel", RUN_COMMAND_STATES.evaluate, MODEL_KINDS],
    // The base model is not a file of the run: nothing to export (src/extension/modelExport.ts).
    ["hyperat.exportModel", RUN_COMMAND_STATES.export, ["adapter", "merged"]],
    // Copy Path and Reveal need a file: every adapter and merge row has one, in any state.
    ["hyperat.copyPath", RUN_STATES, ["adapter", "merged"]],
    ["hyperat.revealFile", RUN_STATES, ["adapter", "merged"]],
  ];
  for (const [command, states, kinds] of rules) {
    const items = menus.filter((m) => m.command === command);
    assert.equal(items.length, 1, `${command} has one tree menu entry`);
    const literal = /viewItem =~ \/(.+)\/$/.exec(items[0].when ?? "");
    assert.ok(literal, `${command}: ${items[0].when}`);
    const re = new RegExp(literal[1]);
    for (const kind of MODEL_KINDS) {
      for (const state of RUN_STATES) {
        const value = modelContextValue(kind, state);
        assert.equal(re.test(value), kinds.includes(kind) && states.includes(state), `${command} on ${value}`);
      }
    }
    // Run rows never get the model commands, nor model rows the run ones.
    if (command.endsWith("Model")) for (const s of RUN_STATES) assert.ok(!re.test(`hyperat.run.${s}`), `${command} on a run row`);
  }
  for (const item of menus.filter((m) => m.command in KEY)) {
    const re = new RegExp(/viewItem =~ \/(.+)\/$/.exec(item.when ?? "")![1]);
    for (const kind of MODEL_KINDS) assert.ok(!re.test(modelContextValue(kind, "completed")), `${item.command} on a ${kind} row`);
  }
  // Export is refused while a process may write the model files.
  for (const s of ["running", "merging", "evaluating"] as const) assert.ok(!runCommandApplies("export", s), s);
});
