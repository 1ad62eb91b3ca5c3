// Seeded fuzz of run configs through RunManager.start (issue 15): every mutant must end in a
// clean error naming its JSON path and the config file, or a valid start; a refused mutant
// never leaves a run folder behind. The issue's own cases come first, then seeded mutations of
// every leaf of a small valid config. Sessions end at once (preflightEngine.ts), so a valid
// start costs milliseconds. Counts are printed and recorded in docs/hardening.md.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { execFileSync } from "node:child_process";
import { Rng } from "../../src/core/rng";
import { encodeCifar10 } from "../../src/core/data/cifar";
import { shapes10 } from "../../src/core/data/synthetic";
import { RunManager } from "../../src/daemon/runManager";
import { runsDirOf } from "../../src/daemon/runStore";
import { tempWorkspace } from "../daemon/helpers";
import { tinyTimmModel } from "./modelFixture";

const ENGINE = path.resolve(__dirname, "preflightEngine.ts");
const RAW_ENGINE_TEXT = /Aborted\(|memory access out of bounds|Invalid typed array length|Cannot read propert|is not a function|undefined/;
const TIME_BOUND_MS = 10_000;

const BASE = {
  name: "fuzz",
  seed: 1,
  backend: "auto",
  method: "hyperat",
  model: { preset: "vit-micro", imgSize: 32, patchSize: 8 },
  data: { train: "synthetic:shapes10?n=64&seed=1", val: "synthetic:shapes10?n=16&seed=2", test: "synthetic:shapes10?n=16&seed=3", augment: true },
  defenses: [{ name: "pgd-at" }, { name: "trades", beta: 6 }],
  lora: { targets: ["qkv", "fc1"], rank: 2, alpha: 4 },
  hypernet: { embedDim: 4, hiddenDim: 8, latentDim: 4 },
  attack: { eps: "8/255", stepSize: "2/255", steps: 1 },
  optimizer: { lr: 0.001, warmupSteps: 1 },
  training: { steps: 3, batchSize: 8, checkpointEvery: 2, validationN: 8, validationAttack: "pgd-2", workers: 1 },
  merge: { strategy: "uniform", steps: 1 },
  evaluation: { attacks: "quick", n: 16, batchSize: 16 },
};

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

interface Mutant {
  what: string;
  /** The config text, or a function writing the config file itself (special files). */
  text?: string;
  doc?: Json;
  write?: (file: string) => void;
  /** The JSON path the refusal must name (exactly), when the case says which. */
  path?: string;
  /** The path that was changed: a refusal must name it, a parent or a child of it. */
  near?: string;
  /** "error" or "start" when the case fixes the outcome. */
  expect?: "error" | "start";
  /** Text the message must contain. */
  says?: RegExp;
}

let ws: string;
let manager: RunManager;
let cifar: string;
let imagesEmpty: string;
let model: string;
const counts = { mutants: 0, refused: 0, started: 0 };

before(() => {
  ws = tempWorkspace("hyperat-cfgfuzz-");
  manager = new RunManager({ runsDir: runsDirOf(ws), engineModule: ENGINE, useWorkers: false });
  cifar = path.join(ws, "data_batch_1.bin");
  fs.writeFileSync(cifar, encodeCifar10(shapes10({ n: 20, seed: 4 })));
  imagesEmpty = path.join(ws, "no-images");
  fs.mkdirSync(path.join(imagesEmpty, "cat"), { recursive: true });
  model = path.join(ws, "tiny.safetensors");
  fs.writeFileSync(model, tinyTimmModel({ dim: 16, depth: 2, mlpDim: 32, patch: 4, grid: 8, classes: 10 }));
});
after(async () => {
  await manager.shutdown();
  fs.rmSync(ws, { recursive: true, force: true });
});

const clone = (): { [k: string]: Json } => structuredClone(BASE) as { [k: string]: Json };
function withValue(pointer: string, value: Json | undefined): Json {
  const doc = clone();
  const keys = pointer.split("/").slice(1);
  let o = doc as { [k: string]: Json };
  for (const k of keys.slice(0, -1)) o = o[k] as { [k: string]: Json };
  const last = keys[keys.length - 1];
  if (value === undefined) delete o[last];
  else o[last] = value;
  return doc;
}
const set = (pointer: string, value: Json, extra: Partial<Mutant> = {}): Mutant => ({ what: `${pointer} = ${JSON.stringify(value)}`, doc: withValue(pointer, value), near: pointer, ...extra });

/** The issue's cases (item 1 and 2) and the special files, each with the path it must name. */
function issueCases(): Mutant[] {
  const bin = (n: number) => `${cifar}?n=${n}`;
  return [
    set("/training/validationAttack", "pgd-abc", { path: "/training/validationAttack" }),
    set("/training/validationAttack", "", { path: "/training/validationAttack" }),
    set("/training/validationAttack", "pgd-0", { path: "/training/validationAttack" }),
    set("/model/path", ws, { path: "/model/path", says: /has no model.safetensors/ }),
    set("/model/path", path.join(ws, "notes.txt"), { path: "/model/path", write: () => fs.writeFileSync(path.join(ws, "notes.txt"), "hello, not a model\n") }),
    set("/model/path", path.join(ws, "short.safetensors"), { path: "/model/path", says: /past the end|too short/, write: () => fs.writeFileSync(path.join(ws, "short.safetensors"), Buffer.from([0, 0, 16, 0, 0, 0, 0, 0, 123])) }),
    set("/model/path", path.join(ws, "model.fifo"), { path: "/model/path", says: /FIFO/, write: () => mkfifo(path.join(ws, "model.fifo")) }),
    set("/model/path", "/dev/zero", { path: "/model/path", says: /character device/ }),
    set("/data/train", "synthetic:shapes11", { path: "/data/train", says: /unknown synthetic dataset "shapes11"/ }),
    set("/data/train", "synthetic:shapes10?n=abc", { path: "/data/train" }),
    set("/data/train", "synthetic:shapes10?n=0", { path: "/data/train" }),
    set("/data/train", "synthetic:shapes10?n=64&colour=red", { path: "/data/train", says: /unknown parameter "colour"/ }),
    set("/data/train", "synthetic:shapes10?n=1&n=2", { path: "/data/train", says: /twice/ }),
    set("/data/train", "synthetic:shapes10?n=1e9", { path: "/data/train", says: /limit of 250000/ }),
    set("/data/train", "", { path: "/data/train", says: /empty path/ }),
    set("/data/train", "?n=5", { path: "/data/train", says: /empty path/ }),
    set("/data/train", path.join(ws, "missing-dir"), { path: "/data/train" }),
    set("/data/train", imagesEmpty, { path: "/data/train", says: /no \.png/ }),
    set("/data/train", path.join(ws, "data.fifo"), { path: "/data/train", says: /FIFO/, write: () => mkfifo(path.join(ws, "data.fifo")) }),
    set("/data/val", `${cifar}?size=abc`, { path: "/data/val" }),
    set("/data/val", "synthetic:shapes10?n=8&seed=2&size=abc", { path: "/data/val" }),
    set("/data/val", { from: "train", n: 0 }, { path: "/data/val/n", says: />= 1/ }),
    set("/data/val", { from: "train", n: 1e9 }, { path: "/data/val/n", says: /leaves none to train on/ }),
    set("/data/val", { from: "train", n: 64 }, { path: "/data/val/n" }),
    set("/data/val", { from: "test", n: 8 }, { path: "/data/val/from", says: /"train"/ }),
    set("/data/test", bin(21), { expect: "start" }), // no offset: a larger n keeps the whole set (spec.ts)
    set("/data/test", `${cifar}?offset=20`, { path: "/data/test", says: /past the end/ }),
    set("/data/test", `${cifar}?offset=10&n=11`, { path: "/data/test", says: /outside/ }),
    set("/data/test", path.join(ws, "torn_batch.bin"), { path: "/data/test", says: /whole number of cifar10 records/, write: () => fs.writeFileSync(path.join(ws, "torn_batch.bin"), Buffer.alloc(3073 * 2 + 5)) }),
    set("/data/val", "synthetic:shapes10?n=16&seed=3", { path: "/data/test", says: /overlap/ }), // val = the test images
    set("/evaluation/attacks", "bogus", { path: "/evaluation/attacks", says: /unknown attack "bogus"/ }),
    set("/evaluation/attacks", "pgd-20,zzz", { path: "/evaluation/attacks" }),
    set("/evaluation/attacks", ",", { path: "/evaluation/attacks" }),
    set("/evaluation/attacks", "auto", { expect: "start" }),
    set("/lora/rank", 4096, { path: "/lora/rank" }),
    set("/lora/rank", 65, { path: "/lora/rank", says: /min\(d_in, d_out\) = 64/ }),
    set("/lora/rank", 64, { expect: "start" }),
    set("/hypernet/hiddenDim", 200000, { path: "/hypernet/hiddenDim" }),
    set("/training/steps", 1e300, { path: "/training/steps", says: /<= 1000000000/ }),
    set("/training/steps", 1.5, { path: "/training/steps" }),
    set("/training/steps", 1e9 + 1, { path: "/training/steps" }),
    set("/model/imgSize", 1e300, { path: "/model/imgSize" }),
    set("/model/pretrain", { steps: 1, cacheDir: "/proc/hyperat-cache" }, { path: "/model/pretrain/cacheDir" }),
    { what: "model file with rank over its width", doc: { ...clone(), model: { path: model }, lora: { targets: ["qkv"], rank: 17, alpha: 4 } }, path: "/lora/rank", says: /= 16/ },
    { what: "model file, valid", doc: { ...clone(), model: { path: model } }, expect: "start" },
    { what: "UTF-8 BOM before a valid config", text: "\ufeff" + JSON.stringify(BASE, null, 2), expect: "start" },
    { what: "config is a FIFO", write: (f) => mkfifo(f), path: "", says: /FIFO/ },
    { what: "config is empty", text: "", path: "", says: /empty/ },
    { what: "workers neither auto nor an integer", doc: withValue("/training/workers", "many"), path: "/training/workers", says: /must be "auto", or must be integer/ },
    { what: "config is a JSON array", text: "[]", path: "" },
    { what: "config cut in half", text: JSON.stringify(BASE).slice(0, 200), path: "", says: /line 1, column/ },
    { what: "two BOMs", text: "\ufeff\ufeff{}", path: "", says: /invalid JSON/ },
  ];
}

function mkfifo(file: string): void {
  fs.rmSync(file, { force: true });
  execFileSync("mkfifo", [file]);
}

/** Every leaf path of the base config. */
function leaves(o: Json, at = ""): string[] {
  if (o !== null && typeof o === "object" && !Array.isArray(o)) return Object.entries(o).flatMap(([k, v]) => leaves(v, `${at}/${k}`));
  if (Array.isArray(o) && o.some((v) => typeof v === "object")) return o.flatMap((v, i) => leaves(v, `${at}/${i}`));
  return [at];
}

/** Seeded mutations: two per leaf, from values that are wrong for most fields and right for some. */
function seededMutants(seed: number): Mutant[] {
  const rng = Rng.fromSeed(seed, "config-fuzz");
  const values: Json[] = ["abc", -1, 0, 0.5, 1e300, null, true, [], {}, "", "8/0", " ", "pgd-10"];
  const out: Mutant[] = [];
  for (const leaf of leaves(BASE as unknown as Json)) {
    const picks = new Set<number>();
    while (picks.size < 2) picks.add(rng.int(values.length + 2));
    for (const p of picks) {
      if (p === values.length) out.push({ what: `delete ${leaf}`, doc: withValue(leaf, undefined), near: leaf });
      else if (p === values.length + 1) {
        const parent = leaf.slice(0, leaf.lastIndexOf("/"));
        out.push({ what: `unknown key next to ${leaf}`, doc: withValue(`${parent}/fuzzExtra`, 1), near: `${parent}/fuzzExtra` });
      } else out.push(set(leaf, values[p]));
    }
  }
  return out;
}

function runFolders(): string[] {
  const dir = runsDirOf(ws);
  return fs.existsSync(dir) ? fs.readdirSync(dir).sort() : [];
}

async function attempt(m: Mutant, i: number): Promise<"start" | "error"> {
  const file = path.join(ws, `m${i}.hyperat.json`);
  if (m.write) m.write(file);
  if (m.text !== undefined || m.doc !== undefined) fs.writeFileSync(file, m.text ?? JSON.stringify(m.doc, null, 2));
  const before = runFolders();
  const t0 = Date.now();
  let timer: NodeJS.Timeout | undefined;
  const hang = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`HANG after ${TIME_BOUND_MS} ms`)), TIME_BOUND_MS)));
  try {
    const id = await Promise.race([manager.start(file), hang]);
    await manager.idle();
    assert.ok(runFolders().includes(id), `${m.what}: started, but no run folder ${id}`);
    if (process.env.HYPERAT_FUZZ_VERBOSE) console.log(`started  ${m.what}`);
    return "start";
  } catch (e) {
    const err = e as Error & { jsonPath?: string };
    const where = `${m.what}: ${err.message.slice(0, 300)}`;
    assert.doesNotMatch(err.message, /^HANG/, where);
    assert.deepEqual(runFolders(), before, `${m.what}: a refused config left a run folder`);
    assert.doesNotMatch(err.message, RAW_ENGINE_TEXT, where);
    assert.ok(err.name === "ConfigError" || err.name === "MissingFileError", `${where} (${err.name})`);
    assert.equal(typeof err.jsonPath, "string", `${where}: no JSON path`);
    assert.ok(err.message.includes(file), `${where}: does not name the config file`);
    if (m.path !== undefined) assert.equal(err.jsonPath, m.path, where);
    if (m.near !== undefined && m.path === undefined) {
      const p = err.jsonPath!;
      assert.ok(m.near.startsWith(p) || p.startsWith(m.near), `${where}: names ${p}, the mutant changed ${m.near}`);
    }
    if (m.says) assert.match(err.message, m.says, where);
    if (process.env.HYPERAT_FUZZ_VERBOSE) console.log(`refused  ${m.what}\n         ${err.message.replace(file, "<config>")}`);
    return "error";
  } finally {
    clearTimeout(timer);
    assert.ok(Date.now() - t0 < TIME_BOUND_MS, `${m.what} took ${Date.now() - t0} ms`);
  }
}

test("config fuzz: each mutant is refused naming its JSON path, or starts; no refusal leaves a run folder", { timeout: 300_000 }, async () => {
  const mutants = [...issueCases(), ...seededMutants(15)];
  for (const [i, m] of mutants.entries()) {
    const got = await attempt(m, i);
    if (m.expect !== undefined) assert.equal(got, m.expect, m.what);
    if (m.path !== undefined) assert.equal(got, "error", `${m.what}: expected a refusal at ${m.path || "/"}, but it started`);
    counts.mutants++;
    counts[got === "start" ? "started" : "refused"]++;
  }
  console.log(`config fuzz: ${counts.mutants} mutants, ${counts.refused} refused with a JSON path, ${counts.started} valid starts`);
  assert.ok(counts.mutants >= 80, `only ${counts.mutants} mutants`);
  assert.ok(counts.refused > 40 && counts.started > 5, JSON.stringify(counts));
});
