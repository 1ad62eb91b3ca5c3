/* global process, setTimeout, fetch */
// Starts and stops code-server for the e2e tests: its own HOME/XDG dirs under `stateDir`, bound
// to 127.0.0.1 only, in its own process group so teardown (`kill -- -pid`) also ends the file
// watchers, the extension host and our daemon.
import { execFileSync, spawn } from "node:child_process";
import { mkdirSync, openSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";

/** A free TCP port on 127.0.0.1. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/** HOME, XDG dirs, user data and extensions dir of one isolated code-server. */
export function stateDirs(stateDir) {
  const d = {
    home: join(stateDir, "home"),
    userData: join(stateDir, "user"),
    extensions: join(stateDir, "ext"),
    xdgConfig: join(stateDir, "xdg", "config"),
    xdgData: join(stateDir, "xdg", "data"),
    xdgCache: join(stateDir, "xdg", "cache"),
  };
  for (const p of Object.values(d)) mkdirSync(p, { recursive: true });
  return d;
}

function isolatedEnv(dirs, extra = {}) {
  return {
    ...process.env,
    HOME: dirs.home,
    XDG_CONFIG_HOME: dirs.xdgConfig,
    XDG_DATA_HOME: dirs.xdgData,
    XDG_CACHE_HOME: dirs.xdgCache,
    ...extra,
  };
}

export function installExtension(entry, dirs, vsix) {
  execFileSync(process.execPath, [entry, "--user-data-dir", dirs.userData, "--extensions-dir", dirs.extensions, "--install-extension", vsix], {
    env: isolatedEnv(dirs),
    stdio: ["ignore", "inherit", "inherit"],
  });
}

/**
 * Starts code-server serving `workspace`; resolves when GET /healthz answers. `env` reaches the
 * extension host (and so our extension and daemon). Logs go to `logFile`.
 */
export async function startCodeServer({ entry, dirs, workspace, port, env = {}, logFile, timeoutMs = 90_000 }) {
  const out = openSync(logFile, "a");
  const child = spawn(
    process.execPath,
    [
      entry,
      "--auth", "none",
      "--bind-addr", `127.0.0.1:${port}`,
      "--user-data-dir", dirs.userData,
      "--extensions-dir", dirs.extensions,
      "--disable-telemetry",
      "--disable-update-check",
      "--disable-workspace-trust",
      "--disable-getting-started-override",
      workspace,
    ],
    { detached: true, stdio: ["ignore", out, out], env: isolatedEnv(dirs, env) },
  );
  const url = `http://127.0.0.1:${port}`;
  const server = {
    url,
    pid: child.pid,
    exited: new Promise((resolve) => child.once("exit", (code, signal) => resolve({ code, signal }))),
    /** Ends the whole process group (extension host, watchers, daemon) and waits for the leader. */
    async stop() {
      for (const sig of ["SIGTERM", "SIGKILL"]) {
        try {
          process.kill(-child.pid, sig);
        } catch {
          return;
        }
        const done = await Promise.race([server.exited.then(() => true), new Promise((r) => setTimeout(() => r(false), 5000))]);
        if (done) {
          try {
            process.kill(-child.pid, "SIGKILL"); // stragglers in the group
          } catch {
            /* group already gone */
          }
          return;
        }
      }
    },
  };
  const deadline = Date.now() + timeoutMs;
  let exited = false;
  void server.exited.then(() => (exited = true));
  while (Date.now() < deadline) {
    if (exited) throw new Error(`code-server exited during start-up; see ${logFile}`);
    try {
      const res = await fetch(`${url}/healthz`);
      if (res.ok) return server;
    } catch {
      /* not listening yet */
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  await server.stop();
  throw new Error(`code-server did not answer ${url}/healthz within ${timeoutMs / 1000}s; see ${logFile}`);
}
