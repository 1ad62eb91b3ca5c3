import { describe, test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import {
  ANNOTATIONS_FILE,
  ANNOTATION_LIMITS,
  checkAnnotations,
  readRunAnnotations,
  updateRunAnnotations,
  writeRunAnnotations,
} from "../../src/daemon/runAnnotations";
import { createRunDir, listRunSummaries, readManifest, readRunDetail, readRunSummary, writeManifest, type RunManifest } from "../../src/daemon/runStore";
import { tempWorkspace } from "./helpers";
import { setAtomicWriteHook } from "../../src/core/io/files";

function manifest(id: string): RunManifest {
  return {
    version: 1, id, name: "demo", configPath: "/ws/demo.hyperat.json", state: "completed", step: 10, totalSteps: 10,
    method: "hyperat", defenses: ["pgd-at"], createdAt: "2026-01-01T00:00:00.000Z", updatedAt: "2026-01-01T00:00:00.000Z",
  };
}

async function runDir(id = "r1"): Promise<string> {
  const runs = path.join(tempWorkspace("hyperat-annotations-"), "runs");
  const dir = path.join(runs, id);
  await createRunDir(dir, manifest(id), {});
  return dir;
}

const fileOf = (dir: string) => path.join(dir, ANNOTATIONS_FILE);

describe("run annotations (annotations.json)", () => {
  test("write then read round-trips; the file is versioned JSON and run.json is untouched", async () => {
    const dir = await runDir();
    const before = fs.readFileSync(path.join(dir, "run.json"), "utf8");
    const stored = await writeRunAnnotations(dir, { displayName: "  eps 8 baseline ", tags: ["baseline", "eps8", "baseline", " "], note: "## Why\n\nlr too high?\n" });
    assert.deepEqual(stored, { displayName: "eps 8 baseline", tags: ["baseline", "eps8"], note: "## Why\n\nlr too high?" });
    assert.deepEqual(JSON.parse(fs.readFileSync(fileOf(dir), "utf8")), { version: 1, ...stored });
    assert.deepEqual(await readRunAnnotations(dir), { annotations: stored });
    assert.equal(fs.readFileSync(path.join(dir, "run.json"), "utf8"), before);
    // No temp file of the atomic write is left beside it.
    assert.deepEqual(fs.readdirSync(dir).filter((f) => f.endsWith(".tmp")), []);
  });

  test("the summary and the detail carry the annotations; a manifest rewrite (the daemon's) keeps them", async () => {
    const dir = await runDir();
    await writeRunAnnotations(dir, { displayName: "first try", tags: ["wip"] });
    assert.deepEqual((await readRunSummary(dir)).annotations, { displayName: "first try", tags: ["wip"] });
    assert.deepEqual((await readRunDetail(dir)).annotations, { displayName: "first try", tags: ["wip"] });
    await writeManifest(dir, { ...(await readManifest(dir)), step: 10, updatedAt: "2026-01-02T00:00:00.000Z" });
    assert.equal((await readRunSummary(dir)).annotations?.displayName, "first try");
    assert.equal("annotations" in (await readManifest(dir)), false, "annotations never go into run.json");
  });

  test("a run without the file has no annotations and no problem", async () => {
    const dir = await runDir();
    assert.deepEqual(await readRunAnnotations(dir), {});
    const s = await readRunSummary(dir);
    assert.equal(s.annotations, undefined);
    assert.equal(s.annotationsProblem, undefined);
  });

  test("update replaces only the fields it names; empty values clear, and clearing everything removes the file", async () => {
    const dir = await runDir();
    await updateRunAnnotations(dir, { displayName: "renamed" });
    await updateRunAnnotations(dir, { tags: ["a", "b"] });
    assert.deepEqual(await updateRunAnnotations(dir, { note: "looks good" }), { displayName: "renamed", tags: ["a", "b"], note: "looks good" });
    assert.deepEqual(await updateRunAnnotations(dir, { displayName: "" }), { tags: ["a", "b"], note: "looks good" });
    assert.equal((await readRunSummary(dir)).annotations?.displayName, undefined, "the row falls back to name · HH:MM");
    await updateRunAnnotations(dir, { tags: [] });
    await updateRunAnnotations(dir, { note: "   \n" });
    assert.equal(fs.existsSync(fileOf(dir)), false);
    assert.deepEqual(await readRunAnnotations(dir), {});
  });

  test("an invalid file is ignored with a message naming the file and the field; the run still lists", async () => {
    const dir = await runDir("bad");
    const cases: Array<[string, RegExp]> = [
      ["{ not json", /annotations\.json: not valid JSON/],
      ["[]", /annotations\.json: the file must be a JSON object/],
      [JSON.stringify({ tags: "a,b" }), /annotations\.json: \/tags must be an array/],
      [JSON.stringify({ tags: ["ok", "two words"] }), /annotations\.json: \/tags\/1 must be a word/],
      [JSON.stringify({ displayName: "line\nbreak" }), /\/displayName must be one line/],
      [JSON.stringify({ displayName: 7 }), /\/displayName must be one line/],
      [JSON.stringify({ note: { text: "x" } }), /\/note must be a string/],
      [JSON.stringify({ version: 2, tags: [] }), /\/version must be 1 \(it is 2/],
    ];
    for (const [text, problem] of cases) {
      fs.writeFileSync(fileOf(dir), text);
      const r = await readRunAnnotations(dir);
      assert.equal(r.annotations, undefined, text);
      assert.match(r.problem ?? "", problem, text);
      assert.ok(r.problem?.includes(fileOf(dir)), `the message names the file: ${r.problem}`);
      const [s] = await listRunSummaries(path.dirname(dir));
      assert.equal(s.id, "bad");
      assert.match(s.annotationsProblem ?? "", problem);
    }
  });

  test("a folder or an oversized file in its place is a problem, not a crash", async () => {
    const dir = await runDir();
    fs.mkdirSync(fileOf(dir));
    assert.match((await readRunAnnotations(dir)).problem ?? "", /not a regular file/);
    fs.rmdirSync(fileOf(dir));
    fs.writeFileSync(fileOf(dir), JSON.stringify({ note: "x".repeat(70_000) }));
    assert.match((await readRunAnnotations(dir)).problem ?? "", /over the 65536-byte limit/);
  });

  test("updating over an invalid file starts from empty annotations (the command warned first)", async () => {
    const dir = await runDir();
    fs.writeFileSync(fileOf(dir), "{ torn");
    assert.deepEqual(await updateRunAnnotations(dir, { tags: ["fixed"] }), { tags: ["fixed"] });
    assert.deepEqual(await readRunAnnotations(dir), { annotations: { tags: ["fixed"] } });
  });

  test("unknown keys are ignored (a newer writer's fields), limits are enforced on write", async () => {
    assert.deepEqual(checkAnnotations({ version: 1, tags: ["x"], colour: "red" }, "f"), { tags: ["x"] });
    const dir = await runDir();
    await assert.rejects(writeRunAnnotations(dir, { displayName: "x".repeat(ANNOTATION_LIMITS.displayName + 1) }), /\/displayName must be one line of 1 to 120 characters/);
    await assert.rejects(writeRunAnnotations(dir, { tags: ["has,comma"] }), /\/tags\/0 must be a word/);
    await assert.rejects(writeRunAnnotations(dir, { tags: Array.from({ length: ANNOTATION_LIMITS.tags + 1 }, (_, i) => `t${i}`) }), /\/tags must be an array of at most 32 tags/);
    assert.equal(fs.existsSync(fileOf(dir)), false, "a refused write leaves nothing behind");
  });

  test("a temp file removed under the write (a daemon adopting the run cleans *.tmp) is written again", async () => {
    const dir = await runDir();
    let removed = 0;
    setAtomicWriteHook((phase, file) => {
      if (phase !== "rename" || path.basename(file) !== ANNOTATIONS_FILE || removed > 0) return;
      for (const f of fs.readdirSync(dir).filter((n) => n.endsWith(".tmp"))) {
        fs.rmSync(path.join(dir, f));
        removed++;
      }
    });
    try {
      assert.deepEqual(await writeRunAnnotations(dir, { tags: ["kept"] }), { tags: ["kept"] });
    } finally {
      setAtomicWriteHook(undefined);
    }
    assert.equal(removed, 1, "the first attempt's temp file was removed before its rename");
    assert.deepEqual(await readRunAnnotations(dir), { annotations: { tags: ["kept"] } });
  });

  test("writing into a run folder that is gone says so and does not bring the folder back", async () => {
    const dir = await runDir();
    fs.rmSync(dir, { recursive: true });
    await assert.rejects(writeRunAnnotations(dir, { displayName: "late" }), (e: Error) => e.message.includes(dir) && /is not a run folder any more \(no run\.json/.test(e.message));
    assert.equal(fs.existsSync(dir), false);
  });
});
