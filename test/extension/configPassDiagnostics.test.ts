// The daemon's pass as diagnostics (src/extension/configPassDiagnostics.ts) against narrow fakes:
// debounced requests, only while trusted and the daemon runs, stale answers dropped, and one
// diagnostic per JSON path with the pass's winning over the in-editor checks.
import { test } from "node:test";
import assert from "node:assert/strict";
import { ConfigPass, mergeProblems, PASS_DEBOUNCE_MS, type PassDocument } from "../../src/extension/configPassDiagnostics";
import { configProblems } from "../../src/extension/configProblems";
import type { ConfigCheckParams, ConfigCheckProblem, ConfigCheckResult } from "../../src/protocol/methods";

/** A manual clock: timers fire only when the test advances it. */
class Clock {
  private timers: Array<{ at: number; fn: () => void; live: boolean }> = [];
  now = 0;
  schedule = (fn: () => void, ms: number) => {
    const t = { at: this.now + ms, fn, live: true };
    this.timers.push(t);
    return { cancel: () => void (t.live = false) };
  };
  advance(ms: number): void {
    this.now += ms;
    const due = this.timers.filter((t) => t.live && t.at <= this.now);
    this.timers = this.timers.filter((t) => !due.includes(t));
    for (const t of due) t.fn();
  }
}

/** A daemon whose answers the test releases one by one, in any order. */
class FakeDaemon {
  running = true;
  readonly calls: Array<{ params: ConfigCheckParams; answer: (r: ConfigCheckResult) => void; fail: (e: Error) => void }> = [];
  check = (params: ConfigCheckParams) =>
    new Promise<ConfigCheckResult>((answer, fail) => this.calls.push({ params, answer, fail }));
}

function setup(opts: { trusted?: boolean } = {}) {
  const clock = new Clock();
  const daemon = new FakeDaemon();
  const docs = new Map<string, PassDocument & { version: number; text: string }>();
  const published: Array<{ key: string; version: number; problems: readonly ConfigCheckProblem[] }> = [];
  const errors: string[] = [];
  const pass = new ConfigPass({
    check: daemon.check,
    daemonRunning: () => daemon.running,
    trusted: () => opts.trusted ?? true,
    current: (key) => docs.get(key),
    onResult: (doc, problems) => published.push({ key: doc.key, version: doc.version, problems }),
    onError: (doc, e) => errors.push(`${doc.key}: ${e.message}`),
    schedule: clock.schedule,
  });
  const open = (key: string, text: string) => {
    const doc = { key, fsPath: `/ws/${key}`, version: 1, text, getText() { return this.text; } };
    docs.set(key, doc);
    return doc;
  };
  return { clock, daemon, docs, published, errors, pass, open };
}

const problem = (jsonPath: string, message = `bad ${jsonPath}`, severity: "error" | "warning" = "error"): ConfigCheckProblem => ({ jsonPath, message, severity });
const settle = () => new Promise<void>((r) => setImmediate(r));

test("requests are debounced: a burst of saves is one check of the latest text", async () => {
  const { clock, daemon, open, pass } = setup();
  const doc = open("a.hyperat.json", "{}");
  pass.request(doc.key);
  clock.advance(PASS_DEBOUNCE_MS - 1);
  pass.request(doc.key);
  doc.text = '{"name":"x"}';
  clock.advance(PASS_DEBOUNCE_MS - 1);
  assert.equal(daemon.calls.length, 0, "still inside the debounce");
  clock.advance(1);
  assert.deepEqual(daemon.calls.map((c) => c.params), [{ configPath: "/ws/a.hyperat.json", text: '{"name":"x"}' }]);
});

test("no check while the daemon is down or the workspace is untrusted", async () => {
  const down = setup();
  down.daemon.running = false;
  down.open("a.hyperat.json", "{}");
  await down.pass.run("a.hyperat.json");
  assert.equal(down.daemon.calls.length, 0);
  const untrusted = setup({ trusted: false });
  untrusted.open("a.hyperat.json", "{}");
  await untrusted.pass.run("a.hyperat.json");
  assert.equal(untrusted.daemon.calls.length, 0);
});

