// One status bar item: the daemon's backend and health, and the active run's phase and best
// robust accuracy, with a warning icon and tooltip lines when an early check fired. Clicking it
// opens the active run's dashboard (or the logs when none).
import * as vscode from "vscode";
import type { DaemonStatusParams } from "../protocol";
import type { RunSummary } from "../protocol/runs";
import type { RunRowLive } from "./runTree";
import { statusText } from "./statusText";

export class StatusBar implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem("hyperat.status", vscode.StatusBarAlignment.Left, 10);
  private daemon: { running: boolean; starting?: boolean; backend?: string; compute?: string; health?: DaemonStatusParams["health"]; message?: string } = { running: false };
  private active?: RunSummary;

  /** The active run's open operation and warnings (set by extension.ts). */
  liveOf: (runId: string) => RunRowLive = () => ({});

  constructor() {
    this.item.name = "HyperAT";
    this.render();
    this.item.show();
  }

  setDaemon(d: Partial<typeof this.daemon>): void {
    this.daemon = { ...this.daemon, ...d };
    this.render();
  }

  setActiveRun(run: RunSummary | undefined): void {
    this.active = run;
    this.render();
  }

  get activeRun(): RunSummary | undefined {
    return this.active;
  }

  /** Re-reads liveOf (a phase or a warning changed). */
  refresh(): void {
    this.render();
  }

  private render(): void {
    const live = this.active ? this.liveOf(this.active.id) : {};
    this.item.text = statusText(this.daemon, this.active && { ...this.active, operation: live.operation, warnings: live.warnings });
    const warnings = (live.warnings ?? []).map((w) => `\n⚠ ${w}`).join("");
    this.item.tooltip = this.daemon.running
      ? `HyperAT daemon: backend ${this.daemon.backend ?? "?"}, health ${this.daemon.health ?? "ok"}` +
        `${this.daemon.compute ? `\n${this.daemon.compute}` : ""}${this.daemon.message ? `\n${this.daemon.message}` : ""}` +
        `${this.active ? `\nrun ${this.active.id}` : ""}${warnings}`
      : this.daemon.starting ? "HyperAT daemon starting (loading the compute backend)" : "HyperAT daemon not running (it starts when a run needs it)";
    this.item.command = this.active ? { command: "hyperat.openDashboard", title: "Open Dashboard", arguments: [this.active.id] } : "hyperat.showLogs";
  }

  dispose(): void {
    this.item.dispose();
  }
}
