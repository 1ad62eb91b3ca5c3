import * as fs from "node:fs";
import { presetConfig } from "../../../src/core/model/config";
import { paramShapes } from "../../../src/core/model/params";
import { timmShapeOf } from "../../../src/core/model/timmLayout";

/**
 * A timm-layout ViT safetensors file whose data region is a hole: the header is real, the file
 * has the full size (sparse, so a ViT-B/16's 346 MB take no disk), and every weight reads as 0.
 * What the memory plan reads; loading it would give a zero model.
 */
export function writeSparseTimmVit(file: string, preset: "vit-base" | "vit-large", imgSize = 224, patchSize = 16, numClasses = 1000): number {
  const vit = presetConfig(preset, { imgSize, patchSize, numClasses });
  const header: Record<string, unknown> = { __metadata__: { num_heads: String(vit.heads) } };
  let offset = 0;
  for (const [name, engineShape] of paramShapes(vit)) {
    const shape = timmShapeOf(name, engineShape);
    const bytes = 4 * shape.reduce((a, b) => a * b, 1);
    header[name] = { dtype: "F32", shape, data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  let json = JSON.stringify(header);
  json += " ".repeat((8 - (json.length % 8)) % 8);
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(json.length));
  fs.writeFileSync(file, Buffer.concat([len, Buffer.from(json, "utf8")]));
  fs.truncateSync(file, 8 + json.length + offset);
  return offset;
}
