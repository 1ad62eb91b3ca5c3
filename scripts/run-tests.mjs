// Runs every test/**/*.test.ts with Node's built-in runner through tsx.
// Node 20's --test does not expand globs, so we list the files ourselves.
// Set HYPERAT_TEST_FILTER=substring to run a subset while developing.
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { spawnSync } from "node:child_process";

function collect(dir) {
  const out = [];
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) {
      if (name === "e2e" || name === "fixtures") continue; // e2e runs through scripts/e2e.mjs
      out.push(...collect(p));
    } else if (name.endsWith(".test.ts")) out.push(p);
  }
  return out;
}

const filter = process.env.HYPERAT_TEST_FILTER;
const files = collect("test").filter((f) => !filter || f.includes(filter));
if (files.length === 0) {
  console.error("no test files found under test/");
  process.exit(1);
}
const res = spawnSync(
  process.execPath,
  ["--import", "tsx", "--test", "--test-concurrency=2", ...files],
  { stdio: "inherit", env: { ...process.env, HYPERAT_QUIET_BACKEND: "1" } },
);
process.exit(res.status ?? 1);
