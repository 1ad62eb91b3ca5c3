// The training daemon as a child process speaking JSON-RPC (LSP framing, vscode-jsonrpc) over
// stdio, like a language server: started on first need, restarted with a notice if it dies
// (at most MAX_RESTARTS in RESTART_WINDOW_MS, then it stays down and says so), its stderr in the
// "HyperAT" log channel, stopped with `shutdown` on deactivate.
import { spawn, type ChildProcess } from "node:child_process";
import * as vscode from "vscode";
import {
  createMessageConnection,
  StreamMessageReader,
  StreamMessageWriter,
  type MessageConnection,
  type RequestType,
  type RequestType0,
} from "vscode-jsonrpc/node";
import * as p from "../protocol";
import { daemonSpawnPlan } from "./daemonSpawn";
import { StderrLines } from "./daemonStderr";
import type { Settings } from "./settings";

const MAX_RESTARTS = 3;
const RESTART_WINDOW_MS = 60_000;
const SHUTDOWN_TIMEOUT_MS = 5_000;
/** Loading a native backend (tfjs-node-gpu) can take a while; a daemon silent for this long is stuck. */
const INITIALIZE_TIMEOUT_MS = 60_000;

export class DaemonClient implements vscode.Disposable {
  private child?: ChildProcess;
  private connection?: MessageConnection;
  private starting?: Promise<MessageConnection>;
  private stopping = false;
  private restarts: number[] = [];
  /** What initialize answered; undefined while the daemon is down. */
  info?: p.InitializeResult;

  readonly onRunStatus = new vscode.EventEmitter<p.RunStatusParams>();
  readonly onRunMetrics = new vscode.EventEmitter<p.RunMetricsParams>();
  readonly onRunLoraNorms = new vscode.EventEmitter<p.RunLoraNormsParams>();
  readonly onRunEvaluation = new vscode.EventEmitter<p.RunEvaluationParams>();
  readonly onDaemonStatus = new vscode.EventEmitter<p.DaemonStatusParams>();
  readonly onProgress = new vscode.EventEmitter<p.ProgressParams>();
  /** Fires with true when the daemon is up (initialized), false when it went down. */
  readonly onRunning = new vscode.EventEmitter<boolean>();
  /** Fires when a daemon process is spawned (before it initializes): "daemon starting". */
  readonly onStarting = new vscode.EventEmitter<void>();
  /** Fires when the daemon exited on its own (a crash, kill -9), before onRunning(false). */
  readonly onCrashed = new vscode.EventEmitter<{ how: string; restarting: boolean }>();
  readonly onRunBaseModel = new vscode.EventEmitter<p.RunBaseModelParams>();

  constructor(
    private readonly extensionPath: string,
    private readonly workspaceFolder: string,
    private readonly settings: () => Settings,
    private readonly log: vscode.LogOutputChannel,
  ) {}

  /** The daemon's process id while it runs (the e2e tests kill it to check the restart). */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  get running(): boolean {
    return this.connection !== undefined && this.info !== undefined;
  }

  /** The connection, starting the daemon if needed. */
  async ensureStarted(): Promise<MessageConnection> {
    if (this.connection && this.info) return this.connection;
    this.starting ??= this.start().finally(() => (this.starting = undefined));
    return this.starting;
  }

  async request<R>(type: RequestType0<R, void>): Promise<R>;
  async request<P, R>(type: RequestType<P, R, void>, params: P): Promise<R>;
  async request(type: RequestType0<unknown, void> | RequestType<unknown, unknown, void>, params?: unknown): Promise<unknown> {
    const c = await this.ensureStarted();
    return params === undefined ? c.sendRequest(type as RequestType0<unknown, void>) : c.sendRequest(type as RequestType<unknown, unknown, void>, params);
  }

  /** A request to the daemon that is up now, never starting one (the config diagnostics,
   * configDiagnostics.ts): rejects when it is down. */
  async requestIfRunning<P, R>(type: RequestType<P, R, void>, params: P): Promise<R> {
    if (!this.connection || !this.info) throw new Error("the HyperAT daemon is not running");
    return this.connection.sendRequest(type, params);
  }

