import { test, describe } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parseSafetensors, serializeSafetensors, f16ToF32, MAX_HEADER_BYTES } from "../../../src/core/io/safetensors";
import { readSafetensorsFile, writeSafetensorsFile, writeFileAtomic } from "../../../src/core/io/files";

/** A safetensors file from a header object and raw data bytes, built by hand. */
function build(header: unknown, data: number[] | Uint8Array, pad = true): Uint8Array {
  let json = JSON.stringify(header);
  if (pad) while ((json.length % 8) !== 0) json += " ";
  const h = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + h.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(h.length), true);
  out.set(h, 8);
  out.set(data, 8 + h.length);
  return out;
}

function f32Bytes(values: number[]): number[] {
  return [...new Uint8Array(new Float32Array(values).buffer)];
}

describe("safetensors", () => {
  test("parses a hand-built file (F32, metadata, offsets)", () => {
    const bytes = build(
      {
        __metadata__: { format: "pt" },
        b: { dtype: "F32", shape: [2], data_offsets: [0, 8] },
        a: { dtype: "F32", shape: [1, 2], data_offsets: [8, 16] },
      },
      f32Bytes([1.5, -2, 3.25, 0]),
    );
    const r = parseSafetensors(bytes, "hand.safetensors");
    assert.deepEqual(r.metadata, { format: "pt" });
    assert.deepEqual([...r.tensors.b.data], [1.5, -2]);
    assert.deepEqual(r.tensors.a.shape, [1, 2]);
    assert.deepEqual([...r.tensors.a.data], [3.25, 0]);
  });

  test("serializes the exact bytes of the reference layout (sorted names, 8-byte padded header)", () => {
    const bytes = serializeSafetensors({ z: { shape: [1], data: new Float32Array([1]) }, a: { shape: [1], data: new Float32Array([2]) } });
    const n = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    assert.equal(n % 8, 0);
    const header = new TextDecoder().decode(bytes.subarray(8, 8 + n));
    assert.equal(header.trimEnd(), '{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"z":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}');
    assert.deepEqual([...bytes.subarray(8 + n)], [...f32Bytes([2, 1])]);
  });

  test("round trip is bit-exact, including NaN payloads, -0, infinities and subnormals", () => {
    const special = new Float32Array(6);
    const u = new Uint32Array(special.buffer);
    u.set([0x7fc01234, 0x80000000, 0x7f800000, 0xff800000, 0x00000001, 0x3f800001]);
    const rand = Float32Array.from({ length: 1000 }, (_, i) => Math.sin(i) * 1e3);
    const bytes = serializeSafetensors({ special: { shape: [2, 3], data: special }, rand: { shape: [10, 10, 10], data: rand }, empty: { shape: [0, 4], data: new Float32Array(0) } }, { k: "v" });
    const r = parseSafetensors(bytes, "rt");
    assert.deepEqual([...new Uint32Array(r.tensors.special.data.buffer)], [...u]);
    assert.deepEqual([...new Uint32Array(r.tensors.rand.data.buffer)], [...new Uint32Array(rand.buffer)]);
    assert.deepEqual(r.tensors.empty.shape, [0, 4]);
    assert.deepEqual(r.metadata, { k: "v" });
  });

  test("F16 and BF16 decode to hand-computed values", () => {
    // F16: 0x3c00 = 1, 0xc000 = -2, 0x3555 = 0.333251953125, 0x0001 = 2^-24, 0x7c00 = inf, 0x7bff = 65504
    const f16 = [0x3c00, 0xc000, 0x3555, 0x0001, 0x7c00, 0x7bff];
    // BF16: 0x3f80 = 1, 0x4049 = 3.140625, 0xbf00 = -0.5
    const bf16 = [0x3f80, 0x4049, 0xbf00];
    const raw = new Uint8Array(2 * (f16.length + bf16.length));
    const v = new DataView(raw.buffer);
    [...f16, ...bf16].forEach((h, i) => v.setUint16(2 * i, h, true));
    const bytes = build(
      { h: { dtype: "F16", shape: [6], data_offsets: [0, 12] }, b: { dtype: "BF16", shape: [3], data_offsets: [12, 18] } },
      raw,
    );
    const r = parseSafetensors(bytes, "half");
    assert.deepEqual([...r.tensors.h.data], [1, -2, 0.333251953125, 2 ** -24, Infinity, 65504]);
    assert.deepEqual([...r.tensors.b.data], [1, 3.140625, -0.5]);
    assert.equal(r.tensors.h.dtype, "F16");
    assert.ok(Number.isNaN(f16ToF32(0x7e00)));
  });

  test("I32 and I64 are read (upcast to float32)", () => {
    const raw = new Uint8Array(12);
    const v = new DataView(raw.buffer);
    v.setInt32(0, -7, true);
    v.setBigInt64(4, 123456n, true);
    const r = parseSafetensors(build({ i: { dtype: "I32", shape: [1], data_offsets: [0, 4] }, l: { dtype: "I64", shape: [], data_offsets: [4, 12] } }, raw), "ints");
    assert.deepEqual([...r.tensors.i.data], [-7]);
    assert.deepEqual([...r.tensors.l.data], [123456]);
  });

  test("reads tensors at unaligned offsets (unpadded header)", () => {
    const bytes = build({ x: { dtype: "F32", shape: [2], data_offsets: [0, 8] } }, f32Bytes([0.1, 7]), false);
    assert.deepEqual([...parseSafetensors(bytes, "u").tensors.x.data], [...new Float32Array([0.1, 7])]);
  });

  const good = () => serializeSafetensors({ w: { shape: [2, 2], data: new Float32Array([1, 2, 3, 4]) } });
  const cases: Array<[string, () => Uint8Array, RegExp]> = [
    ["shorter than 8 bytes", () => new Uint8Array(5), /bad\.st: file is 5 bytes, too short/],
    ["truncated data", () => good().subarray(0, good().length - 3), /bad\.st: tensor "w": data_offsets \[0, 16\] run past the data region \(13 bytes\)/],
    [
      "header length past EOF",
      () => {
        const b = good().slice();
        new DataView(b.buffer).setBigUint64(0, 10_000n, true);
        return b;
      },
      /header length 10000 runs past the end of the file/,
    ],
    [
      "huge header length",
      () => {
        const b = good().slice();
        new DataView(b.buffer).setBigUint64(0, 2n ** 63n, true);
        return b;
      },
      new RegExp(`exceeds the ${MAX_HEADER_BYTES}-byte limit`),
    ],
    ["non-JSON header", () => build("x", []).fill(0x41, 8), /header is not valid UTF-8 JSON/],
    ["header that is an array", () => build([1, 2], []), /header must be a JSON object/],
    [
      "overlapping offsets",
      () => build({ a: { dtype: "F32", shape: [2], data_offsets: [0, 8] }, b: { dtype: "F32", shape: [2], data_offsets: [4, 12] } }, new Array(12).fill(0)),
      /tensor "b": data_offsets \[4, 12\] overlap the previous tensor/,
    ],
    ["gap between tensors", () => build({ a: { dtype: "F32", shape: [1], data_offsets: [4, 8] } }, new Array(8).fill(0)), /tensor "a": data_offsets start at 4, leaving a gap/],
    ["trailing bytes", () => build({ a: { dtype: "F32", shape: [1], data_offsets: [0, 4] } }, new Array(8).fill(0)), /tensors cover 4 bytes of a 8-byte data region/],
    ["wrong byte length", () => build({ a: { dtype: "F32", shape: [3], data_offsets: [0, 8] } }, new Array(8).fill(0)), /tensor "a": data_offsets \[0, 8\] hold 8 bytes, but F32 \[3\] needs 12/],
    ["bad dtype", () => build({ a: { dtype: "Q4", shape: [1], data_offsets: [0, 1] } }, [0]), /tensor "a": unsupported dtype "Q4"/],
    ["negative dim", () => build({ a: { dtype: "F32", shape: [-1], data_offsets: [0, 0] } }, []), /tensor "a": shape must be an array of non-negative integers/],
    ["fractional dim", () => build({ a: { dtype: "F32", shape: [1.5], data_offsets: [0, 6] } }, new Array(6).fill(0)), /tensor "a": shape must be/],
    ["reversed offsets", () => build({ a: { dtype: "F32", shape: [0], data_offsets: [4, 0] } }, new Array(4).fill(0)), /tensor "a": data_offsets \[4, 0\] are reversed/],
    ["non-string metadata", () => build({ __metadata__: { n: 3 } }, []), /"__metadata__"\."n" must be a string/],
    ["entry that is not an object", () => build({ a: 5 }, []), /tensor "a": entry must be an object/],
    [
      "a __proto__ tensor name",
      () => build(JSON.parse('{"__proto__": {"dtype": "F32", "shape": [0], "data_offsets": [0, 0]}}'), []),
      /tensor "__proto__": forbidden tensor name/,
    ],
  ];
  for (const [name, make, msg] of cases) {
    test(`rejects ${name} with a named error`, () => {
      assert.throws(() => parseSafetensors(make(), "bad.st"), (e: Error) => {
        assert.match(e.message, /^bad\.st: /);
        assert.match(e.message, msg);
        return true;
      });
    });
  }

  test("serialize refuses mismatched data and the reserved name", () => {
    assert.throws(() => serializeSafetensors({ a: { shape: [3], data: new Float32Array(2) } }), /tensor "a": 2 values for shape \[3\]/);
    assert.throws(() => serializeSafetensors({ __metadata__: { shape: [0], data: new Float32Array(0) } }), /reserved/);
  });
});

