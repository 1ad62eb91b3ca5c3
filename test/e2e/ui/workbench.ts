// Small helpers to drive the code-server workbench like a person: command palette, quick picks,
// notifications, the Runs tree, webview frames and editor decorations.
import type { Frame, Locator, Page } from "playwright-core";

/**
 * Steps of one story: each needs the previous one, so after a failure the rest fail at once
 * (naming it) instead of timing out; the failing step's page is saved as `failureShot`.
 */
export function storySteps(test: (name: string, fn: () => Promise<void>) => unknown, page: () => Page, failureShot: string): (name: string, body: () => Promise<void>) => void {
  let broken = "";
  return (name, body) => {
    test(name, async () => {
      if (broken) throw new Error(`not run: an earlier step failed (${broken})`);
      try {
        await body();
      } catch (e) {
        broken = name;
        await page().screenshot({ path: failureShot }).catch(() => undefined);
        throw e;
      }
    });
  };
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `probe` until it returns a truthy value; the error names what we waited for (a function
 * is called at the timeout, so the message can say what was last seen). */
export async function waitFor<T>(what: string | (() => string), probe: () => Promise<T | undefined | false | null>, timeoutMs = 60_000, everyMs = 300): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await probe();
      if (v) return v;
    } catch (e) {
      last = e;
    }
    await sleep(everyMs);
  }
  throw new Error(`timed out after ${timeoutMs / 1000}s waiting for ${typeof what === "function" ? what() : what}${last ? ` (last error: ${(last as Error).message})` : ""}`);
}

export async function openWorkbench(page: Page, serverUrl: string, folder: string): Promise<void> {
  await page.goto(`${serverUrl}/?folder=${encodeURIComponent(folder)}`);
  await page.locator(".monaco-workbench").waitFor({ timeout: 90_000 });
  await page.locator(".activitybar").waitFor({ timeout: 60_000 });
  // Our status bar item exists once the extension activated (workspaceContains:**/*.hyperat.json).
  await page.locator(".statusbar-item", { hasText: "HyperAT" }).first().waitFor({ timeout: 90_000 });
}

/** F1, type the command's title, Enter (as a person runs "HyperAT: Start Run"). */
export async function runCommand(page: Page, title: string): Promise<void> {
  const input = page.locator(".quick-input-widget input");
  const row = page.locator(".quick-input-list .monaco-list-row", { hasText: title }).first();
  // The palette ignores F1 while the workbench restores, and a palette opened before the
  // extension host registered its contributions lacks them: reopen until the command is listed.
  await waitFor(`"${title}" in the command palette`, async () => {
    if (!(await input.isVisible())) {
      await page.keyboard.press("F1");
      if (!(await input.waitFor({ state: "visible", timeout: 3000 }).then(() => true, () => false))) return false;
    }
    await input.fill(`>${title}`);
    if (await row.waitFor({ state: "visible", timeout: 3000 }).then(() => true, () => false)) return true;
    await page.keyboard.press("Escape");
    return false;
  }, 45_000, 200);
  await page.keyboard.press("Enter");
}

/** Picks the quick pick item whose label contains `label`. */
export async function pickQuickItem(page: Page, label: string): Promise<void> {
  const row = page.locator(".quick-input-list .monaco-list-row", { hasText: label }).first();
  await row.waitFor({ timeout: 15_000 });
  await page.locator(".quick-input-widget input").fill(label);
  await page.keyboard.press("Enter");
}

/**
 * Right-clicks `target` and runs its context menu's item `label` with the keyboard (arrows, then
 * Enter). Not a click: the workbench's menu items start listening for the mouse only about
 * 100 ms after the menu opens (so the right-click's own release picks nothing), and a click
 * sooner is dropped with the menu left open (seen in flow.e2e.ts's Rename Run… step).
 */
