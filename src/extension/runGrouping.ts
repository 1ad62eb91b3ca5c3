// The Runs tree grouped by config (setting hyperat.runs.groupBy, issue 14 item 3): one node per
// config file the runs were started from, with counts, and the runs under it. Runs are keyed by
// the config path run.json records (two folders may each hold a demo.hyperat.json: two groups,
// the tooltip tells them apart); runs without one share a last group. Pure for node:test;
// runExplorer.ts asks for these nodes when the setting says "config".
import { ACTIVE_RUN_STATES, type RunSummary } from "../protocol/runs";
import { configFileName } from "./configChoice";
import type { TreeNodeModel } from "./runTree";

export type RunGrouping = "none" | "config";
export const RUN_GROUPINGS: readonly RunGrouping[] = ["none", "config"];

export function isRunGrouping(v: unknown): v is RunGrouping {
  return (RUN_GROUPINGS as readonly unknown[]).includes(v);
}

export interface ConfigGroup {
  /** `path:<config path>`, or `none` for runs that record no config file. */
  key: string;
  configPath?: string;
  /** The runs in the order given (newest first from the readers). */
  runs: RunSummary[];
}

const NO_CONFIG = "none";

/** Groups in the order their newest run appears (so the latest work is on top); the runs
 * without a config file last. */
export function groupRunsByConfig(runs: readonly RunSummary[]): ConfigGroup[] {
  const groups = new Map<string, ConfigGroup>();
  let none: ConfigGroup | undefined;
  for (const run of runs) {
    const configPath = typeof run.configPath === "string" && run.configPath.trim() !== "" ? run.configPath : undefined;
    if (!configPath) {
      (none ??= { key: NO_CONFIG, runs: [] }).runs.push(run);
      continue;
    }
    const key = `path:${configPath}`;
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { key, configPath, runs: [] }));
    g.runs.push(run);
  }
  return [...groups.values(), ...(none ? [none] : [])];
}

/** "3 runs · 1 active". */
export function groupCounts(runs: readonly Pick<RunSummary, "state">[]): string {
  const active = runs.filter((r) => ACTIVE_RUN_STATES.includes(r.state)).length;
  const total = `${runs.length} run${runs.length === 1 ? "" : "s"}`;
  return active ? `${total} · ${active} active` : total;
}

export function configGroupNode(g: ConfigGroup): TreeNodeModel {
  return {
    id: `config:${g.key}`,
    label: g.configPath ? configFileName(g.configPath) : "No config file",
    description: groupCounts(g.runs),
    tooltip: g.configPath ? `Runs started from ${g.configPath}` : "Runs whose run.json records no config file",
    icon: g.configPath ? "file-code" : "question",
    contextValue: "hyperat.configGroup",
    collapsible: "expanded",
    runId: "",
    groupKey: g.key,
  };
}
