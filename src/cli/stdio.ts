// A broken stdout or stderr (the reader of `hyperat train 2>&1 | head` has left) must never stop
// training: Node reports EPIPE as an 'error' event on the stream, which, unhandled, ends the
// process without a checkpoint (issue 17). From the first such error the stream is switched off:
// its writes are dropped and the run goes on; exit codes are unchanged.
const BROKEN = new Set(["EPIPE", "ERR_STREAM_DESTROYED", "ECONNRESET"]);

/** Switches `stream` off at its first EPIPE-like error; other errors are rethrown. */
export function survivePipeClose(stream: NodeJS.WriteStream): void {
  stream.on("error", (e: NodeJS.ErrnoException) => {
    if (!BROKEN.has(e.code ?? "")) throw e;
    switchOff(stream);
  });
}

function switchOff(stream: NodeJS.WriteStream): void {
  // Later writes (console.log, progress bars) are dropped instead of erroring again.
  stream.write = ((_chunk: unknown, encOrCb?: unknown, cb?: unknown) => {
    const done = typeof encOrCb === "function" ? encOrCb : cb;
    if (typeof done === "function") process.nextTick(done as () => void);
    return true;
  }) as typeof stream.write;
}

export function survivePipeCloseOnStdio(): void {
  survivePipeClose(process.stdout);
  survivePipeClose(process.stderr);
}