export async function contextMenu(page: Page, target: Locator, label: string): Promise<void> {
  await target.click({ button: "right" });
  const menu = page.locator(".monaco-menu");
  await menu.locator(".action-item", { hasText: label }).first().waitFor({ timeout: 15_000 });
  const items = (await menu.locator(".action-item").allInnerTexts()).map((t) => t.trim());
  const focused = menu.locator(".action-item.focused");
  // Down from the top: separators are skipped, so at most one press per item.
  for (let i = 0; i < items.length; i++) {
    await page.keyboard.press("ArrowDown");
    if ((await focused.innerText().catch(() => "")).trim() === label) {
      await page.keyboard.press("Enter");
      return;
    }
  }
  throw new Error(`the context menu has no item "${label}" reachable with the arrows (items: ${items.join(" | ")})`);
}

/** Text of all visible notification toasts. */
export async function notificationsText(page: Page): Promise<string> {
  return (await page.locator(".notifications-toasts .notification-list-item").allInnerTexts()).join("\n");
}

export async function openRunsView(page: Page): Promise<void> {
  const viewlet = page.locator('.sidebar [id="workbench.view.extension.hyperat"]');
  if (await viewlet.isVisible()) return;
  const item = page.locator('.activitybar .action-item a[aria-label^="HyperAT"], .activitybar li[aria-label^="HyperAT"]').first();
  await item.click();
  await viewlet.waitFor({ state: "visible", timeout: 15_000 });
}

/** What a run row's label starts with: "name · HH:MM" (the id is only in its tooltip). */
export function runRowPattern(name: string): RegExp {
  return new RegExp(`${name} · (\\d\\d-\\d\\d )?\\d\\d:\\d\\d`);
}

/** The text (label + description) of the tree row of the run named `name`, or undefined. */
export async function runRowText(page: Page, name: string): Promise<string | undefined> {
  const row = page.locator(".sidebar .monaco-list-row", { hasText: runRowPattern(name) }).first();
  if (!(await row.isVisible().catch(() => false))) return undefined;
  return (await row.innerText()).replace(/\s+/g, " ");
}

/** The step from a row text: "training N/M" while it trains, "step N/M" once settled (not the
 * "pretraining N/M" phase: \b keeps its counter out). */
export function stepOf(text: string | undefined): number | undefined {
  const m = /\b(?:step|training) (\d+)\/(\d+)/.exec(text ?? "");
  return m ? Number(m[1]) : undefined;
}

/** The frame of the dashboard webview (nested iframes: the webview host, then its content). */
export async function dashboardFrame(page: Page): Promise<Frame> {
  return waitFor("the dashboard webview frame", async () => {
    for (const f of page.frames()) {
      if (await f.locator("#chart-sampling").count().catch(() => 0)) return f;
    }
    return undefined;
  }, 60_000);
}

/** The frame of the compare-runs webview. */
export async function compareFrame(page: Page): Promise<Frame> {
  return waitFor("the compare-runs webview frame", async () => {
    for (const f of page.frames()) {
      if (await f.locator("#config-diff").count().catch(() => 0)) return f;
    }
    return undefined;
  }, 60_000);
}

/** Data points and drawn (non-transparent) pixels of a chart canvas in the dashboard. */
export async function canvasStats(frame: Frame, id: string): Promise<{ points: number; painted: number }> {
  return frame.evaluate((canvasId) => {
    const c = document.getElementById(canvasId) as HTMLCanvasElement | null;
    if (!c || !c.width || !c.height) return { points: 0, painted: 0 };
    const data = c.getContext("2d")!.getImageData(0, 0, c.width, c.height).data;
    let painted = 0;
    for (let i = 3; i < data.length; i += 4) if (data[i] > 0) painted++;
    return { points: Number(c.dataset.points ?? 0), painted };
  }, `chart-${id}`);
}

/** The `after` decoration texts rendered in the active editor (VS Code puts them in ::after content). */
export async function decorationTexts(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const out: string[] = [];
    for (const el of Array.from(document.querySelectorAll(".editor-instance .view-lines span[class*='ced-']"))) {
      const content = getComputedStyle(el, "::after").content;
      if (content && content !== "none" && content !== "normal") out.push(content.replace(/^"|"$/g, ""));
    }
    return out;
  });
}
