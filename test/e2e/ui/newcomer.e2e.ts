// A newcomer's first minutes, in a real VS Code workbench (code-server) in headless Chromium:
// an empty folder, the Runs view's welcome offers New Config… and the walkthrough; the
// walkthrough's "Create a config" step runs HyperAT: New Config… (demo template, saved where the
// save dialog proposes), which writes and opens demo.hyperat.json; its "Start the demo run" step
// trains it and the run appears in the Runs tree until it completes. Screenshots go to
// test/e2e/screenshots/. Started by scripts/e2e.mjs with HYPERAT_E2E_URL and
// HYPERAT_E2E_EMPTY_WORKSPACE (an empty folder) set.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { BrowserContext, Page } from "playwright-core";
// @ts-expect-error: plain ESM helper without types
import { launchBrowser } from "../harness/browser.mjs";
// @ts-expect-error: plain ESM helper without types
import { applyOverrides, readOverrides } from "../harness/overrides.mjs";
import { notificationsText, openRunsView, pickQuickItem, runRowText, storySteps, waitFor } from "./workbench";

const serverUrl = process.env.HYPERAT_E2E_URL!;
const workspace = process.env.HYPERAT_E2E_EMPTY_WORKSPACE!;
const shots = process.env.HYPERAT_E2E_SCREENSHOTS ?? "test/e2e/screenshots";
const TRAIN_TIMEOUT = 180_000;

