/* global structuredClone */
// Shortens a demo config for the e2e tests with test/e2e/fixtures/e2e-overrides.json: smaller
// data, batches and pretraining, so steps take a fraction of a second on 2 cores. Used by
// scripts/e2e.mjs for the prepared workspaces and by test/e2e/ui/newcomer.e2e.ts for the config
// that "New Config…" writes.
import { readFileSync } from "node:fs";

/** `config` with each override block merged into its block (one level, plus model.pretrain). */
export function applyOverrides(config, overrides) {
  const out = structuredClone(config);
  for (const [k, v] of Object.entries(overrides)) out[k] = typeof v === "object" && !Array.isArray(v) && out[k] ? { ...out[k], ...v } : v;
  if (config.model?.pretrain && overrides.model?.pretrain) out.model.pretrain = { ...config.model.pretrain, ...overrides.model.pretrain };
  return out;
}

export function readOverrides(file = "test/e2e/fixtures/e2e-overrides.json") {
  return JSON.parse(readFileSync(file, "utf8"));
}
