// What the run manager tells its listeners (the RPC server forwards each as a notification,
// src/daemon/server.ts), and the progress tokens its parts open.
import type { ProgressParams, RunBaseModelParams, RunEvaluationParams, RunLoraNormsParams, RunMetricsParams, RunStatusParams } from "../../protocol/methods";
import type { LogLevel } from "../logger";

export type ManagerEvent =
  | ({ type: "status" } & RunStatusParams)
  | ({ type: "metrics" } & RunMetricsParams)
  | ({ type: "loraNorms" } & RunLoraNormsParams)
  | ({ type: "evaluation" } & RunEvaluationParams)
  | ({ type: "baseModel" } & RunBaseModelParams)
  | ({ type: "progress" } & ProgressParams)
  | { type: "log"; level: LogLevel; message: string; runId?: string };

/** Progress tokens unique within one manager: `<runId>/<operation>/<n>`. */
export class ProgressTokens {
  private counter = 0;

  next(runId: string, operation: string): string {
    return `${runId}/${operation}/${++this.counter}`;
  }
}