describe("a newcomer in an empty folder", { timeout: 600_000 }, () => {
  let browser: BrowserContext;
  let page: Page;
  const step = storySteps(test, () => page, join(shots, "newcomer-failure.png"));

  before(async () => {
    assert.ok(serverUrl && workspace, "HYPERAT_E2E_URL and HYPERAT_E2E_EMPTY_WORKSPACE are set (run through scripts/e2e.mjs)");
    assert.deepEqual(readdirSync(workspace), [], `${workspace} starts empty`);
    mkdirSync(shots, { recursive: true });
    browser = (await launchBrowser({ width: 1400, height: 900 })) as BrowserContext;
    page = browser.pages()[0] ?? (await browser.newPage());
    await page.goto(`${serverUrl}/?folder=${encodeURIComponent(workspace)}`);
    await page.locator(".monaco-workbench").waitFor({ timeout: 90_000 });
    // No *.hyperat.json, so the extension is not active yet (activationEvents): its activity bar
    // entry, a static contribution, is what the newcomer sees.
    await page.locator('.activitybar .action-item a[aria-label^="HyperAT"], .activitybar li[aria-label^="HyperAT"]').first().waitFor({ timeout: 90_000 });
  });

  after(async () => {
    await page?.screenshot({ path: join(shots, "newcomer-last-state.png") }).catch(() => undefined);
    await browser?.close();
  });

  const welcome = () => page.locator('.sidebar [id="workbench.view.extension.hyperat"] .welcome-view-content');

  step("the empty Runs view offers New Config… and the walkthrough", async () => {
    await openRunsView(page);
    const text = await waitFor("the Runs view's welcome content", async () => {
      const t = (await welcome().innerText().catch(() => "")).replace(/\s+/g, " ");
      return /No HyperAT runs/.test(t) ? t : undefined;
    }, 60_000);
    assert.match(text, /New Config…/, text);
    await page.locator(".sidebar").screenshot({ path: join(shots, "newcomer-welcome.png") });
    await welcome().getByText("walkthrough", { exact: true }).click();
  });

  const walkthroughStep = (title: string) => page.locator(".gettingStartedContainer .getting-started-step", { hasText: title }).first();

  step("the walkthrough opens with its steps; its Create a config step runs New Config… (demo template)", async () => {
    const container = page.locator(".gettingStartedContainer");
    await waitFor("the walkthrough 'Get started with HyperAT'", async () => /Get started with HyperAT/.test(await container.innerText().catch(() => "")), 60_000);
    const titles = (await container.locator(".getting-started-step .step-title").allInnerTexts()).map((t) => t.trim());
    for (const t of ["What HyperAT does", "Create a config", "Start the demo run", "Watch the dashboard", "Merge the LoRAs", "Evaluate robustness", "Open the report"]) {
      assert.ok(titles.includes(t), `the walkthrough lists "${t}" (it lists ${titles.join(" | ")})`);
    }
    await walkthroughStep("Create a config").click();
    const button = walkthroughStep("Create a config").locator(".monaco-button", { hasText: "New Config…" });
    await button.waitFor({ state: "visible", timeout: 15_000 });
    await page.screenshot({ path: join(shots, "newcomer-walkthrough.png") });
    await button.click();
    await pickQuickItem(page, "Demo on synthetic data");
    // code-server's save dialog is a quick input holding the proposed path (the workspace folder).
    const input = page.locator(".quick-input-widget input");
    await waitFor("the save dialog proposing demo.hyperat.json", async () => (await input.inputValue().catch(() => "")) === join(workspace, "demo.hyperat.json"), 30_000);
    // Its OK button, as a person would: the walkthrough keeps the keyboard focus on its step (the
    // step completes when its command starts), so Enter would press the step, not the dialog.
    await page.locator(".quick-input-widget .monaco-button", { hasText: "OK" }).click();
    await page.locator(".tabs-container .tab.active", { hasText: "demo.hyperat.json" }).waitFor({ timeout: 30_000 });
    const file = join(workspace, "demo.hyperat.json");
    assert.ok(existsSync(file), `${file} written`);
    const written = JSON.parse(readFileSync(file, "utf8")) as Record<string, unknown>;
    const template = JSON.parse(readFileSync("examples/demo.hyperat.json", "utf8")) as Record<string, unknown>;
    delete template.$schema;
    assert.deepEqual(written, template, "the demo template as written (its name from the file name: demo)");
  });

  step("the walkthrough's Start the demo run trains it: the run appears in the Runs tree and completes", async () => {
    // As the newcomer would edit it, but shorter: the template's 600 pretraining and 250
    // training steps take minutes on 2 cores (test/e2e/fixtures/e2e-overrides.json).
    const file = join(workspace, "demo.hyperat.json");
    const short = applyOverrides(JSON.parse(readFileSync(file, "utf8")), readOverrides()) as { training: Record<string, unknown> };
    short.training = { ...short.training, steps: 40, validateEvery: 20, checkpointEvery: 10 };
    writeFileSync(file, JSON.stringify(short, null, 2) + "\n");
    // The open editor reloads the file from disk: wait for it, so what runs is what is shown.
    await waitFor("the editor to show the shortened config", async () => /n=256/.test(await page.locator(".part.editor .view-lines").innerText().catch(() => "")), 30_000);
    await page.locator(".tabs-container .tab", { hasText: "Walkthrough" }).first().click();
    await walkthroughStep("Start the demo run").click();
    const button = walkthroughStep("Start the demo run").locator(".monaco-button", { hasText: "Start Run" });
    await button.waitFor({ state: "visible", timeout: 15_000 });
    await button.click();
    const started = await waitFor("the 'started' notification", async () => /started (\S+\.hyperat\.json) as (\S+?)\./.exec(await notificationsText(page)), 60_000);
    assert.equal(started[1], "demo.hyperat.json", "the only config of the workspace");
    const runId = started[2];
    await openRunsView(page);
    const phases = new Set<string>();
    let row: string | undefined;
    await waitFor(() => `the run's row to say completed (it last said "${row}", phases seen: ${[...phases].join(", ")})`, async () => {
      row = await runRowText(page, "demo");
      const m = /(daemon starting|queued|pretraining|training|validating)/.exec(row ?? "");
      if (m) phases.add(m[1]);
      return /completed · step 40\/40 · demo\.hyperat\.json/.test(row ?? "");
    }, TRAIN_TIMEOUT, 250);
    assert.ok(phases.size > 0, "the row showed the run in progress before it completed");
    assert.equal(await welcome().isVisible(), false, "the welcome content gives way to the run");
    assert.ok(existsSync(join(workspace, ".hyperat", "runs", runId, "run.json")), `the run folder of ${runId}`);
    await page.locator(".sidebar").screenshot({ path: join(shots, "newcomer-run.png") });
  });
});
