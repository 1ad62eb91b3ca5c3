import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { ACTION_COMMANDS, dashboardCsp, dashboardHtml, makeNonce } from "../../src/extension/dashboardHtml";
import { WEBVIEW_ACTIONS, isWebviewToHostMessage } from "../../src/protocol/webview";

const page = {
  cspSource: "https://file+.vscode-resource.vscode-cdn.net",
  scriptUri: "https://x/dist/webview/main.js",
  elementsUri: "https://x/dist/webview/vscode-elements.js",
  runId: 'run-"<1>',
  nonce: "abc123",
};

describe("dashboard page", () => {
  test("CSP: nothing by default, scripts only with the nonce, no network or eval", () => {
    const csp = dashboardCsp(page.cspSource, "abc123");
    assert.match(csp, /^default-src 'none'/);
    assert.match(csp, /script-src 'nonce-abc123'(;|$)/);
    assert.doesNotMatch(csp, /unsafe-eval|https?:\/\/\*|connect-src/);
  });

  test("every script tag carries the nonce and there is no inline script", () => {
    const html = dashboardHtml(page);
    const scripts = html.match(/<script[^>]*>/g) ?? [];
    assert.equal(scripts.length, 2);
    for (const s of scripts) {
      assert.match(s, /nonce="abc123"/);
      assert.match(s, /src="https:\/\/x\/dist\/webview\//);
    }
    assert.doesNotMatch(html, /<script[^>]*>[^<]+<\/script>/);
  });

  test("the run id is escaped", () => {
    const html = dashboardHtml(page);
    assert.ok(!html.includes('run-"<1>'));
    assert.ok(html.includes("run-&#34;&#60;1&#62;"));
  });

  test("nonces are fresh and alphanumeric", () => {
    const a = makeNonce();
    assert.match(a, /^[A-Za-z0-9]{16,}$/);
    assert.notEqual(a, makeNonce());
  });

  test("every webview action maps to a contributed command", () => {
    const pkg = JSON.parse(readFileSync("package.json", "utf8")) as { contributes: { commands: Array<{ command: string }> } };
    const contributed = new Set(pkg.contributes.commands.map((c) => c.command));
    for (const a of WEBVIEW_ACTIONS) assert.ok(contributed.has(ACTION_COMMANDS[a]), `${a} -> ${ACTION_COMMANDS[a]}`);
  });

  test("messages from the page are validated before they can run a command", () => {
    assert.equal(isWebviewToHostMessage({ type: "ready" }), true);
    assert.equal(isWebviewToHostMessage({ type: "action", action: "merge", strategy: "adaptive" }), true);
    for (const bad of [null, "ready", { type: "action", action: "rm -rf" }, { type: "action", action: "merge", strategy: "median" }, { type: "eval", code: "1" }]) {
      assert.equal(isWebviewToHostMessage(bad), false, JSON.stringify(bad));
    }
  });
});
