import * as tf from "@tensorflow/tfjs";
import { ViTConfig, HALF, validateConfig } from "./config";
import { ParamMap, paramShapes, checkParams } from "./params";
import { RawTensor, engineToTimm, timmToEngine, timmShapeOf, PATCH_WEIGHT } from "./timmLayout";
import { looksLikeHfVit, hfToTimm } from "./hfNames";
import { resizePatchKernel, resizePosEmbed } from "./resize";
import { readSafetensorsFile, writeSafetensorsFile } from "../io/files";
import type { ModelHints } from "./timmConfig";

/**
 * Model files: timm-named, timm-layout safetensors plus `__metadata__` (docs/model-files.md).
 * Loading also accepts Hugging Face transformers ViT names, infers the architecture from tensor
 * shapes and adapts the checkpoint to the requested image size, patch size and class count.
 */

export const MODEL_FORMAT = "hyperat-vit";

export interface LoadOverrides {
  /** Target input side; the position-embedding grid is resized when it differs. */
  imgSize?: number;
  /** Target patch side; the patch kernel is resampled when it differs. */
  patchSize?: number;
  /** Target class count; a new zero head replaces the file's when it differs or is missing. */
  numClasses?: number;
  /** Used when the file has no `num_heads` metadata (else head_dim 64). */
  heads?: number;
  /** Pixel normalization; overrides the file's metadata (default 0.5). */
  mean?: [number, number, number];
  std?: [number, number, number];
  /** Load weights that hold NaN or ±Inf (deliberate research on broken models) instead of
   * refusing the file; a warning naming each such tensor goes into `notes`. Default false. */
  allowNonFinite?: boolean;
  /**
   * A `config.json` beside the weights (timm local-dir, Hub snapshot): fills heads, mean and std
   * where `__metadata__` is silent and must agree with the tensor shapes (modelSource.ts).
   */
  hints?: ModelHints;
}

export interface LoadedModel {
  config: ViTConfig;
  params: ParamMap;
  metadata: Record<string, string>;
  /** What was mapped, inferred, resized or replaced, for logs and reports. */
  notes: string[];
}

/** `__metadata__` of a model file: structural keys win over `extra` (provenance). */
export function modelMetadata(c: ViTConfig, extra: Record<string, string> = {}): Record<string, string> {
  return {
    ...extra,
    format: MODEL_FORMAT,
    format_version: "1",
    num_heads: String(c.heads),
    mean: JSON.stringify(c.mean),
    std: JSON.stringify(c.std),
    img_size: String(c.imgSize),
    patch_size: String(c.patchSize),
    num_classes: String(c.numClasses),
    mlp_dim: String(c.mlpDim),
    dim: String(c.dim),
    depth: String(c.depth),
  };
}

/** Engine params → timm-layout raw tensors (async reads; no tensors are created). */
export async function paramsToTimm(c: ViTConfig, params: ParamMap): Promise<Record<string, RawTensor>> {
  checkParams(c, params, "saveModelFile");
  const out: Record<string, RawTensor> = {};
  for (const [name] of paramShapes(c)) {
    const t = params[name];
    const data = (await t.data()) as Float32Array;
    out[name] = engineToTimm(name, { shape: t.shape, data: Float32Array.from(data) }, c.inChans);
  }
  return out;
}

export async function saveModelFile(file: string, c: ViTConfig, params: ParamMap, extraMetadata: Record<string, string> = {}): Promise<void> {
  await writeSafetensorsFile(file, await paramsToTimm(c, params), modelMetadata(c, extraMetadata));
}

export async function loadModelFile(file: string, overrides: LoadOverrides = {}): Promise<LoadedModel> {
  const { tensors, metadata } = await readSafetensorsFile(file);
  const { config, raw, notes } = modelFromTensors(tensors, metadata, overrides, file);
  const params: ParamMap = {};
  for (const [name, t] of Object.entries(raw)) params[name] = tf.tensor(t.data, t.shape);
  return { config, params, metadata, notes };
}

// ---------------------------------------------------------------------------------------------

/**
 * A model with NaN/Inf weights evaluates to chance and trains to NaN, with symptoms that point
 * elsewhere (issue 17): refuse it naming the tensor, unless the caller allows it on purpose.
 */
export function checkFinite(tensors: Record<string, RawTensor>, where: string, allow: boolean, notes: string[]): void {
  for (const [name, t] of Object.entries(tensors)) {
    let count = 0;
    let first = -1;
    for (let i = 0; i < t.data.length; i++) {
      if (!Number.isFinite(t.data[i])) {
        if (count++ === 0) first = i;
      }
    }
    if (count === 0) continue;
    const what = `tensor "${name}" [${t.shape}] has ${count} non-finite value${count > 1 ? "s" : ""} (first at flat index ${first}: ${t.data[first]})`;
    if (!allow) throw new Error(`${where}: ${what}; refusing to load it (allow it on purpose with --allow-nonfinite or "model": {"allowNonFinite": true})`);
    notes.push(`WARNING: ${what}; loaded anyway because non-finite weights were allowed`);
  }
}