  private async start(): Promise<MessageConnection> {
    this.stopping = false;
    const plan = daemonSpawnPlan(this.settings(), this.extensionPath, this.workspaceFolder, {
      execPath: process.execPath,
      electronVersion: process.versions.electron,
      env: process.env,
    });
    this.log.info(`starting daemon: ${plan.command} ${plan.args.join(" ")}`);
    this.onStarting.fire();
    const child = spawn(plan.command, plan.args, { cwd: plan.cwd, env: plan.env, stdio: ["pipe", "pipe", "pipe"] });
    this.child = child;
    child.stderr!.setEncoding("utf8");
    const stderrLines = new StderrLines();
    child.stderr!.on("data", (chunk: string) => {
      for (const line of stderrLines.push(chunk)) this.log.info(`[daemon] ${line}`);
    });
    child.stderr!.once("end", () => {
      for (const line of stderrLines.end()) this.log.info(`[daemon] ${line}`);
    });
    const spawnError = new Promise<never>((_, reject) => child.once("error", (e) => reject(new Error(`cannot start the HyperAT daemon (${plan.command}): ${e.message}`))));
    child.once("exit", (code, signal) => this.onExit(child, code, signal));

    const connection = createMessageConnection(new StreamMessageReader(child.stdout!), new StreamMessageWriter(child.stdin!));
    connection.onNotification(p.runStatus, (e) => this.onRunStatus.fire(e));
    connection.onNotification(p.runMetrics, (e) => this.onRunMetrics.fire(e));
    connection.onNotification(p.runLoraNorms, (e) => this.onRunLoraNorms.fire(e));
    connection.onNotification(p.runEvaluation, (e) => this.onRunEvaluation.fire(e));
    connection.onNotification(p.daemonStatus, (e) => this.onDaemonStatus.fire(e));
    connection.onNotification(p.progress, (e) => this.onProgress.fire(e));
    connection.onNotification(p.runBaseModel, (e) => this.onRunBaseModel.fire(e));
    connection.onError(([e]) => this.log.error(`daemon connection: ${e.message}`));
    connection.listen();
    this.connection = connection;
    let timer: NodeJS.Timeout | undefined;
    const tooSlow = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`the HyperAT daemon did not answer initialize within ${INITIALIZE_TIMEOUT_MS / 1000} s; see HyperAT: Show Logs`)), INITIALIZE_TIMEOUT_MS);
    });
    const info = await Promise.race([
      connection.sendRequest(p.initialize, { clientName: "vscode", workspaceFolder: this.workspaceFolder }),
      spawnError,
      tooSlow,
    ])
      .catch((e: Error) => {
        // A daemon that cannot initialize is of no use: end it without the restart loop.
        this.stopping = true;
        child.kill("SIGKILL");
        throw e;
      })
      .finally(() => clearTimeout(timer));
    this.info = info;
    this.log.info(`daemon ${info.version} ready: backend ${info.backend}, runs in ${info.runsDir}`);
    this.onRunning.fire(true);
    return connection;
  }

  private onExit(child: ChildProcess, code: number | null, signal: NodeJS.Signals | null): void {
    if (child !== this.child) return;
    this.connection?.dispose();
    this.connection = undefined;
    this.child = undefined;
    this.info = undefined;
    const how = signal ? `signal ${signal}` : `code ${code}`;
    let restarting = false;
    if (!this.stopping) {
      const now = Date.now();
      this.restarts = [...this.restarts.filter((t) => now - t < RESTART_WINDOW_MS), now];
      restarting = this.restarts.length <= MAX_RESTARTS;
      // Before onRunning(false): listeners still know which runs were live (crash notice, extension.ts).
      this.onCrashed.fire({ how, restarting });
    }
    this.onRunning.fire(false);
    if (this.stopping) {
      this.log.info(`daemon stopped (${how})`);
      return;
    }
    this.log.error(`daemon exited unexpectedly (${how})`);
    if (!restarting) {
      void vscode.window
        .showErrorMessage(`The HyperAT daemon exited ${MAX_RESTARTS + 1} times in a minute (${how}); not restarting it.`, "Show Logs", "Restart Daemon")
        .then((pick) => pick && vscode.commands.executeCommand(pick === "Show Logs" ? "hyperat.showLogs" : "hyperat.restartDaemon"));
      return;
    }
    // The notice (which runs were interrupted, Resume) is extension.ts's: it knows the runs.
    this.ensureStarted().catch((e: Error) => this.log.error(`daemon restart failed: ${e.message}`));
  }

  /** Spawned and not yet initialized. */
  get isStarting(): boolean {
    return this.starting !== undefined && this.info === undefined;
  }

  /** Asks the daemon to pause active runs and exit; kills it if it does not within a few seconds. */
  async stop(): Promise<void> {
    const child = this.child;
    const connection = this.connection;
    if (!child) return;
    this.stopping = true;
    const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    try {
      await Promise.race([connection?.sendRequest(p.shutdown), new Promise((r) => setTimeout(r, SHUTDOWN_TIMEOUT_MS))]);
    } catch {
      // already gone
    }
    const timer = setTimeout(() => child.kill("SIGKILL"), SHUTDOWN_TIMEOUT_MS);
    child.kill("SIGTERM");
    await exited;
    clearTimeout(timer);
  }

  async restart(): Promise<void> {
    this.restarts = [];
    await this.stop();
    await this.ensureStarted();
  }

  dispose(): void {
    void this.stop();
    for (const e of [this.onRunStatus, this.onRunMetrics, this.onRunLoraNorms, this.onRunEvaluation, this.onDaemonStatus, this.onProgress, this.onRunning, this.onRunBaseModel]) e.dispose();
    this.onStarting.dispose();
    this.onCrashed.dispose();
  }
}