describe("files", () => {
  test("writeSafetensorsFile / readSafetensorsFile round trip and leave no temp files", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "hyperat-st-"));
    const file = path.join(dir, "sub", "m.safetensors");
    const data = Float32Array.from({ length: 64 }, (_, i) => i / 7);
    await writeSafetensorsFile(file, { w: { shape: [8, 8], data } }, { a: "b" });
    await writeSafetensorsFile(file, { w: { shape: [8, 8], data } }, { a: "c" }); // overwrite
    const r = await readSafetensorsFile(file);
    assert.deepEqual([...r.tensors.w.data], [...data]);
    assert.equal(r.metadata.a, "c");
    assert.deepEqual(fs.readdirSync(path.dirname(file)), ["m.safetensors"]);
    fs.rmSync(dir, { recursive: true });
  });

  test("writeFileAtomic replaces content whole; a failed write leaves the old file", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "hyperat-atomic-"));
    const file = path.join(dir, "x.json");
    await writeFileAtomic(file, "old");
    await assert.rejects(writeFileAtomic(file, 42 as unknown as string));
    assert.equal(fs.readFileSync(file, "utf8"), "old");
    assert.deepEqual(fs.readdirSync(dir), ["x.json"]);
    await writeFileAtomic(file, "new");
    assert.equal(fs.readFileSync(file, "utf8"), "new");
    fs.rmSync(dir, { recursive: true });
  });

  test("a missing file is an error naming the path", async () => {
    await assert.rejects(readSafetensorsFile("/nonexistent/q.safetensors"), /cannot read safetensors file \/nonexistent\/q\.safetensors/);
  });
});
