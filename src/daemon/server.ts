// The training daemon: JSON-RPC 2.0 over stdio with LSP framing (vscode-jsonrpc), one
// RunManager behind it. Requests map 1:1 to RunManager calls; manager events become
// notifications. stdout carries only protocol messages; logs go to stderr.
import * as path from "node:path";
import {
  createMessageConnection,
  StreamMessageReader,
  StreamMessageWriter,
  type MessageConnection,
  type ResponseMessage,
} from "vscode-jsonrpc/node";
import { FrameGuard } from "./frameGuard";
import * as protocol from "../protocol/methods";
import type { DaemonStatusParams } from "../protocol/methods";
import { describeBackend, deviceFacts, probeBackend, type BackendInfo } from "../core/backend/select";
import type { BackendRequest } from "../core/backend/names";
import { RunManager, type ManagerEvent } from "./runManager";
import { runsDirOf } from "./runStore";
import type { EngineModule } from "./compute/loader";
import type { Logger } from "./logger";
import { InvalidParamsError, checkpointParam, modelParam, requireStrings, toResponseError } from "./rpcErrors";

export interface DaemonOptions {
  workspace: string;
  engineModule?: EngineModule;
  useWorkers: boolean;
  maxConcurrentRuns: number;
  backend: BackendRequest;
  /** How often daemon.status is sent while a run trains. */
  statusIntervalMs: number;
  log: Logger;
  input: NodeJS.ReadableStream;
  output: NodeJS.WritableStream;
  version: string;
}

export interface DaemonHandle {
  /** Resolves after `shutdown`, the end of the input, or `stop`, once every run is checkpointed. */
  done: Promise<void>;
  /** The process exit code once `done`: 0, or 2 after a malformed message header. */
  exitCode(): number;
  /** Graceful stop (e.g. on SIGTERM): training runs pause at their next step boundary. */
  stop(reason: string): Promise<void>;
}

export function startDaemon(opts: DaemonOptions): DaemonHandle {
  // vscode-jsonrpc frames the stream; the guard in front only stops at a header it cannot trust.
  const guard = new FrameGuard((problem) => void daemon.badFrame(problem));
  opts.input.pipe(guard);
  const writer = new StreamMessageWriter(opts.output);
  const conn = createMessageConnection(new StreamMessageReader(guard), writer);
  const daemon: Daemon = new Daemon(conn, opts, writer);
  return { done: daemon.run(), stop: (reason) => daemon.stop(reason), exitCode: () => daemon.exitCode };
}

/** JSON-RPC 2.0 §5.1: invalid JSON was received. */
const PARSE_ERROR = -32700;
/** A document sent to hyperat/config.check: the config file reader's own bound (src/daemon/engine/configFile.ts). */
const MAX_CONFIG_TEXT = 16 * 2 ** 20;

class Daemon {
  private manager?: RunManager;
  private backend?: BackendInfo;
  private statusTimer?: NodeJS.Timeout;
  private lastProblem?: { health: "warning" | "error"; message: string };
  private finished!: () => void;
  private stopping?: Promise<void>;
  exitCode = 0;

  constructor(private readonly conn: MessageConnection, private readonly opts: DaemonOptions, private readonly writer: StreamMessageWriter) {}

  /** A request the reader could not decode gets a parse error (id null: its id is unknown). */
  private answerParseError(message: string): Promise<void> {
    return this.writer.write({ jsonrpc: "2.0", id: null, error: { code: PARSE_ERROR, message } } as ResponseMessage).catch(() => {});
  }

  /** A header the stream cannot be resynchronised after: answer, checkpoint the runs and exit
   * with code 2 so the extension starts a fresh daemon. */
  async badFrame(problem: string): Promise<void> {
    this.opts.log("error", `malformed message header from the client: ${problem}; exiting so the client restarts the daemon`);
    this.exitCode = 2;
    await this.answerParseError(`Parse error: ${problem}. The daemon exits; the client restarts it.`);
    await this.stop(`malformed message header: ${problem}`);
  }

  run(): Promise<void> {
    const done = new Promise<void>((r) => (this.finished = r));
    this.registerHandlers();
    // With the frame guard in front, a reader error is a well-framed body that is not a JSON-RPC
    // message: the stream is still in step, so answer and go on.
    this.conn.onError(([err]) => {
      this.opts.log("warn", `protocol error: ${err.message}`);
      if (!this.stopping) void this.answerParseError(`Parse error: ${err.message.split("\n")[0]}`);
    });
    this.conn.onClose(() => void this.stop("the client closed the connection"));
    this.conn.listen();
    this.opts.log("info", `daemon started (pid ${process.pid}, workspace ${this.opts.workspace}, ${this.opts.useWorkers ? "worker threads" : "in-process"})`);
    return done;
  }

