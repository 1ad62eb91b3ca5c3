// `hyperat doctor`: the limit memory plans are compared against, with where it comes from, in
// text and JSON (a user on a GPU needs to see whether the planner knows the GPU's memory).
import { test, describe } from "node:test";
import assert from "node:assert/strict";
import * as path from "node:path";
import { spawnSync } from "node:child_process";
import { pathToFileURL } from "node:url";

const ROOT = path.resolve(__dirname, "../../..");

function doctor(args: string[], env: Record<string, string> = {}) {
  const tsx = require.resolve("tsx", { paths: [ROOT] });
  const r = spawnSync(process.execPath, ["--import", pathToFileURL(tsx).href, path.join(ROOT, "src/cli/main.ts"), "doctor", ...args], {
    encoding: "utf8",
    env: { ...process.env, HYPERAT_QUIET_BACKEND: "1", ...env },
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe("hyperat doctor", () => {
  test("prints the plan limit and its source: the wasm heap", () => {
    const r = doctor(["--backend", "wasm"]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^plans fit: 3\.2 GiB, wasm heap \(3\.9 GiB ceiling less room for fragmentation\)$/m);
  });

  test("--json carries the same limit; HYPERAT_MEMORY_LIMIT_GIB replaces it on a RAM backend", () => {
    const r = doctor(["--backend", "cpu", "--json"], { HYPERAT_MEMORY_LIMIT_GIB: "1.5" });
    assert.equal(r.code, 0, r.stderr);
    const report = JSON.parse(r.stdout) as { backend: string; memoryLimit: { backend: string; bytes: number; source: string } };
    assert.equal(report.backend, "cpu");
    assert.deepEqual(report.memoryLimit, { backend: "cpu", bytes: 1.5 * 2 ** 30, source: "HYPERAT_MEMORY_LIMIT_GIB=1.5" });
  });

  test("a bad HYPERAT_MEMORY_LIMIT_GIB is an error naming the variable", () => {
    const r = doctor(["--backend", "cpu"], { HYPERAT_MEMORY_LIMIT_GIB: "lots" });
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /HYPERAT_MEMORY_LIMIT_GIB: expected a positive number of GiB \(e\.g\. 70\), got "lots"/);
  });
});
