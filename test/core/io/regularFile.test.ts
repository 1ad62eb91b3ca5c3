import { test, describe, before, after } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { execFileSync } from "node:child_process";
import { readRegularFile, withStallTimeout, NotRegularFileError, ReadStallError } from "../../../src/core/io/regularFile";
import { readSafetensorsFile } from "../../../src/core/io/files";

let dir: string;
let fifo: string;
let sock: string;
let server: net.Server;
before(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "hyperat-regular-"));
  fifo = path.join(dir, "pipe.safetensors");
  execFileSync("mkfifo", [fifo]);
  sock = path.join(dir, "s.sock");
  server = net.createServer();
  await new Promise<void>((resolve) => server.listen(sock, resolve));
});
after(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
  fs.rmSync(dir, { recursive: true, force: true });
});

describe("readRegularFile", () => {
  test("reads a regular file exactly, also across chunk boundaries", async () => {
    const f = path.join(dir, "r.bin");
    const data = Buffer.from(Array.from({ length: 1000 }, (_, i) => (i * 7) & 255));
    fs.writeFileSync(f, data);
    assert.deepEqual(await readRegularFile(f), data);
    fs.writeFileSync(path.join(dir, "empty"), "");
    assert.equal((await readRegularFile(path.join(dir, "empty"))).length, 0);
  });

  // Each of these hung `hyperat eval --model` until it was killed (issue 15).
  const special: Array<[string, () => string, RegExp]> = [
    ["a FIFO", () => fifo, /pipe\.safetensors: expected a regular file \(safetensors file\), found a FIFO \(named pipe\)/],
    ["/dev/zero", () => "/dev/zero", /\/dev\/zero: expected a regular file \(safetensors file\), found a character device/],
    ["/dev/urandom", () => "/dev/urandom", /\/dev\/urandom: .*found a character device/],
    ["a directory", () => dir, /found a directory/],
    ["a Unix socket", () => sock, /s\.sock: .*found a socket/],
  ];
  for (const [name, file, msg] of special) {
    test(`refuses ${name} at once, naming it`, async () => {
      await assert.rejects(readSafetensorsFile(file()), (e: Error) => e instanceof NotRegularFileError && msg.test(e.message));
    });
  }

  test("a missing file and a file over maxBytes are named errors", async () => {
    await assert.rejects(readRegularFile(path.join(dir, "nope"), { what: "model" }), /cannot read model .*nope: ENOENT/);
    const f = path.join(dir, "big.bin");
    fs.writeFileSync(f, Buffer.alloc(100));
    await assert.rejects(readRegularFile(f, { what: "image", maxBytes: 99 }), /big\.bin: image is 100 bytes, over the 99-byte limit/);
  });

  test("withStallTimeout rejects a read that makes no progress, and passes a prompt one through", async () => {
    await assert.rejects(withStallTimeout(new Promise(() => {}), 20, "/mnt/dead/x"), (e: Error) => e instanceof ReadStallError && /\/mnt\/dead\/x: reading stalled/.test(e.message));
    assert.equal(await withStallTimeout(Promise.resolve(7), 20, "x"), 7);
  });
});
