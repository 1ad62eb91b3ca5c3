import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { MetricsTail } from "../../src/extension/metricsTail";
import { RunFollower } from "../../src/extension/runFollower";
import type { HostToWebviewMessage } from "../../src/protocol/webview";

const tmpFile = () => path.join(fs.mkdtempSync(path.join(os.tmpdir(), "hyperat-tail-")), "metrics.jsonl");
const step = (n: number) => JSON.stringify({ kind: "step", step: n, totalSteps: 9, defense: "trades", loss: 1 / n, cleanAcc: 0.5, advAcc: 0.25, lr: 1e-3, seconds: 0.1, time: "t" });

test("a torn last line is held back until its newline arrives; complete lines are read once", async () => {
  const file = tmpFile();
  const tail = new MetricsTail(file);
  assert.deepEqual(await tail.read(), { lines: [], reset: false, more: false }, "missing file reads as empty");
  const full = step(1) + "\n";
  const second = step(2);
  fs.writeFileSync(file, full + second.slice(0, 20));
  const a = await tail.read();
  assert.deepEqual(a.lines.map((l) => (l as { step: number }).step), [1]);
  assert.equal(tail.position, Buffer.byteLength(full));
  assert.deepEqual((await tail.read()).lines, [], "nothing new while the line is torn");
  fs.appendFileSync(file, second.slice(20) + "\n");
  assert.deepEqual((await tail.read()).lines.map((l) => (l as { step: number }).step), [2]);
});

test("a complete line that is not JSON is reported with its byte offset and skipped; a replaced file resets", async () => {
  const file = tmpFile();
  const bad: Array<[string, number]> = [];
  const tail = new MetricsTail(file, (line, at) => bad.push([line, at]));
  const first = step(1) + "\n";
  fs.writeFileSync(file, first + "{oops\n" + step(2) + "\n");
  assert.deepEqual((await tail.read()).lines.map((l) => (l as { step: number }).step), [1, 2]);
  assert.deepEqual(bad, [["{oops", Buffer.byteLength(first)]]);
  fs.writeFileSync(file, step(7) + "\n"); // shorter: a new file
  const r = await tail.read();
  assert.equal(r.reset, true);
  assert.deepEqual(r.lines.map((l) => (l as { step: number }).step), [7]);
});

test("reads are bounded: maxBytes splits at line ends, `more` says there is more; one over-long line still comes through", async () => {
  const file = tmpFile();
  const same = (n: number) => step(n).replace(/"loss":[^,]+/, '"loss":0.5'); // equal lengths
  fs.writeFileSync(file, [1, 2, 3, 4].map(same).join("\n") + "\n");
  const tail = new MetricsTail(file);
  const lineBytes = Buffer.byteLength(same(1) + "\n");
  const got: number[][] = [];
  for (;;) {
    const c = await tail.read(lineBytes * 2 + 5);
    got.push(c.lines.map((l) => (l as { step: number }).step));
    if (!c.more) break;
  }
  assert.deepEqual(got, [[1, 2], [3, 4]]);
  const long = new MetricsTail(file);
  assert.deepEqual((await long.read(10)).lines.map((l) => (l as { step: number }).step), [1, 2, 3, 4]);
});

test("RunFollower streams a 100k-step history in bounded chunks, then follows appends (steps, norms, validations)", async () => {
  const file = tmpFile();
  const n = 100_000;
  const lines: string[] = [];
  for (let i = 1; i <= n; i++) lines.push(step(i));
  // A crashed attempt: steps 99_991..100_000 are superseded by a resume from 99_990.
  lines.push(JSON.stringify({ kind: "resume", fromStep: 99_990, time: "t" }));
  fs.writeFileSync(file, lines.join("\n") + "\n");
  const posted: HostToWebviewMessage[] = [];
  const follower = new RunFollower(file, (m) => posted.push(m), 1 << 20);
  await follower.loadAll();
  const chunks = posted.filter((m): m is Extract<HostToWebviewMessage, { type: "history" }> => m.type === "history");
  assert.ok(chunks.length >= 10, `${chunks.length} chunks`);
  assert.deepEqual(chunks.map((c) => c.first), [true, ...Array(chunks.length - 1).fill(false)]);
  assert.deepEqual(chunks.map((c) => c.done), [...Array(chunks.length - 1).fill(false), true]);
  for (const c of chunks) assert.ok(JSON.stringify(c).length < 1.5 * (1 << 20), "each message stays near the chunk size");
  const events = chunks.flatMap((c) => c.events);
  assert.equal(events.filter((e) => e.kind === "step").length, n);
  assert.deepEqual(events.at(-1), { kind: "resume", fromStep: 99_990 });
  assert.ok(!("time" in events[0]), "time stripped");

  posted.length = 0;
  fs.appendFileSync(file, [
    step(99_991),
    JSON.stringify({ kind: "loraNorms", step: 99_991, layers: ["l0"], norms: { trades: [0.5] }, time: "t" }),
    JSON.stringify({ kind: "validation", step: 99_991, target: "trades", cleanAccuracy: 0.9, robustAccuracy: { pgd: 0.4 }, worstCaseRobustAccuracy: 0.4, time: "t" }),
  ].join("\n") + "\n" + step(99_992).slice(0, 30));
  await follower.follow();
  assert.deepEqual(posted.map((m) => m.type), ["history", "loraNorms", "evaluation"]);
  const h = posted[0] as Extract<HostToWebviewMessage, { type: "history" }>;
  assert.deepEqual([h.first, h.done, h.events.map((e) => (e as { step: number }).step)], [false, true, [99_991]]);
  posted.length = 0;
  await follower.follow();
  assert.deepEqual(posted, [], "the torn step 99992 waits");
});
