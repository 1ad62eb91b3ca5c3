import { MAX_HEADER_BYTES, readSafetensorsHeader } from "../core/io/safetensors";
import { defaultStallMs, openRegularFile, withStallTimeout } from "../core/io/regularFile";

/**
 * A `model.path` checked from its safetensors header alone (8 bytes of length, then the JSON):
 * a directory, a FIFO, a text file or a truncated file is refused before a run folder exists,
 * and the widths the LoRA rank bound needs come without reading the weights (a ViT-L file is
 * 1.2 GB). Names are timm's or Hugging Face transformers' (src/core/model/hfNames.ts).
 */
export interface ModelFacts {
  /** Embedding width D. */
  dim: number;
  /** MLP hidden width. */
  mlpDim: number;
  depth: number;
  patchSize: number;
  /** Elements over all tensors of the file. */
  parameters: number;
  tensors: number;
}

/** Reads only the header of a safetensors file; throws naming the file (the caller adds the JSON path). */
export async function readModelHeader(file: string): Promise<{ tensors: Record<string, { dtype: string; shape: number[] }>; metadata: Record<string, string> }> {
  const { handle, size } = await openRegularFile(file, { what: "safetensors model file" });
  // Each read is time-bound like readRegularFile's (a dead network mount must not hang a start).
  const read = (buf: Buffer, at: number, n: number, pos: number) => withStallTimeout(handle.read(buf, at, n, pos), defaultStallMs(), file);
  try {
    const head = Buffer.alloc(8);
    const { bytesRead } = await read(head, 0, 8, 0);
    if (bytesRead < 8) return readSafetensorsHeader(head.subarray(0, bytesRead), file, size);
    const len = head.readBigUInt64LE(0);
    // Let the parser word the errors (too long, past the end); read no more than it can accept.
    const want = len > BigInt(MAX_HEADER_BYTES) || Number(len) + 8 > size ? 8 : 8 + Number(len);
    const bytes = Buffer.alloc(want);
    head.copy(bytes, 0, 0, 8);
    if (want > 8 && (await read(bytes, 8, want - 8, 8)).bytesRead !== want - 8) throw new Error(`${file}: the file shrank while its header was read`);
    return readSafetensorsHeader(bytes, file, size);
  } finally {
    await handle.close();
  }
}

/** The first tensor whose name, without a `vit.` prefix, is one of `names`. */
function find(tensors: Record<string, { shape: number[] }>, names: string[]): { name: string; shape: number[] } | undefined {
  for (const [name, t] of Object.entries(tensors)) {
    if (names.includes(name.replace(/^vit\./, ""))) return { name, shape: t.shape };
  }
  return undefined;
}

/** Widths of a ViT from its header's shapes; an error names the tensor that is missing or odd. */
export function modelFactsFromHeader(tensors: Record<string, { shape: number[] }>, file: string): ModelFacts {
  const patch = find(tensors, ["patch_embed.proj.weight", "embeddings.patch_embeddings.projection.weight"]);
  if (!patch) throw new Error(`${file}: no patch embedding tensor ("patch_embed.proj.weight" in timm naming); not a ViT checkpoint`);
  if (patch.shape.length !== 4 || patch.shape[2] !== patch.shape[3]) {
    throw new Error(`${file}: tensor "${patch.name}" has shape [${patch.shape}], expected [D, 3, P, P]`);
  }
  const fc1 = find(tensors, ["blocks.0.mlp.fc1.weight", "encoder.layer.0.intermediate.dense.weight"]);
  if (!fc1 || fc1.shape.length !== 2) throw new Error(`${file}: no first-block MLP tensor ("blocks.0.mlp.fc1.weight" in timm naming) of rank 2`);
  const blocks = new Set<string>();
  for (const name of Object.keys(tensors)) {
    const m = /(?:^|\.)(?:blocks|encoder\.layer)\.(\d+)\./.exec(name);
    if (m) blocks.add(m[1]);
  }
  let parameters = 0;
  for (const t of Object.values(tensors)) parameters += t.shape.reduce((a, b) => a * b, 1);
  return { dim: patch.shape[0], mlpDim: fc1.shape[0], depth: blocks.size, patchSize: patch.shape[2], parameters, tensors: Object.keys(tensors).length };
}
