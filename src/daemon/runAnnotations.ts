// A run's annotations: the display name, tags and note a person gives it (issue 14 item 3),
// kept in the run folder as annotations.json beside run.json (docs/architecture.md, "The run
// folder"). Only the extension writes the file, for daemon-owned and CLI runs alike; the daemon
// never writes it (its manifest is run.json, src/daemon/runStore.ts) and only passes it on to
// readers. A bad file is reported as a problem string and ignored, so a hand edit can never
// hide a run from the tree. Every write is temp file + rename (src/core/io/files.ts).
import * as fs from "node:fs/promises";
import * as path from "node:path";
import { writeFileAtomic } from "../core/io/files";
import type { RunAnnotations } from "../protocol/runs";

export const ANNOTATIONS_FILE = "annotations.json";
export const ANNOTATIONS_VERSION = 1;

/** Lengths in characters. A tag is one word (no whitespace or comma: the input splits on them). */
export const ANNOTATION_LIMITS = { displayName: 120, tag: 40, tags: 32, note: 8000 } as const;

/** Larger files are refused before reading (a note at its limit is about 32 KiB as JSON). */
const MAX_FILE_BYTES = 64 * 1024;

const TAG = /^[^\s,]+$/;

/** No label, no tags, no note: the file is removed rather than written. */
export function isEmptyAnnotations(a: RunAnnotations): boolean {
  return a.displayName === undefined && a.tags.length === 0 && a.note === undefined;
}

/**
 * Checks a parsed annotations object; the error names `where` and the JSON path. Unknown keys
 * are ignored so a newer writer's extra fields do not make an older reader drop the file.
 */
export function checkAnnotations(v: unknown, where: string): RunAnnotations {
  const fail = (at: string, want: string): never => {
    throw new Error(`${where}: ${at} must be ${want}`);
  };
  if (typeof v !== "object" || v === null || Array.isArray(v)) fail("the file", "a JSON object");
  const o = v as Record<string, unknown>;
  if (o.version !== undefined && o.version !== ANNOTATIONS_VERSION) fail("/version", `${ANNOTATIONS_VERSION} (it is ${JSON.stringify(o.version)}: written by another HyperAT version?)`);
  const out: RunAnnotations = { tags: [] };
  if (o.displayName !== undefined) {
    const d = o.displayName;
    if (typeof d !== "string" || d.trim() === "" || /[\r\n]/.test(d) || d.length > ANNOTATION_LIMITS.displayName) {
      fail("/displayName", `one line of 1 to ${ANNOTATION_LIMITS.displayName} characters`);
    }
    out.displayName = d as string;
  }
  if (o.tags !== undefined) {
    if (!Array.isArray(o.tags) || o.tags.length > ANNOTATION_LIMITS.tags) fail("/tags", `an array of at most ${ANNOTATION_LIMITS.tags} tags`);
    (o.tags as unknown[]).forEach((t, i) => {
      if (typeof t !== "string" || !TAG.test(t) || t.length > ANNOTATION_LIMITS.tag) fail(`/tags/${i}`, `a word of 1 to ${ANNOTATION_LIMITS.tag} characters without spaces or commas`);
    });
    out.tags = [...new Set(o.tags as string[])];
  }
  if (o.note !== undefined) {
    if (typeof o.note !== "string" || o.note.length > ANNOTATION_LIMITS.note) fail("/note", `a string of at most ${ANNOTATION_LIMITS.note} characters`);
    if ((o.note as string).trim() !== "") out.note = o.note as string;
  }
  return out;
}

/** What a person typed, tidied: a label and note trimmed (blank clears them), tags deduplicated. */
export function normalizeAnnotations(a: Partial<RunAnnotations>): RunAnnotations {
  const displayName = a.displayName?.trim();
  const note = a.note?.trim();
  return {
    ...(displayName ? { displayName } : {}),
    tags: [...new Set((a.tags ?? []).map((t) => t.trim()).filter((t) => t !== ""))],
    ...(note ? { note } : {}),
  };
}

/** The run folder's annotations; `problem` says why a present file was ignored. */
export async function readRunAnnotations(dir: string): Promise<{ annotations?: RunAnnotations; problem?: string }> {
  const file = path.join(dir, ANNOTATIONS_FILE);
  const st = await fs.lstat(file).catch((e: NodeJS.ErrnoException) => (e.code === "ENOENT" ? undefined : e));
  if (st === undefined) return {};
  if (st instanceof Error) return { problem: `${file}: cannot read: ${(st as NodeJS.ErrnoException).code ?? st.message}` };
  if (!st.isFile()) return { problem: `${file}: not a regular file (a link or a folder); ignored` };
  if (st.size > MAX_FILE_BYTES) return { problem: `${file}: ${st.size} bytes, over the ${MAX_FILE_BYTES}-byte limit; ignored` };
  try {
    const text = await fs.readFile(file, "utf8");
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (e) {
      throw new Error(`${file}: not valid JSON: ${(e as Error).message}`);
    }
    const annotations = checkAnnotations(parsed, file);
    return isEmptyAnnotations(annotations) ? {} : { annotations };
  } catch (e) {
    return { problem: (e as Error).message };
  }
}

/**
 * Writes the annotations (tidied and checked first, so what is written reads back), or removes
 * the file when nothing is left. Returns what was stored.
 */
export async function writeRunAnnotations(dir: string, a: Partial<RunAnnotations>): Promise<RunAnnotations> {
  const file = path.join(dir, ANNOTATIONS_FILE);
  const tidy = normalizeAnnotations(a);
  const checked = checkAnnotations(tidy, file);
  // writeFileAtomic creates missing folders: a deleted or archived run must not come back as a
  // folder holding only annotations. run.json is runStore.ts's MANIFEST_FILE (not imported:
  // runStore.ts imports this file).
  if (!(await fs.stat(path.join(dir, "run.json")).catch(() => undefined))?.isFile()) {
    throw new Error(`cannot write ${file}: ${dir} is not a run folder any more (no run.json; deleted or archived?)`);
  }
  if (isEmptyAnnotations(checked)) {
    await fs.rm(file, { force: true });
    return checked;
  }
  const text = JSON.stringify({ version: ANNOTATIONS_VERSION, ...checked }, null, 2) + "\n";
  try {
    await writeFileAtomic(file, text);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e;
    // A daemon adopting the run removes every *.tmp in its folder (runStore.ts removeStaleTempFiles),
    // this write's temp file included, since it cannot tell it from a crash's: write it again.
    await writeFileAtomic(file, text);
  }
  return checked;
}

/**
 * Replaces the fields present in `patch` (an empty string or list clears one) and keeps the
 * others. An unreadable file counts as empty: the caller warns before replacing it.
 */
export async function updateRunAnnotations(dir: string, patch: Partial<RunAnnotations>): Promise<RunAnnotations> {
  const current = (await readRunAnnotations(dir)).annotations ?? { tags: [] };
  return writeRunAnnotations(dir, { ...current, ...patch });
}
