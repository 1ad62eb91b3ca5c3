import { test, describe, before, after } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { makeDirs, assertWritableDir } from "../../../src/core/io/dirs";
import { writeFileAtomic } from "../../../src/core/io/files";

let dir: string;
before(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "hyperat-dirs-"));
});
after(() => fs.rmSync(dir, { recursive: true, force: true }));

describe("makeDirs / assertWritableDir", () => {
  test("creates missing levels and accepts existing ones", async () => {
    const d = path.join(dir, "a", "b", "c");
    await makeDirs(d);
    await makeDirs(d);
    assert.ok(fs.statSync(d).isDirectory());
    await assertWritableDir(path.join(dir, "x", "y"), "cache");
    assert.deepEqual(fs.readdirSync(path.join(dir, "x", "y")), [], "the probe file is removed");
  });

  // fs.mkdir({ recursive: true }) spins forever on these (issue 15); ours must answer.
  test("a folder below /proc is an immediate, named error (also for atomic writes)", async () => {
    await assert.rejects(makeDirs("/proc/hyperat-test/cache"), /cannot create folder \/proc\/hyperat-test\/cache: \/proc\/hyperat-test: ENOENT/);
    await assert.rejects(writeFileAtomic("/proc/hyperat-test/x.json", "{}"), /\/proc\/hyperat-test: ENOENT/);
    await assert.rejects(assertWritableDir("/proc", "model.pretrain.cacheDir"), /model\.pretrain\.cacheDir \/proc is not a writable folder \(ENOENT\)/);
  });

  test("a path through a regular file is named", async () => {
    const f = path.join(dir, "file");
    fs.writeFileSync(f, "");
    await assert.rejects(makeDirs(path.join(f, "sub")), /file exists and is not a folder/);
    await assert.rejects(assertWritableDir(f, "cache"), /cache .*file is not a writable folder/);
  });
});
