import { describe, it } from "node:test";
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";

// The committed kernel bytes (src/core/backend/wasm/kernels/*Wasm.ts) must be what their .wat source
// assembles to: a .wat edited without `npm run build:kernels` would otherwise ship stale code.
describe("hand-written wasm kernels", () => {
  const dir = path.resolve("src/core/backend/wasm/kernels");
  const wats = fs.readdirSync(dir).filter((f) => f.endsWith(".wat"));

  it("there are kernels to check", () => assert.ok(wats.length >= 2, wats.join(", ")));

  for (const wat of wats) {
    it(`${wat}: committed bytes equal the assembled source`, async () => {
      const { assemble, moduleSource } = await import(path.resolve("scripts/build-kernels.mjs"));
      const name = wat.replace(/\.wat$/, "");
      const bytes: Buffer = await assemble(path.join(dir, wat));
      const committed = fs.readFileSync(path.join(dir, `${name}Wasm.ts`), "utf8");
      assert.equal(committed, moduleSource(name, bytes), `run \`npm run build:kernels\` after editing ${wat}`);
      assert.ok(WebAssembly.validate(new Uint8Array(bytes)), `${wat} assembles to a valid module`);
    });
  }
});
