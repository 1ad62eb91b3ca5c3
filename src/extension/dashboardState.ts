// What a dashboard page persists (vscode.setState) so VS Code can bring it back after a window
// reload: only the run id. It comes back from VS Code's storage, so it is checked before use.

export interface DashboardState {
  runId: string;
}

/** Run ids as RunStore makes them (`20261126-104455-demo-3f9a`), or any plain folder name. */
const RUN_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

/** The restored page's run id, or undefined for missing or malformed state. */
export function parseDashboardState(state: unknown): DashboardState | undefined {
  if (!state || typeof state !== "object") return undefined;
  const runId = (state as { runId?: unknown }).runId;
  if (typeof runId !== "string" || !RUN_ID.test(runId) || runId.includes("..")) return undefined;
  return { runId };
}