/** A config.json that describes another model than the weights is an error, not a guess. */
function checkHints(h: ModelHints, inf: Inferred, where: string): void {
  const pairs: Array<[string, number | undefined, number | undefined]> = [
    ["embed_dim", h.dim, inf.dim],
    ["depth", h.depth, inf.depth],
    ["patch_size", h.patchSize, inf.patch],
    ["num_classes", h.numClasses, inf.fileClasses],
  ];
  for (const [field, said, has] of pairs) {
    if (said !== undefined && has !== undefined && said !== has) throw new Error(`${h.where} says ${field} ${said} but ${where} has ${has} (the config.json belongs to another model)`);
  }
}

function shapeEq(a: number[], b: number[]): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

function need(t: Record<string, RawTensor>, name: string, rank: number, where: string): RawTensor {
  const x = t[name];
  if (!x) throw new Error(`${where}: missing tensor "${name}"`);
  if (x.shape.length !== rank) throw new Error(`${where}: tensor "${name}" has shape [${x.shape}], expected rank ${rank}`);
  return x;
}

function metaInt(meta: Record<string, string>, key: string, where: string): number | undefined {
  if (meta[key] === undefined) return undefined;
  const v = Number(meta[key]);
  if (!Number.isInteger(v) || v <= 0) throw new Error(`${where}: __metadata__.${key} = ${JSON.stringify(meta[key])} is not a positive integer`);
  return v;
}

function metaTriple(meta: Record<string, string>, key: string, where: string): [number, number, number] | undefined {
  if (meta[key] === undefined) return undefined;
  let v: unknown;
  try {
    v = JSON.parse(meta[key]);
  } catch {
    v = undefined;
  }
  if (!Array.isArray(v) || v.length !== 3 || !v.every((x) => typeof x === "number" && Number.isFinite(x))) {
    throw new Error(`${where}: __metadata__.${key} = ${JSON.stringify(meta[key])} is not a JSON array of 3 numbers`);
  }
  return v as [number, number, number];
}

interface Inferred {
  dim: number;
  depth: number;
  mlpDim: number;
  patch: number;
  grid: number;
  inChans: number;
  fileClasses?: number;
}

/** Architecture from timm-named tensor shapes. */
function inferShapes(t: Record<string, RawTensor>, where: string): Inferred {
  const pw = need(t, PATCH_WEIGHT, 4, where);
  const [dim, inChans, patch, patch2] = pw.shape;
  if (patch !== patch2) throw new Error(`${where}: tensor "${PATCH_WEIGHT}" has shape [${pw.shape}], expected square [D, C, P, P]`);
  const pos = need(t, "pos_embed", 3, where);
  const grid = Math.round(Math.sqrt(pos.shape[1] - 1));
  if (grid * grid + 1 !== pos.shape[1]) {
    throw new Error(`${where}: tensor "pos_embed" has shape [${pos.shape}]: ${pos.shape[1]} tokens is not 1 class token + a square grid (checkpoints without a class-token position are not supported)`);
  }
  let depth = 0;
  while (t[`blocks.${depth}.norm1.weight`]) depth++;
  if (depth === 0) throw new Error(`${where}: missing tensor "blocks.0.norm1.weight" (no transformer blocks found)`);
  const mlpDim = need(t, "blocks.0.mlp.fc1.weight", 2, where).shape[0];
  const head = t["head.weight"];
  return { dim, depth, mlpDim, patch, grid, inChans, fileClasses: head ? head.shape[0] : undefined };
}

/**
 * The ViT a file describes, adapted as `overrides` ask, from tensor shapes alone (timm names):
 * what loading builds, and what the memory plan reads from a safetensors header without data.
 */
export function configFromShapes(
  t: Record<string, { shape: number[] }>,
  metadata: Record<string, string>,
  overrides: LoadOverrides,
  where: string,
  notes: string[] = [],
): { config: ViTConfig; inf: Inferred } {
  const inf = inferShapes(t as Record<string, RawTensor>, where);
  if (inf.inChans !== 3) throw new Error(`${where}: tensor "${PATCH_WEIGHT}" has ${inf.inChans} input channels; only RGB (3) is supported`);

  const hints = overrides.hints;
  if (hints) checkHints(hints, inf, where);
  const metaHeads = metaInt(metadata, "num_heads", where);
  if (metaHeads !== undefined && overrides.heads !== undefined && overrides.heads !== metaHeads) {
    throw new Error(`${where}: heads override ${overrides.heads} contradicts __metadata__.num_heads = ${metaHeads}`);
  }
  if (metaHeads !== undefined && hints?.heads !== undefined && hints.heads !== metaHeads) {
    throw new Error(`${where}: ${hints.where} says ${hints.heads} heads but __metadata__.num_heads = ${metaHeads}`);
  }
  let heads = metaHeads ?? overrides.heads ?? hints?.heads;
  if (heads !== undefined && metaHeads === undefined && overrides.heads === undefined) notes.push(`num_heads ${heads} from ${hints!.where}`);
  if (heads === undefined) {
    if (inf.dim % 64 !== 0) throw new Error(`${where}: no num_heads metadata and width ${inf.dim} is not a multiple of 64; pass the number of heads`);
    heads = inf.dim / 64;
    notes.push(`num_heads not in metadata: assumed ${heads} (head dim 64)`);
  }
  const pick = (key: "mean" | "std"): [number, number, number] => {
    const fromMeta = metaTriple(metadata, key, where) ?? hints?.[key];
    const over = overrides[key];
    if (over && fromMeta && over.join() !== fromMeta.join()) notes.push(`${key} [${over}] overrides the file's [${fromMeta}]`);
    if (over ?? fromMeta) return (over ?? fromMeta)!;
    notes.push(`${key} not in metadata: using 0.5`);
    return HALF;
  };
  const mean = pick("mean");
  const std = pick("std");

  const patchSize = overrides.patchSize ?? inf.patch;
  const imgSize = overrides.imgSize ?? inf.grid * inf.patch;
  const numClasses = overrides.numClasses ?? inf.fileClasses;
  if (numClasses === undefined) throw new Error(`${where}: the file has no "head.weight"; pass the number of classes`);
  const config = validateConfig({ imgSize, patchSize, inChans: 3, numClasses, dim: inf.dim, depth: inf.depth, heads, mlpDim: inf.mlpDim, mean, std });

  return { config, inf };
}

