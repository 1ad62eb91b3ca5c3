import * as path from "node:path";
import { ConfigError } from "../core/config/configError";
import { parseConfigText } from "../core/config/validate";
import type { RunConfig } from "../core/config/types";
import { probeBackend } from "../core/backend/select";
import { explainError } from "../core/engineErrors";
import type { ConfigCheckProblem } from "../protocol/methods";
import { resolvePaths, type PathProblem } from "./engine/configFile";
import { planRun } from "./engine/memoryPlan";
import { preflightProblems } from "./preflight";

/**
 * The up-front pass on a document's text, answering every problem with its JSON path instead of
 * throwing the first (the editor's diagnostics, `hyperat/config.check`; issue 15, issue 16 item
 * 4). The same steps as a run start (src/daemon/runManager.ts start → configFile.ts
 * loadConfigWithFacts → the backend and the memory plan), so a config the editor shows clean is
 * one `run.start` accepts. A schema or JSON error stops the pass: nothing after it has a config
 * to look at.
 */
export async function checkConfigText(text: string, configPath: string): Promise<ConfigCheckProblem[]> {
  const file = path.resolve(configPath);
  let cfg: RunConfig;
  try {
    cfg = parseConfigText(text, file);
  } catch (e) {
    if (e instanceof ConfigError) return [fromConfigError(e)];
    throw e;
  }
  const problems: ConfigCheckProblem[] = [];
  await resolvePaths(cfg, path.dirname(file), file, (p) => problems.push(fromPathProblem(p)));
  // A data file that does not exist is found by resolvePaths and again by the pass's data check:
  // one diagnostic per path from the same cause.
  const found = new Set(problems.map((p) => p.jsonPath));
  const pass = await preflightProblems(cfg, file);
  problems.push(...pass.problems.map(fromConfigError).filter((p) => !found.has(p.jsonPath)));
  if (!problems.some((p) => p.jsonPath === "/model/path")) problems.push(...(await memoryProblems(cfg)));
  return problems;
}

/** The backend the config asks for, then the memory plan against its limit (as run.start does). */
async function memoryProblems(cfg: RunConfig): Promise<ConfigCheckProblem[]> {
  if (cfg.backend !== "auto") {
    try {
      await probeBackend(cfg.backend);
    } catch (e) {
      return [{ jsonPath: "/backend", message: (e as Error).message, severity: "error" }];
    }
  }
  let plan: Awaited<ReturnType<typeof planRun>>;
  try {
    plan = await planRun(cfg);
  } catch (e) {
    // The model's shapes do not make a ViT the config can train (heads, patch size, classes).
    return [{ jsonPath: cfg.model.path ? "/model/path" : "/model", message: explainError(e).message, severity: "error" }];
  }
  const at = (setting: string) => `/${setting.split(".").join("/")}`;
  return [
    ...plan.problems.map((m, i): ConfigCheckProblem => ({ jsonPath: at(plan.problemSettings[i]), message: `memory plan: ${m}`, severity: "error" })),
    ...plan.warnings.map((m, i): ConfigCheckProblem => ({ jsonPath: at(plan.warningSettings[i]), message: `memory plan: ${m}`, severity: "warning" })),
  ];
}

function fromConfigError(e: ConfigError): ConfigCheckProblem {
  return { jsonPath: e.jsonPath, message: e.detail, severity: "error" };
}

function fromPathProblem(p: PathProblem): ConfigCheckProblem {
  if (p instanceof ConfigError) return fromConfigError(p);
  return { jsonPath: p.jsonPath ?? "", message: `file not found: ${p.file}`, severity: "error" };
}
