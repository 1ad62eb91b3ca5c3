/* global console, setTimeout, URL */
// Runs a mocha test module inside code-server's real extension host: the workbench loads
// `extensionTestsPath` when the URL carries extensionDevelopmentPath + extensionTestsPath, then
// calls window.codeAutomationExit(code) when the module's run() settles (and codeAutomationLog
// for the host's console), which we expose before navigating.
import { launchBrowser } from "./browser.mjs";

export function extensionTestUrl(serverUrl, workspace, extensionPath, testsPath) {
  const host = new URL(serverUrl).host;
  const payload = [
    ["extensionDevelopmentPath", `vscode-remote://${host}${extensionPath}`],
    ["extensionTestsPath", `vscode-remote://${host}${testsPath}`],
  ];
  return `${serverUrl}/?folder=${encodeURIComponent(workspace)}&payload=${encodeURIComponent(JSON.stringify(payload))}`;
}

/** Resolves with the exit code the workbench reports; rejects after `timeoutMs`. */
export async function runExtensionHostTests({ serverUrl, workspace, extensionPath, testsPath, timeoutMs = 300_000, log = console.log }) {
  const browser = await launchBrowser();
  try {
    const page = browser.pages()[0] ?? (await browser.newPage());
    let settle;
    const exited = new Promise((resolve) => (settle = resolve));
    await page.exposeFunction("codeAutomationExit", (code) => settle(code));
    await page.exposeFunction("codeAutomationLog", (type, args) => {
      const text = Array.isArray(args) ? args.map((a) => (typeof a === "string" ? a : JSON.stringify(a))).join(" ") : String(args);
      log(`[exthost ${type}] ${text}`);
    });
    await page.goto(extensionTestUrl(serverUrl, workspace, extensionPath, testsPath));
    const timer = new Promise((_, reject) => setTimeout(() => reject(new Error(`extension-host tests did not finish within ${timeoutMs / 1000}s`)), timeoutMs));
    return await Promise.race([exited, timer]);
  } finally {
    await browser.close();
  }
}
