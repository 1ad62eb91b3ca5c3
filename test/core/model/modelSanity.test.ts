// Model sanity on load: NaN/Inf weights are refused naming the tensor (unless allowed on
// purpose), and a safetensors header with a duplicate key is refused instead of JSON.parse
// silently keeping the last one.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { modelFromTensors, modelMetadata } from "../../../src/core/model/modelFile";
import { paramShapes } from "../../../src/core/model/params";
import { RawTensor, timmShapeOf } from "../../../src/core/model/timmLayout";
import { parseSafetensors, serializeSafetensors } from "../../../src/core/io/safetensors";
import { duplicateJsonKey } from "../../../src/core/io/jsonKeys";
import { tinyConfig } from "./tinyVit";

function timmTensors(): Record<string, RawTensor> {
  const c = tinyConfig();
  const out: Record<string, RawTensor> = {};
  for (const [name, engineShape] of paramShapes(c)) {
    const shape = timmShapeOf(name, engineShape);
    out[name] = { shape, data: new Float32Array(shape.reduce((a, b) => a * b, 1)).fill(0.5) };
  }
  return out;
}

/** The same file with its header JSON rewritten (re-padded; the data region is unchanged). */
function withHeader(bytes: Uint8Array, edit: (json: string) => string): Uint8Array {
  const n = Number(new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true));
  const json = new TextEncoder().encode(edit(new TextDecoder().decode(bytes.subarray(8, 8 + n)).trimEnd()));
  const out = new Uint8Array(8 + json.length + (bytes.length - 8 - n));
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  out.set(bytes.subarray(8 + n), 8 + json.length);
  return out;
}

describe("non-finite weights", () => {
  for (const [what, value] of [["NaN", NaN], ["+Inf", Infinity], ["-Inf", -Infinity]] as const) {
    test(`${what} in one tensor is refused naming it; allowNonFinite loads with a warning`, () => {
      const t = timmTensors();
      t["blocks.1.attn.proj.weight"].data[5] = value;
      t["blocks.1.attn.proj.weight"].data[9] = value;
      const meta = modelMetadata(tinyConfig());
      assert.throws(
        () => modelFromTensors(t, meta, {}, "m.safetensors"),
        (e: Error) => e.message.startsWith("m.safetensors: tensor \"blocks.1.attn.proj.weight\"") && e.message.includes("2 non-finite values (first at flat index 5") && e.message.includes("--allow-nonfinite"),
      );
      const ok = modelFromTensors(t, meta, { allowNonFinite: true }, "m.safetensors");
      assert.ok(ok.notes.some((n) => n.startsWith("WARNING: tensor \"blocks.1.attn.proj.weight\"")), ok.notes.join("\n"));
    });
  }

  test("a finite model loads without warnings", () => {
    assert.ok(!modelFromTensors(timmTensors(), modelMetadata(tinyConfig()), {}, "m").notes.some((n) => n.startsWith("WARNING")));
  });
});

describe("duplicate keys in safetensors headers", () => {
  const file = serializeSafetensors({ a: { shape: [2], data: new Float32Array([1, 2]) } }, { num_heads: "4" });

  test("a second __metadata__ object (it would turn 4 heads into 2) is refused", () => {
    const twice = withHeader(file, (j) => j.replace(/}$/, ',"__metadata__":{"num_heads":"2"}}'));
    assert.throws(() => parseSafetensors(twice, "f.safetensors"), /^SafetensorsError: f\.safetensors: header has the key "\/__metadata__" \(JSON pointer\) twice/);
  });

  test("a key twice inside __metadata__ or a tensor entry, or a tensor name twice, is refused", () => {
    const inMeta = withHeader(file, (j) => j.replace('"num_heads":"4"', '"num_heads":"4","num_heads":"2"'));
    assert.throws(() => parseSafetensors(inMeta, "f"), /"\/__metadata__\/num_heads"/);
    const inEntry = withHeader(file, (j) => j.replace('"dtype":"F32"', '"dtype":"F32","dtype":"F32"'));
    assert.throws(() => parseSafetensors(inEntry, "f"), /"\/a\/dtype"/);
    const name = withHeader(file, (j) => j.replace(/}$/, ',"\\u0061":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}'));
    assert.throws(() => parseSafetensors(name, "f"), /"\/a"/);
  });

  test("the scanner: equal keys in different objects, strings with braces and escapes are not duplicates", () => {
    assert.equal(duplicateJsonKey('{"a":{"k":1},"b":{"k":"}{\\"k\\":"},"c":[{"k":1},{"k":2}]}'), undefined);
    assert.equal(duplicateJsonKey('{"c":[{"k":1},{"k":2,"k":3}]}'), "/c/1/k");
    assert.equal(duplicateJsonKey('{"a/b":{"x~":1,"x~":2}}'), "/a~1b/x~0");
    assert.deepEqual(parseSafetensors(file, "f").metadata, { num_heads: "4" });
  });
});
