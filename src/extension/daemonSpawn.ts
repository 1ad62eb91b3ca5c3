// How to start the daemon process: pure, so the Electron/Node distinction is unit-tested.
// In desktop VS Code the extension host's execPath is Electron; ELECTRON_RUN_AS_NODE=1 makes it
// behave as plain Node (what vscode-languageclient does for `TransportKind.ipc` servers). In
// code-server and Remote-SSH it is already Node.
import { isAbsolute, join } from "node:path";
import type { Settings } from "./settings";

export interface SpawnPlan {
  command: string;
  args: string[];
  env: Record<string, string | undefined>;
  cwd: string;
}

export interface HostRuntime {
  execPath: string;
  /** process.versions.electron in the extension host, if any. */
  electronVersion?: string;
  env: Record<string, string | undefined>;
}

/** "~/x" -> "$HOME/x" (settings are typed by hand; spawn does not expand "~"). */
function expandHome(p: string, home: string | undefined): string {
  return home && (p === "~" || p.startsWith("~/")) ? join(home, p.slice(1)) : p;
}

/**
 * The executables come from machine-scoped settings and are never resolved against the workspace
 * (nor is the spawn's cwd used for them): a folder someone else wrote must not pick the program
 * the extension runs. A relative path is refused; a bare command name is looked up on PATH.
 */
export function daemonSpawnPlan(settings: Settings, extensionPath: string, workspaceFolder: string, host: HostRuntime): SpawnPlan {
  const home = host.env.HOME ?? host.env.USERPROFILE;
  const daemonPath = expandHome(settings.daemonPath, home);
  if (daemonPath && !isAbsolute(daemonPath)) {
    throw new Error(`hyperat.daemon.path must be an absolute path or start with ~/, got "${settings.daemonPath}" (it is never resolved against the workspace folder)`);
  }
  const nodePath = expandHome(settings.nodePath, home);
  if (nodePath && !isAbsolute(nodePath) && /[\\/]/.test(nodePath)) {
    throw new Error(`hyperat.daemon.nodePath must be an absolute path, ~/..., or a command name on PATH, got "${settings.nodePath}" (it is never resolved against the workspace folder)`);
  }
  const cli = daemonPath || join(extensionPath, "dist", "cli.js");
  const command = nodePath || host.execPath;
  const env: Record<string, string | undefined> = { ...host.env, HYPERAT_BACKEND: settings.backend };
  // Only our own runtime is Electron; a user-chosen node binary must not see the flag.
  if (!settings.nodePath && host.electronVersion) env.ELECTRON_RUN_AS_NODE = "1";
  else delete env.ELECTRON_RUN_AS_NODE;
  return {
    command,
    args: [cli, "daemon", "--stdio", "--workspace", workspaceFolder, "--backend", settings.backend],
    env,
    cwd: workspaceFolder,
  };
}
