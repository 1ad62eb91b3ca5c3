// Which VS Code platform target a .vsix built on this machine needs. The bundles are plain JS
// and wasm, but dist/node_modules carries koffi's native binary package (@koromix/koffi-<os>-<arch>,
// copied by scripts/build.mjs) when the optional install succeeded; such a package runs only on
// that platform, so the .vsix must say so (`vsce package --target`). Without koffi the .vsix is
// universal: the wasm backend then uses XNNPACK instead of a system BLAS.
import { existsSync, readdirSync } from "node:fs";
import process from "node:process";

/** koffi's package suffix → vsce target (https://code.visualstudio.com/api/working-with-extensions/publishing-extension#platformspecific-extensions). */
const TARGETS = {
  "linux-x64": "linux-x64",
  "linux-arm64": "linux-arm64",
  "linux-armhf": "linux-armhf",
  "musl-x64": "alpine-x64",
  "musl-arm64": "alpine-arm64",
  "darwin-x64": "darwin-x64",
  "darwin-arm64": "darwin-arm64",
  "win32-x64": "win32-x64",
  "win32-arm64": "win32-arm64",
};

/** The vsce target for the native packages in `dir`, undefined when there are none; throws
 * for a native package no VS Code target matches (it would be shipped to the wrong machines). */
export function vsixTarget(dir = "dist/node_modules/@koromix", dawnDir = "dist/node_modules/webgpu/dist") {
  if (!existsSync(dir)) return dawnTarget(dawnDir);
  const natives = readdirSync(dir).filter((f) => f.startsWith("koffi-"));
  if (natives.length === 0) return dawnTarget(dawnDir);
  if (natives.length > 1) throw new Error(`${dir} holds native packages for several platforms (${natives.join(", ")}); rebuild with only this machine's`);
  const target = TARGETS[natives[0].slice("koffi-".length)];
  if (!target) throw new Error(`${dir}/${natives[0]}: no VS Code platform target for it; known: ${Object.keys(TARGETS).join(", ")}`);
  return target;
}

/** Dawn's dawn.node (webgpu backend) is native too: scripts/build.mjs copies only this platform's. */
function dawnTarget(dir) {
  if (!existsSync(dir)) return undefined;
  const dirs = readdirSync(dir);
  if (dirs.length === 0) return undefined;
  if (dirs.length > 1) throw new Error(`${dir} holds Dawn binaries for several platforms (${dirs.join(", ")}); rebuild`);
  if (dirs[0] === "darwin-universal") return process.arch === "arm64" ? "darwin-arm64" : "darwin-x64";
  const target = TARGETS[dirs[0]];
  if (!target) throw new Error(`${dir}/${dirs[0]}: no VS Code platform target for it`);
  return target;
}

/** vsce package arguments shared by `npm run package` and the e2e harness. README images are
 * relative files inside the .vsix (VS Code resolves them against the installed extension), so
 * links are not rewritten and no repository URL is needed. */
export function vsceArgs(out) {
  const target = vsixTarget();
  return ["package", "--no-dependencies", "--no-rewrite-relative-links", "--allow-missing-repository", ...(target ? ["--target", target] : []), "--out", out];
}
