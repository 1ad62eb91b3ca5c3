import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import * as methods from "../../src/protocol/methods";
import { ErrorCodes } from "../../src/protocol/errors";

const doc = readFileSync("docs/protocol.md", "utf8");
// RequestType/NotificationType instances: vscode-jsonrpc does not export their base class at run time.
const isSignature = (v: unknown): v is { method: string } =>
  typeof v === "object" && v !== null && typeof (v as { method?: unknown }).method === "string";
const signatures = Object.entries(methods as Record<string, unknown>).filter(
  (e): e is [string, { method: string }] => isSignature(e[1]),
);

test("methods.ts exports every method the issue lists", () => {
  const names = signatures.map(([, s]) => s.method).sort();
  assert.deepEqual(names, [
    "hyperat/config.check",
    "hyperat/daemon.status",
    "hyperat/progress",
    "hyperat/run.baseModel",
    "hyperat/run.cancel",
    "hyperat/run.evaluate",
    "hyperat/run.evaluation",
    "hyperat/run.get",
    "hyperat/run.loraNorms",
    "hyperat/run.merge",
    "hyperat/run.metrics",
    "hyperat/run.pause",
    "hyperat/run.resume",
    "hyperat/run.start",
    "hyperat/run.status",
    "hyperat/run.stop",
    "hyperat/runs.list",
    "initialize",
    "shutdown",
  ]);
});

test("docs/protocol.md documents every method constant with its method name", () => {
  for (const [constant, sig] of signatures) {
    const row = doc.split("\n").find((l) => l.startsWith(`| \`${constant}\` |`));
    assert.ok(row, `docs/protocol.md has no table row for ${constant}`);
    assert.ok(row.includes(`\`${sig.method}\``), `docs/protocol.md row for ${constant} does not name ${sig.method}`);
  }
});

test("docs/protocol.md lists every error code", () => {
  for (const [name, code] of Object.entries(ErrorCodes)) {
    assert.match(doc, new RegExp(`\\| ${code} \\| ${name} \\|`), `error ${name} (${code}) missing from docs/protocol.md`);
  }
});
