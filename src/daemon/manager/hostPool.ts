// The compute hosts runs train, merge and evaluate on: a worker thread each (daemon) or this
// thread (CLI, unit tests), with one healthy worker kept warm for the next operation.
import type { ComputeHost } from "../compute/inProcess";
import { InProcessHost } from "../compute/inProcess";
import { WorkerHost } from "../compute/workerProxy";
import { loadEngine, type EngineModule } from "../compute/loader";

export interface HostPoolOptions {
  engineModule: EngineModule;
  useWorkers: boolean;
  /** How long a finished worker stays warm; a wasm heap never shrinks while its thread lives. */
  idleWorkerMs: number;
  /** The manager is shutting down: released hosts end instead of waiting warm. */
  isClosed: () => boolean;
}

export class HostPool {
  private readonly idle: ComputeHost[] = [];
  private idleTimer?: NodeJS.Timeout;

  constructor(private readonly opts: HostPoolOptions) {}

  /** A warm idle worker when there is one (booting one costs seconds: tfjs, wasm, the engine). */
  acquire(): ComputeHost {
    const warm = this.idle.pop();
    if (warm) return warm;
    return this.opts.useWorkers ? new WorkerHost(this.opts.engineModule) : new InProcessHost(loadEngine(this.opts.engineModule));
  }

  /** Keeps one healthy worker warm for a while; anything else ends. */
  async release(host: ComputeHost, healthy: boolean): Promise<void> {
    try {
      await host.closeSession();
    } catch {
      healthy = false;
    }
    if (!healthy || this.opts.isClosed() || !this.opts.useWorkers || this.idle.length > 0) {
      await host.terminate().catch(() => {});
      return;
    }
    this.idle.push(host);
    clearTimeout(this.idleTimer);
    this.idleTimer = setTimeout(() => void this.endIdle(), this.opts.idleWorkerMs);
    this.idleTimer.unref();
  }

  async endIdle(): Promise<void> {
    clearTimeout(this.idleTimer);
    await Promise.allSettled(this.idle.splice(0).map((h) => h.terminate()));
  }
}
