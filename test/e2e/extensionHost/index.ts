// Entry of the extension-host tests (bundled by scripts/e2e.mjs to .cache/e2e/exthost/index.js
// and loaded by the workbench through extensionTestsPath). Mocha comes from the repository's
// node_modules at run time; the results also go to $HYPERAT_E2E_RESULTS as JSON so the harness
// can print them even if the workbench's log forwarding drops lines.
import { writeFileSync } from "node:fs";
import Mocha from "mocha";
import { defineRunSuite } from "./runs.suite";

export function run(): Promise<void> {
  const mocha = new Mocha({ ui: "bdd", timeout: 180_000, color: false });
  mocha.suite.emit("pre-require", globalThis, "exthost", mocha);
  const failures: Array<{ title: string; error: string }> = [];
  const passes: string[] = [];
  defineRunSuite();
  return new Promise<void>((resolve, reject) => {
    const runner = mocha.run((n) => {
      const out = process.env.HYPERAT_E2E_RESULTS;
      if (out) writeFileSync(out, JSON.stringify({ passes, failures }, null, 2));
      if (n > 0) reject(new Error(`${n} extension-host test(s) failed`));
      else resolve();
    });
    runner.on("pass", (t) => {
      passes.push(t.fullTitle());
      console.log(`ok - ${t.fullTitle()} (${t.duration} ms)`);
    });
    runner.on("fail", (t, err: Error) => {
      failures.push({ title: t.fullTitle(), error: err.stack ?? err.message });
      console.log(`not ok - ${t.fullTitle()}: ${err.message}`);
    });
  });
}