  /** Pauses training runs at their next step boundary (checkpoints written). Idempotent. */
  private shutdownRuns(reason: string): Promise<void> {
    this.stopping ??= (async () => {
      this.opts.log("info", `shutting down: ${reason}`);
      if (this.statusTimer) clearInterval(this.statusTimer);
      await this.manager?.shutdown();
      this.opts.log("info", "all runs are checkpointed; bye");
    })();
    return this.stopping;
  }

  /** Shuts the runs down, then ends the daemon. */
  async stop(reason: string): Promise<void> {
    await this.shutdownRuns(reason);
    this.finished();
  }

  private managerFor(workspace?: string): RunManager {
    if (!this.manager) {
      const ws = path.resolve(workspace ?? this.opts.workspace);
      this.manager = new RunManager({
        runsDir: runsDirOf(ws),
        engineModule: this.opts.engineModule,
        useWorkers: this.opts.useWorkers,
        maxConcurrentRuns: this.opts.maxConcurrentRuns,
      });
      this.manager.onEvent((e) => this.forward(e));
    }
    return this.manager;
  }

  /** Probed, not loaded: runs compute in worker threads, and each would otherwise share the
   * GPU with a second device opened here for nothing (one GPU context per process, issue 11). */
  private async ensureBackend(): Promise<BackendInfo> {
    this.backend ??= await probeBackend(this.opts.backend);
    return this.backend;
  }

  /** Wraps a handler so every failure becomes a JSON-RPC error with a clear message. */
  private handle<P, R>(method: string, fn: (params: P) => Promise<R>): (params: P) => Promise<R> {
    return async (params: P) => {
      try {
        if (this.stopping) throw new Error("the daemon is shutting down");
        return await fn(params);
      } catch (e) {
        const re = toResponseError(e);
        this.opts.log(re.code === -32010 ? "error" : "warn", `${method} failed: ${re.message}`);
        throw re;
      }
    };
  }

  private registerHandlers(): void {
    const c = this.conn;
    c.onRequest(protocol.initialize, this.handle("initialize", async (p) => {
      const workspaceFolder = p && typeof p === "object" ? p.workspaceFolder : undefined;
      if (workspaceFolder !== undefined && typeof workspaceFolder !== "string") {
        requireStrings("initialize", p, [], ["workspaceFolder"]);
      }
      const mgr = this.managerFor(workspaceFolder);
      const backend = await this.ensureBackend();
      setImmediate(() => this.sendDaemonStatus());
      return {
        version: this.opts.version,
        backend: backend.backend,
        compute: describeBackend(backend),
        ...(deviceFacts(backend) ? { device: deviceFacts(backend) } : {}),
        runsDir: mgr.runsDir,
        capabilities: { maxConcurrentRuns: mgr.maxConcurrentRuns, mergeStrategies: ["uniform", "adaptive"], workerThreads: mgr.useWorkers },
      };
    }));
    c.onRequest(protocol.shutdown, async () => {
      await this.shutdownRuns("shutdown requested");
      // Answer first, then end: the response is written before the timer fires.
      setTimeout(() => void this.stop("shutdown requested"), 20);
      return null;
    });
    c.onRequest(protocol.runsList, this.handle("hyperat/runs.list", async () => ({ runs: await this.managerFor().list() })));
    c.onRequest(protocol.runStart, this.handle("hyperat/run.start", async (p) => {
      const { configPath } = requireStrings("hyperat/run.start", p, ["configPath"]);
      return { runId: await this.managerFor().start(configPath) };
    }));
    c.onRequest(protocol.configCheck, this.handle("hyperat/config.check", async (p) => {
      const { configPath, text } = requireStrings("hyperat/config.check", p, ["configPath", "text"]);
      if (text.length > MAX_CONFIG_TEXT) throw new InvalidParamsError(`hyperat/config.check: params.text is ${text.length} characters, over the ${MAX_CONFIG_TEXT} a config can be`);
      return { problems: await this.managerFor().checkConfigText(text, configPath) };
    }));
    c.onRequest(protocol.runPause, this.handle("hyperat/run.pause", (p) => this.managerFor().pause(requireStrings("hyperat/run.pause", p, ["runId"]).runId)));
    c.onRequest(protocol.runResume, this.handle("hyperat/run.resume", async (p) => {
      const { runId } = requireStrings("hyperat/run.resume", p, ["runId"]);
      const force = (p as { force?: unknown }).force;
      if (force !== undefined && typeof force !== "boolean") throw new InvalidParamsError(`hyperat/run.resume: params.force must be a boolean when given, got ${JSON.stringify(force)}`);
      return this.managerFor().resume(runId, { force: force === true });
    }));
    c.onRequest(protocol.runStop, this.handle("hyperat/run.stop", (p) => this.managerFor().stop(requireStrings("hyperat/run.stop", p, ["runId"]).runId)));
    c.onRequest(protocol.runMerge, this.handle("hyperat/run.merge", async (p) => {
      const { runId, strategy } = requireStrings("hyperat/run.merge", p, ["runId", "strategy"], ["from"]);
      if (strategy !== "uniform" && strategy !== "adaptive") throw new InvalidParamsError(`hyperat/run.merge: params.strategy must be "uniform" or "adaptive", got "${strategy}"`);
      return this.managerFor().merge(runId, strategy, checkpointParam("hyperat/run.merge", p.from));
    }));
    c.onRequest(protocol.runEvaluate, this.handle("hyperat/run.evaluate", async (p) => {
      const { runId } = requireStrings("hyperat/run.evaluate", p, ["runId"], ["attacks", "from"]);
      return this.managerFor().evaluate(runId, p.attacks, checkpointParam("hyperat/run.evaluate", p.from), modelParam("hyperat/run.evaluate", p.model));
    }));
    c.onRequest(protocol.runCancel, this.handle("hyperat/run.cancel", (p) => this.managerFor().cancel(requireStrings("hyperat/run.cancel", p, ["runId"]).runId)));
    c.onRequest(protocol.runGet, this.handle("hyperat/run.get", (p) => this.managerFor().get(requireStrings("hyperat/run.get", p, ["runId"]).runId)));
  }