/**
 * The pure part of loading: file tensors (timm or HF names, timm layout) → engine-layout raw
 * tensors for the requested config. Exposed for tests and for in-memory conversions.
 */
export function modelFromTensors(
  fileTensors: Record<string, RawTensor>,
  metadata: Record<string, string>,
  overrides: LoadOverrides,
  where: string,
): { config: ViTConfig; raw: Record<string, RawTensor>; notes: string[] } {
  const notes: string[] = [];
  checkFinite(fileTensors, where, overrides.allowNonFinite === true, notes);
  let t = fileTensors;
  if (looksLikeHfVit(Object.keys(t))) {
    const mapped = hfToTimm(t, where);
    t = mapped.tensors;
    notes.push(...mapped.notes);
  }
  const { config, inf } = configFromShapes(t, metadata, overrides, where, notes);
  const { patchSize, imgSize, numClasses } = config;

  // Check every tensor against the shapes the file's own architecture implies (before resizing).
  const fileConfig: ViTConfig = { ...config, patchSize: inf.patch, imgSize: inf.grid * inf.patch, numClasses: inf.fileClasses ?? numClasses };
  const expected = paramShapes(fileConfig);
  const known = new Set(expected.map(([n]) => n));
  const extra = Object.keys(t).filter((n) => !known.has(n));
  if (extra.length) {
    throw new Error(`${where}: unsupported tensors ${extra.slice(0, 5).map((n) => `"${n}" [${t[n].shape}]`).join(", ")}${extra.length > 5 ? ` and ${extra.length - 5} more` : ""} (this loader implements the plain class-token ViT)`);
  }
  const raw: Record<string, RawTensor> = {};
  for (const [name, engineShape] of expected) {
    const isHead = name === "head.weight" || name === "head.bias";
    if (isHead && inf.fileClasses === undefined) continue;
    const timmShape = timmShapeOf(name, engineShape);
    const x = t[name];
    if (!x) throw new Error(`${where}: missing tensor "${name}" (expected shape [${timmShape}])`);
    if (!shapeEq(x.shape, timmShape)) throw new Error(`${where}: tensor "${name}" has shape [${x.shape}], expected [${timmShape}]`);
    raw[name] = x;
  }

  // Adapt to the requested geometry, in timm layout, then convert to engine layout.
  if (patchSize !== inf.patch) {
    const w = raw[PATCH_WEIGHT];
    raw[PATCH_WEIGHT] = { shape: [inf.dim, 3, patchSize, patchSize], data: resizePatchKernel(w.data, inf.dim, 3, inf.patch, patchSize) };
    notes.push(`patch kernel resampled ${inf.patch}x${inf.patch} -> ${patchSize}x${patchSize} (FlexiViT pseudo-inverse resize)`);
  }
  const grid = imgSize / patchSize;
  if (grid !== inf.grid) {
    raw["pos_embed"] = { shape: [1, 1 + grid * grid, inf.dim], data: resizePosEmbed(raw["pos_embed"].data, inf.grid, grid, inf.dim) };
    notes.push(`position embeddings resized ${inf.grid}x${inf.grid} -> ${grid}x${grid} (antialiased bilinear, class token kept)`);
  }
  const out: Record<string, RawTensor> = {};
  for (const [name, x] of Object.entries(raw)) out[name] = timmToEngine(name, x);
  if (inf.fileClasses !== numClasses) {
    out["head.weight"] = { shape: [inf.dim, numClasses], data: new Float32Array(inf.dim * numClasses) };
    out["head.bias"] = { shape: [numClasses], data: new Float32Array(numClasses) };
    notes.push(inf.fileClasses === undefined ? `no head in the file: new zero head for ${numClasses} classes` : `head replaced: file has ${inf.fileClasses} classes, new zero head for ${numClasses}`);
  }
  return { config, raw: out, notes };
}
