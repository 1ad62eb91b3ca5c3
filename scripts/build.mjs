// Bundles the CLI (which also hosts the daemon), the training worker, the extension and the
// webview with esbuild. tfjs is bundled so the packaged extension needs no node_modules; the
// native tfjs-node bindings stay external (optional, loaded at run time when installed), and
// the wasm binaries are copied next to the bundles (see src/core/backend/select.ts).
import * as esbuild from "esbuild";
import { copyFileSync, cpSync, existsSync, mkdirSync, readdirSync, chmodSync, rmSync } from "node:fs";
import { join } from "node:path";

const watch = process.argv.includes("--watch");
const nodeEntries = [
  ["src/cli/main.ts", "dist/cli.js"],
  ["src/daemon/compute/entry.ts", "dist/trainWorker.js"],
  ["src/daemon/parallel/gradWorker.ts", "dist/parallelWorker.js"],
  ["src/daemon/engine/evalWorker.ts", "dist/evalWorker.js"],
  ["src/extension/extension.ts", "dist/extension.js"],
].filter(([src]) => existsSync(src));

const common = {
  bundle: true,
  sourcemap: true,
  logLevel: "warning",
  legalComments: "none",
};

const builds = nodeEntries.map(([entry, outfile]) =>
  esbuild.build({
    ...common,
    entryPoints: [entry],
    outfile,
    platform: "node",
    target: "node20",
    format: "cjs",
    // webgpu (Dawn) carries dawn.node and is copied below; @tensorflow/tfjs-backend-webgpu is
    // plain JS and bundled, so it registers on the bundle's own tfjs-core engine.
    external: ["vscode", "@tensorflow/tfjs-node", "@tensorflow/tfjs-node-gpu", "webgpu"],
    banner: entry.startsWith("src/cli/") ? { js: "#!/usr/bin/env node" } : undefined,
  }),
);
// The run dashboard and the compare-runs page.
for (const [entry, outfile] of [["webview/main.ts", "dist/webview/main.js"], ["webview/compare.ts", "dist/webview/compare.js"]]) {
  if (!existsSync(entry)) continue;
  builds.push(
    esbuild.build({
      ...common,
      entryPoints: [entry],
      outfile,
      platform: "browser",
      target: "es2022",
      format: "esm",
    }),
  );
}
await Promise.all(builds);

mkdirSync("dist", { recursive: true });
const wasmSrc = "node_modules/@tensorflow/tfjs-backend-wasm/dist";
for (const f of readdirSync(wasmSrc).filter((f) => f.endsWith(".wasm"))) copyFileSync(join(wasmSrc, f), join("dist", f));
if (existsSync("dist/cli.js")) chmodSync("dist/cli.js", 0o755);
// Webview assets loaded from dist/webview (its only localResourceRoot): the prebuilt
// @vscode-elements bundle and the codicon font its icons use.
mkdirSync("dist/webview", { recursive: true });
copyFileSync("node_modules/@vscode-elements/elements/dist/bundled.js", "dist/webview/vscode-elements.js");
for (const f of ["codicon.css", "codicon.ttf"]) copyFileSync(join("node_modules/@vscode/codicons/dist", f), join("dist/webview", f));
// koffi (optional: the FFI that reaches a system BLAS, src/core/backend/blas.ts) is a native
// package and cannot be bundled; copy it and its prebuilt binary package next to the bundles so
// a packaged extension finds it too. Absent (optional install failed): wasm keeps XNNPACK.
rmSync("dist/node_modules", { recursive: true, force: true });
if (existsSync("node_modules/koffi")) {
  cpSync("node_modules/koffi", "dist/node_modules/koffi", { recursive: true });
  const scope = "node_modules/@koromix";
  for (const f of existsSync(scope) ? readdirSync(scope) : []) cpSync(join(scope, f), join("dist/node_modules/@koromix", f), { recursive: true });
}
// Dawn (optional: the webgpu backend, src/core/backend/webgpu.ts): only this platform's
// dawn.node (21 MB of the package's 132 MB), so the .vsix is platform-specific (vsixTarget.mjs).
const dawnDir = `${process.platform}-${process.platform === "darwin" ? "universal" : process.arch}`;
if (existsSync(`node_modules/webgpu/dist/${dawnDir}`)) {
  mkdirSync(`dist/node_modules/webgpu/dist`, { recursive: true });
  for (const f of ["package.json", "LICENSE.md"]) if (existsSync(`node_modules/webgpu/${f}`)) copyFileSync(`node_modules/webgpu/${f}`, `dist/node_modules/webgpu/${f}`);
  cpSync(`node_modules/webgpu/dist/${dawnDir}`, `dist/node_modules/webgpu/dist/${dawnDir}`, { recursive: true });
}
if (watch) console.log("watch mode is not supported; rerun npm run build");
