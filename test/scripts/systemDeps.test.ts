// scripts/system-deps.sh against a temp root and a fake dpkg-query: the backports source is
// written on the machine's own mirror, once; present packages mean no work; missing ones give
// the exact apt commands (dry run), with Mesa < 25 counted as missing.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const script = join(__dirname, "..", "..", "scripts", "system-deps.sh");
const hasDpkg = spawnSync("sh", ["-c", "command -v dpkg"]).status === 0;

function tempRoot(sources: string, file = "sources.list.d/debian.sources"): string {
  const root = mkdtempSync(join(tmpdir(), "hyperat-sysdeps-"));
  mkdirSync(join(root, "etc/apt/sources.list.d"), { recursive: true });
  writeFileSync(join(root, "etc/apt", file), sources);
  writeFileSync(join(root, "etc/debian_version"), "12.10\n");
  writeFileSync(join(root, "etc/os-release"), "VERSION_CODENAME=bookworm\n");
  return root;
}

/** A dpkg-query that reports exactly `pkgs` (name → version) as installed. */
function fakeDpkg(pkgs: Record<string, string>): string {
  const bin = mkdtempSync(join(tmpdir(), "hyperat-fakebin-"));
  const cases = Object.entries(pkgs).map(([p, v]) => `  ${p}) echo "install ok installed ${v}" ;;`).join("\n");
  writeFileSync(join(bin, "dpkg-query"), `#!/bin/sh\nfor last; do :; done\ncase "$last" in\n${cases}\n  *) exit 1 ;;\nesac\n`);
  chmodSync(join(bin, "dpkg-query"), 0o755);
  return bin;
}

function run(root: string, args: string[], env: Record<string, string> = {}) {
  return spawnSync("bash", [script, ...args], { encoding: "utf8", env: { ...process.env, HYPERAT_SKIP_SYSTEM_DEPS: "", HYPERAT_SYSDEPS_ROOT: root, ...env } });
}

const DEB822 = "Types: deb\nURIs: http://mirror.example/debian\nSuites: bookworm bookworm-updates\nComponents: main\n\nTypes: deb\nURIs: http://mirror.example/debian-security\nSuites: bookworm-security\nComponents: main\n";
const ALL = { chromium: "137.0", "libkrb5-dev": "1.20.1", "libopenblas0-pthread": "0.3.21", "mesa-vulkan-drivers": "25.0.7-2~bpo12+1", libvulkan1: "1.3.239.0-1" };

describe("scripts/system-deps.sh", () => {
  test("writes bookworm-backports on the mirror debian.sources uses, atomically and once", () => {
    const root = tempRoot(DEB822);
    const r1 = run(root, ["--sources-only"]);
    assert.equal(r1.status, 0, r1.stderr);
    const file = join(root, "etc/apt/sources.list.d/backports.sources");
    assert.equal(readFileSync(file, "utf8"), "Types: deb\nURIs: http://mirror.example/debian\nSuites: bookworm-backports\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n");
    const r2 = run(root, ["--sources-only"]);
    assert.equal(r2.status, 0);
    assert.equal(r2.stderr, "", "second run changes nothing");
  });

  test("reads the mirror from a one-line sources.list too", () => {
    const root = tempRoot("deb http://old.example/debian bookworm main\ndeb http://old.example/debian-security bookworm-security main\n", "sources.list");
    assert.equal(run(root, ["--sources-only"]).status, 0);
    assert.match(readFileSync(join(root, "etc/apt/sources.list.d/backports.sources"), "utf8"), /^URIs: http:\/\/old\.example\/debian$/m);
  });

  test("everything present: exits 0 at once, silently, touching nothing", { skip: hasDpkg ? false : "needs dpkg (Debian)" }, () => {
    const root = tempRoot(DEB822);
    const r = run(root, [], { PATH: `${fakeDpkg(ALL)}:${process.env.PATH}`, HYPERAT_SYSDEPS_DRY_RUN: "1" });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout + r.stderr, "");
    assert.equal(existsSync(join(root, "etc/apt/sources.list.d/backports.sources")), false);
  });

  test("missing packages and Debian's own Mesa 22.3 give the exact apt commands", { skip: hasDpkg ? false : "needs dpkg (Debian)" }, () => {
    const root = tempRoot(DEB822);
    const { chromium: _c, ...rest } = ALL;
    const r = run(root, [], { PATH: `${fakeDpkg({ ...rest, "mesa-vulkan-drivers": "22.3.6-1+deb12u1" })}:${process.env.PATH}`, HYPERAT_SYSDEPS_DRY_RUN: "1" });
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(r.stdout.trim().split("\n"), [
      "bash scripts/system-deps.sh --sources-only",
      "apt-get update -qq",
      "apt-get install -y -qq --no-install-recommends chromium",
      "apt-get install -y -qq --no-install-recommends -t bookworm-backports mesa-vulkan-drivers libvulkan1",
    ]);
    assert.match(r.stderr, /missing: chromium mesa-vulkan-drivers>=25 \(have 22\.3\.6-1\+deb12u1\)/);
  });

  test("a system that is not Debian is told exactly what to install", () => {
    const root = mkdtempSync(join(tmpdir(), "hyperat-sysdeps-"));
    const r = run(root, []);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /not a Debian\/Ubuntu system: install these yourself, then set HYPERAT_SKIP_SYSTEM_DEPS=1/);
    assert.match(r.stderr, /Mesa >= 25 lavapipe/);
  });
});
