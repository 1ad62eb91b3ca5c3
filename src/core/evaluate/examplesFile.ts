/**
 * examples.safetensors: a few dozen test images of an evaluation as the attacks left them, per
 * evaluated model, written next to report.json so the dashboard can show clean vs adversarial
 * images (src/extension/exampleStrip.ts). A plain safetensors file, readable with
 * `safetensors.numpy.load_file`:
 *
 *   clean                 U8  [k, H, W, 3]   test images, value·255 rounded
 *   labels, indices       I32 [k]            true label, index in the test split
 *   <target>.adversarial  U8  [k, H, W, 3]   the image the attack produced (see EvalExamples)
 *   <target>.clean_pred   I32 [k]            the model's prediction on the clean image
 *   <target>.adv_pred     I32 [k]            ... and on the adversarial one
 *
 * `__metadata__`: format, version, eps, attacks (JSON list), models (JSON list of
 * {target, name, brokenBy}), step. U8 rounds the perturbation to 1/255 steps: eps 8/255 keeps
 * 17 levels, enough to look at, and the file stays small at 224 px.
 */
import type { SafetensorsContents, TensorToWrite } from "../io/safetensors";
import type { EvalExamples } from "./evaluator";

export const EXAMPLES_FILE = "examples.safetensors";
export const EXAMPLES_FORMAT = "hyperat-adversarial-examples";
/** How many test images an evaluation keeps per model, at most. */
export const EXAMPLES_KEPT = 24;
/** ... and the file's image bytes at most: 24 at 32 px, 7 at 224 px with 6 models
 * (bench/exampleStrip.ts: at 224 px 24 images of 6 models are 24 MiB and 12 s of PNG encoding). */
export const EXAMPLES_MAX_BYTES = 8 * 2 ** 20;

/** Examples to keep per model for `models` models of H×W images (at least 1). */
export function examplesToKeep(height: number, width: number, models: number, n: number): number {
  const perExample = height * width * 3 * (models + 1); // U8: the clean image plus one per model
  return Math.max(1, Math.min(EXAMPLES_KEPT, n, Math.floor(EXAMPLES_MAX_BYTES / perExample)));
}

export interface ModelExamples {
  target: string;
  name: string;
  examples: EvalExamples;
}

export interface ExamplesInput {
  /** NHWC in [0,1] of the first k test images, and their labels. */
  clean: Float32Array;
  labels: ArrayLike<number>;
  eps: string;
  attacks: string[];
  step: number;
  models: ModelExamples[];
}

/** The decoded file: images back in [0,1] floats. */
export interface ExamplesDocument {
  k: number;
  height: number;
  width: number;
  eps: string;
  attacks: string[];
  step: number;
  clean: Float32Array;
  labels: number[];
  indices: number[];
  models: Array<{ target: string; name: string; adversarial: Float32Array; cleanPred: number[]; advPred: number[]; brokenBy: Array<string | null> }>;
}

const toU8 = (x: Float32Array) => Uint8Array.from(x, (v) => Math.round(Math.min(1, Math.max(0, v)) * 255));

