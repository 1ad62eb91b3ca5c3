/* global process */
// Debian's headless Chromium driven by playwright-core (never a Playwright browser download).
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium } from "playwright-core";

export const CHROMIUM = process.env.HYPERAT_E2E_CHROMIUM ?? "/usr/bin/chromium";

const FLAGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--disable-dev-shm-usage",
];

/** A persistent context with a fresh profile (launchPersistentContext takes the user data dir). */
export async function launchBrowser({ width = 1400, height = 900 } = {}) {
  const profile = mkdtempSync(join(tmpdir(), "hyperat-chromium-"));
  return chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: FLAGS,
    viewport: { width, height },
  });
}
