// The extension's settings (contributes.configuration in package.json), read through `from`
// normalizers with safe defaults so a hand-edited settings.json never breaks activation.
import { isBackendRequest, type BackendRequest } from "../core/backend/names";
import { isRunGrouping, type RunGrouping } from "./runGrouping";

export interface Settings {
  backend: BackendRequest;
  /** CLI to run as the daemon; "" = the bundled dist/cli.js. */
  daemonPath: string;
  /** Runtime for the daemon; "" = the extension host's own executable. */
  nodePath: string;
  decorationsEnabled: boolean;
  /** How the Runs tree's top level is grouped: "none" (runs, newest first) or "config". */
  runsGroupBy: RunGrouping;
}

export const DEFAULT_SETTINGS: Settings = {
  backend: "auto",
  daemonPath: "",
  nodePath: "",
  decorationsEnabled: true,
  runsGroupBy: "none",
};

const str = (v: unknown, d: string) => (typeof v === "string" ? v.trim() : d);

/** `get` is `workspace.getConfiguration("hyperat").get` or a fake. */
export function settingsFrom(get: (key: string) => unknown): Settings {
  const backend = get("backend");
  return {
    backend: isBackendRequest(backend) ? backend : DEFAULT_SETTINGS.backend,
    daemonPath: str(get("daemon.path"), ""),
    nodePath: str(get("daemon.nodePath"), ""),
    decorationsEnabled: typeof get("decorations.enabled") === "boolean" ? (get("decorations.enabled") as boolean) : true,
    runsGroupBy: isRunGrouping(get("runs.groupBy")) ? (get("runs.groupBy") as RunGrouping) : DEFAULT_SETTINGS.runsGroupBy,
  };
}