/** Tensors and metadata for writeSafetensorsFile; every model must hold the same k images. */
export function examplesTensors(input: ExamplesInput): { tensors: Record<string, TensorToWrite>; metadata: Record<string, string> } {
  const first = input.models[0]?.examples;
  if (!first) throw new Error(`${EXAMPLES_FILE}: no model kept examples`);
  const { height: h, width: w } = first;
  const k = first.indices.length;
  const size = h * w * 3;
  if (input.clean.length !== k * size) throw new Error(`${EXAMPLES_FILE}: clean images have ${input.clean.length} values, expected ${k}×${h}×${w}×3`);
  const tensors: Record<string, TensorToWrite> = {
    clean: { shape: [k, h, w, 3], data: toU8(input.clean) },
    labels: { shape: [k], data: Int32Array.from({ length: k }, (_, i) => input.labels[i]) },
    indices: { shape: [k], data: Int32Array.from(first.indices) },
  };
  for (const m of input.models) {
    const e = m.examples;
    if (e.indices.length !== k || e.height !== h || e.width !== w || e.adversarial.length !== k * size) {
      throw new Error(`${EXAMPLES_FILE}: model ${m.target} kept ${e.indices.length} examples of ${e.height}×${e.width}, expected ${k} of ${h}×${w}`);
    }
    tensors[`${m.target}.adversarial`] = { shape: [k, h, w, 3], data: toU8(e.adversarial) };
    tensors[`${m.target}.clean_pred`] = { shape: [k], data: Int32Array.from(e.cleanPred) };
    tensors[`${m.target}.adv_pred`] = { shape: [k], data: Int32Array.from(e.advPred) };
  }
  const metadata = {
    format: EXAMPLES_FORMAT,
    version: "1",
    eps: input.eps,
    attacks: JSON.stringify(input.attacks),
    step: String(input.step),
    models: JSON.stringify(input.models.map((m) => ({ target: m.target, name: m.name, brokenBy: m.examples.brokenBy }))),
  };
  return { tensors, metadata };
}

/** Checks and decodes a parsed examples.safetensors; errors name the file and the tensor. */
export function parseExamples(contents: SafetensorsContents, where: string): ExamplesDocument {
  const md = contents.metadata;
  if (md.format !== EXAMPLES_FORMAT) throw new Error(`${where}: __metadata__.format is ${JSON.stringify(md.format)}, expected "${EXAMPLES_FORMAT}"`);
  const tensor = (name: string, rank: number) => {
    const t = contents.tensors[name];
    if (!t) throw new Error(`${where}: tensor "${name}" is missing`);
    if (t.shape.length !== rank) throw new Error(`${where}: tensor "${name}" has shape [${t.shape.join(", ")}], expected rank ${rank}`);
    return t;
  };
  const clean = tensor("clean", 4);
  const [k, height, width, c] = clean.shape;
  if (c !== 3) throw new Error(`${where}: tensor "clean" has shape [${clean.shape.join(", ")}], expected [k, H, W, 3]`);
  const vector = (name: string) => {
    const t = tensor(name, 1);
    if (t.shape[0] !== k) throw new Error(`${where}: tensor "${name}" has ${t.shape[0]} values, expected ${k}`);
    return Array.from(t.data);
  };
  const json = <T>(key: string, check: (v: unknown) => v is T): T => {
    let v: unknown;
    try {
      v = JSON.parse(md[key] ?? "");
    } catch {
      throw new Error(`${where}: __metadata__.${key} is not JSON`);
    }
    if (!check(v)) throw new Error(`${where}: __metadata__.${key} has the wrong shape`);
    return v;
  };
  const isModels = (v: unknown): v is Array<{ target: string; name: string; brokenBy: Array<string | null> }> =>
    Array.isArray(v) && v.every((m) => typeof m?.target === "string" && typeof m?.name === "string" && Array.isArray(m?.brokenBy) && m.brokenBy.length === k && m.brokenBy.every((b: unknown) => b === null || typeof b === "string"));
  const isStrings = (v: unknown): v is string[] => Array.isArray(v) && v.every((x) => typeof x === "string");
  const scale = (x: Float32Array) => Float32Array.from(x, (v) => v / 255);
  const models = json("models", isModels).map((m) => {
    const adv = tensor(`${m.target}.adversarial`, 4);
    if (adv.shape.join() !== clean.shape.join()) throw new Error(`${where}: tensor "${m.target}.adversarial" has shape [${adv.shape.join(", ")}], expected [${clean.shape.join(", ")}]`);
    return { target: m.target, name: m.name, adversarial: scale(adv.data), cleanPred: vector(`${m.target}.clean_pred`), advPred: vector(`${m.target}.adv_pred`), brokenBy: m.brokenBy };
  });
  return {
    k, height, width,
    eps: md.eps ?? "",
    attacks: json("attacks", isStrings),
    step: Number.isFinite(Number(md.step)) ? Number(md.step) : 0,
    clean: scale(clean.data),
    labels: vector("labels"),
    indices: vector("indices"),
    models,
  };
}
