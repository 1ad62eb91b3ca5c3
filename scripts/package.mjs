// `npm run package`: builds the bundles and packages the extension as a .vsix in the repository
// root (hyperat-<target>-<version>.vsix when it carries a native module, else hyperat-<version>.vsix).
// Offline: vsce needs nothing from the network with --no-dependencies.
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { vsceArgs, vsixTarget } from "./vsixTarget.mjs";

if (!process.argv.includes("--skip-build")) execFileSync(process.execPath, ["scripts/build.mjs"], { stdio: "inherit" });
const { version } = JSON.parse(readFileSync("package.json", "utf8"));
const target = vsixTarget();
const out = `hyperat-${target ? `${target}-` : ""}${version}.vsix`;
execFileSync("npx", ["--no-install", "vsce", ...vsceArgs(out)], { stdio: ["ignore", "inherit", "inherit"] });
console.log(`packaged ${out}${target ? ` (platform-specific: ${target}, because dist/node_modules carries koffi's native binary)` : " (universal)"}`);