  private forward(e: ManagerEvent): void {
    const c = this.conn;
    switch (e.type) {
      case "status": {
        const { type: _t, ...p } = e;
        void c.sendNotification(protocol.runStatus, p);
        if (p.state === "failed") this.lastProblem = { health: "error", message: `run ${p.runId} failed: ${p.message ?? ""}` };
        else if (p.state === "paused" && p.message) this.lastProblem = { health: "warning", message: `run ${p.runId}: ${p.message}` };
        else if (p.state === "running") this.lastProblem = undefined;
        this.updateStatusTimer();
        this.sendDaemonStatus();
        break;
      }
      case "metrics": {
        const { type: _t, ...p } = e;
        void c.sendNotification(protocol.runMetrics, p);
        break;
      }
      case "loraNorms": {
        const { type: _t, ...p } = e;
        void c.sendNotification(protocol.runLoraNorms, p);
        break;
      }
      case "evaluation": {
        const { type: _t, ...p } = e;
        void c.sendNotification(protocol.runEvaluation, p);
        break;
      }
      case "baseModel": {
        const { type: _t, ...p } = e;
        void c.sendNotification(protocol.runBaseModel, p);
        break;
      }
      case "progress": {
        const { type: _t, ...p } = e;
        void c.sendNotification(protocol.progress, p);
        break;
      }
      case "log":
        this.opts.log(e.level, e.message);
        break;
    }
  }

  private updateStatusTimer(): void {
    const active = (this.manager?.activeRunCount() ?? 0) > 0;
    if (active && !this.statusTimer) {
      this.statusTimer = setInterval(() => this.sendDaemonStatus(), this.opts.statusIntervalMs);
      this.statusTimer.unref();
    } else if (!active && this.statusTimer) {
      clearInterval(this.statusTimer);
      this.statusTimer = undefined;
    }
  }

  private sendDaemonStatus(): void {
    if (!this.manager) return;
    const mem = this.manager.computeMemory();
    const status: DaemonStatusParams = {
      health: this.lastProblem?.health ?? "ok",
      backend: this.backend?.backend ?? mem.backend,
      numTensors: mem.numTensors,
      memoryBytes: mem.numBytes,
      activeRuns: this.manager.activeRunCount(),
      ...(this.lastProblem ? { message: this.lastProblem.message } : {}),
    };
    void this.conn.sendNotification(protocol.daemonStatus, status);
  }
}

