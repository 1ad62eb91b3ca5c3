import { test, describe, before, after } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { downloadCommand, hubCacheDir, parseHfModelId, resolveHfModel } from "../../../src/core/io/hfHubCache";

const REPO = "timm/vit_base_patch16_224.augreg_in21k_ft_in1k";
const MAIN = "a".repeat(40);
const V2 = "b".repeat(40);

/** A cache laid out as huggingface_hub writes it: refs/<branch>, snapshots/<commit>/files. */
function fakeCache(root: string): void {
  const repo = path.join(root, `models--${REPO.replace("/", "--")}`);
  fs.mkdirSync(path.join(repo, "refs"), { recursive: true });
  fs.writeFileSync(path.join(repo, "refs", "main"), MAIN); // no newline, as huggingface_hub writes it
  fs.writeFileSync(path.join(repo, "refs", "v2"), V2 + "\n");
  for (const c of [MAIN, V2]) {
    const snap = path.join(repo, "snapshots", c);
    fs.mkdirSync(snap, { recursive: true });
    fs.mkdirSync(path.join(repo, "blobs"), { recursive: true });
    // Snapshot files are symlinks into blobs/ in a real cache.
    fs.writeFileSync(path.join(repo, "blobs", `w-${c}`), "weights");
    fs.symlinkSync(path.join("..", "..", "blobs", `w-${c}`), path.join(snap, "model.safetensors"));
  }
  fs.writeFileSync(path.join(repo, "snapshots", MAIN, "config.json"), "{}");
  const bin = path.join(root, "models--someone--old-vit");
  fs.mkdirSync(path.join(bin, "refs"), { recursive: true });
  fs.writeFileSync(path.join(bin, "refs", "main"), MAIN);
  fs.mkdirSync(path.join(bin, "snapshots", MAIN), { recursive: true });
  fs.writeFileSync(path.join(bin, "snapshots", MAIN, "pytorch_model.bin"), "pickle");
}

describe("hf: model ids from the local Hub cache", () => {
  let root: string;
  const env = () => ({ HF_HUB_CACHE: root });
  before(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), "hyperat-hf-"));
    fakeCache(root);
  });
  after(() => fs.rmSync(root, { recursive: true, force: true }));

  test("ids: owner/name, optional @revision; bad ones name what is wrong", () => {
    assert.deepEqual(parseHfModelId(`hf:${REPO}`), { repo: REPO, revision: undefined });
    assert.deepEqual(parseHfModelId("hf:timm/x@v2"), { repo: "timm/x", revision: "v2" });
    assert.deepEqual(parseHfModelId("hf:bert-base@refs/pr/1"), { repo: "bert-base", revision: "refs/pr/1" });
    assert.throws(() => parseHfModelId("hf:a/b/c"), /"a\/b\/c" is not a Hub repo id/);
    assert.throws(() => parseHfModelId("hf:../etc"), /is not a Hub repo id/);
    assert.throws(() => parseHfModelId("hf:a--b/c"), /no "--"/);
    assert.throws(() => parseHfModelId("hf:timm/x@"), /revision "" is not a branch, tag or commit name/);
    assert.throws(() => parseHfModelId("hf:timm/x@../../x"), /revision "..\/..\/x"/);
  });

  test("cache folder: HF_HUB_CACHE, then HUGGINGFACE_HUB_CACHE, HF_HOME/hub, XDG_CACHE_HOME, ~/.cache", () => {
    assert.equal(hubCacheDir({ HF_HUB_CACHE: "/a", HF_HOME: "/h" }, "/home/u"), "/a");
    assert.equal(hubCacheDir({ HUGGINGFACE_HUB_CACHE: "/l", HF_HOME: "/h" }, "/home/u"), "/l");
    assert.equal(hubCacheDir({ HF_HOME: "/h", XDG_CACHE_HOME: "/x" }, "/home/u"), path.join("/h", "hub"));
    assert.equal(hubCacheDir({ XDG_CACHE_HOME: "/x" }, "/home/u"), path.join("/x", "huggingface", "hub"));
    assert.equal(hubCacheDir({}, "/home/u"), path.join("/home/u", ".cache", "huggingface", "hub"));
  });

  test("refs/main → snapshots/<commit>/model.safetensors + config.json; @branch and @commit pins", async () => {
    const r = await resolveHfModel(`hf:${REPO}`, env());
    assert.equal(r.commit, MAIN);
    assert.equal(r.weights, path.join(root, `models--timm--vit_base_patch16_224.augreg_in21k_ft_in1k`, "snapshots", MAIN, "model.safetensors"));
    assert.equal(fs.readFileSync(r.weights, "utf8"), "weights", "the symlink into blobs/ resolves");
    assert.equal(r.config, path.join(path.dirname(r.weights), "config.json"));
    const v2 = await resolveHfModel(`hf:${REPO}@v2`, env());
    assert.equal(v2.commit, V2);
    assert.equal(v2.config, undefined);
    assert.equal((await resolveHfModel(`hf:${REPO}@${V2}`, env())).commit, V2);
    // HF_HOME is used when HF_HUB_CACHE is not set.
    const home = fs.mkdtempSync(path.join(os.tmpdir(), "hyperat-hfhome-"));
    fs.symlinkSync(root, path.join(home, "hub"));
    assert.equal((await resolveHfModel(`hf:${REPO}`, { HF_HOME: home })).commit, MAIN);
    fs.rmSync(home, { recursive: true, force: true });
  });

  test("not cached: the error names the cache and gives the exact command; never downloads", async () => {
    const cmd = "huggingface-cli download timm/vit_small_patch16_224.augreg_in21k_ft_in1k model.safetensors config.json";
    await assert.rejects(resolveHfModel("hf:timm/vit_small_patch16_224.augreg_in21k_ft_in1k", env()), (e: Error & { command?: string }) => {
      assert.ok(e.message.includes(`no model (`) && e.message.includes(`in the Hugging Face cache ${root}`), e.message);
      assert.ok(e.message.includes(cmd), e.message);
      assert.ok(e.command?.startsWith(cmd));
      return true;
    });
    await assert.rejects(resolveHfModel(`hf:${REPO}@v3`, env()), /no revision "v3" .* --revision v3/);
    await assert.rejects(resolveHfModel(`hf:${REPO}@${"c".repeat(40)}`, env()), /no model\.safetensors for commit c{40}/);
    await assert.rejects(resolveHfModel("hf:someone/old-vit", env()), /has only pytorch_model\.bin; HyperAT reads safetensors only/);
    assert.match(downloadCommand({ repo: "timm/x", revision: "v2" }), /^huggingface-cli download timm\/x model\.safetensors config\.json --revision v2 .*hf_hub_download.*revision='v2'/);
  });
});