test("a current answer is published and kept; one for an edited document is dropped", async () => {
  const { daemon, open, pass, published } = setup();
  const doc = open("a.hyperat.json", "{}");
  const first = pass.run(doc.key);
  doc.version = 2; // edited while the daemon worked
  daemon.calls[0].answer({ problems: [problem("/data/train")] });
  await first;
  assert.equal(published.length, 0, "the answer was for version 1");
  assert.equal(pass.problemsOf(doc.key), undefined);
  const second = pass.run(doc.key);
  daemon.calls[1].answer({ problems: [problem("/data/train")] });
  await second;
  assert.deepEqual(published.map((p) => [p.version, p.problems.map((x) => x.jsonPath)]), [[2, ["/data/train"]]]);
  assert.deepEqual(pass.problemsOf(doc.key), [problem("/data/train")]);
});

test("an older request answered after a newer one is dropped, whatever the order", async () => {
  const { daemon, open, pass, published } = setup();
  const doc = open("a.hyperat.json", "{}");
  const older = pass.run(doc.key);
  const newer = pass.run(doc.key);
  daemon.calls[1].answer({ problems: [problem("/model/path", "new")] });
  await newer;
  daemon.calls[0].answer({ problems: [problem("/model/path", "old")] });
  await older;
  assert.deepEqual(published.map((p) => p.problems[0].message), ["new"]);
  assert.equal(pass.problemsOf(doc.key)?.[0].message, "new");
});

test("a closed document's answer is dropped and its pending check never runs", async () => {
  const { clock, daemon, docs, open, pass, published } = setup();
  const doc = open("a.hyperat.json", "{}");
  const inFlight = pass.run(doc.key);
  pass.request(doc.key);
  docs.delete(doc.key);
  pass.forget(doc.key);
  daemon.calls[0].answer({ problems: [problem("")] });
  await inFlight;
  clock.advance(PASS_DEBOUNCE_MS);
  await settle();
  assert.equal(daemon.calls.length, 1, "the debounced request was cancelled");
  assert.equal(published.length, 0);
});

test("a failed check is reported once and publishes nothing", async () => {
  const { daemon, open, pass, published, errors } = setup();
  const doc = open("a.hyperat.json", "{}");
  const run = pass.run(doc.key);
  daemon.calls[0].fail(new Error("the HyperAT daemon is not running"));
  await run;
  assert.deepEqual(errors, ["a.hyperat.json: the HyperAT daemon is not running"]);
  assert.equal(published.length, 0);
});

test("merge: the pass's problem replaces the in-editor one at the same path, others stay, ranges from the current text", () => {
  const text = '{\n  "attack": { "eps": "9/0" },\n  "data": { "train": "missing.bin" },\n  "lora": { "targets": ["qkv", "nope"] }\n}';
  const local = configProblems(text, "/ws", () => false);
  assert.deepEqual(local.map((p) => p.path).sort(), ["/attack/eps", "/data/train", "/lora/targets/1"]);
  const pass = [problem("/data/train", "file not found: /ws/missing.bin"), problem("/evaluation/batchSize", "memory plan: evaluation ...", "warning")];
  const merged = mergeProblems(local, pass, text);
  const at = (path: string) => merged.filter((m) => m.path === path);
  assert.equal(at("/data/train").length, 1, "one diagnostic per path");
  assert.deepEqual([at("/data/train")[0].source, at("/data/train")[0].message], ["hyperat (daemon)", "file not found: /ws/missing.bin"]);
  assert.equal(text.slice(at("/data/train")[0].offset, at("/data/train")[0].offset + at("/data/train")[0].length), '"missing.bin"');
  assert.deepEqual(at("/attack/eps").map((m) => m.source), ["hyperat"], "the in-editor fraction check stays where the pass says nothing");
  assert.deepEqual(at("/lora/targets/1").map((m) => m.source), ["hyperat"]);
  // A path the document does not have is shown at the nearest part that exists (configErrorRange.ts).
  const warn = at("/evaluation/batchSize")[0];
  assert.deepEqual([warn.severity, warn.offset, warn.length], ["warning", 0, 1]);
});

test("merge without a pass answer keeps every in-editor problem; the whole-document path is shown as /", () => {
  const text = '{ "data": { "train": "missing.bin" } }';
  const local = configProblems(text, "/ws", () => false);
  assert.deepEqual(mergeProblems(local, undefined, text).map((m) => [m.path, m.source]), [["/data/train", "hyperat"]]);
  assert.deepEqual(mergeProblems([], [problem("", "invalid JSON")], text).map((m) => [m.path, m.offset, m.length]), [["/", 0, 1]]);
});
