// What the Rename Run…, Edit Tags… and Edit Note… input boxes read and show (annotationCommands.ts):
// tags typed as words, a note that may span lines typed on one line, and the checks shown while
// typing. The limits are the file's own (src/daemon/runAnnotations.ts), so a value the box
// accepts is one the writer accepts. Pure for node:test.
import { ANNOTATION_LIMITS } from "../daemon/runAnnotations";

/** "baseline, eps8 lr-high" → ["baseline", "eps8", "lr-high"]: commas or spaces separate tags. */
export function tagsFromInput(text: string): string[] {
  return [...new Set(text.split(/[\s,]+/).filter((t) => t !== ""))];
}

export function tagsToInput(tags: readonly string[] | undefined): string {
  return (tags ?? []).join(", ");
}

/**
 * A note on one line for VS Code's single-line input box: a line break is written `\n` and a
 * backslash `\\`. Every backslash is escaped so that noteFromInput(noteToInput(x)) === x.
 */
export function noteToInput(note: string | undefined): string {
  return (note ?? "").replace(/\\/g, "\\\\").replace(/\r?\n/g, "\\n");
}

/** The inverse of noteToInput. A backslash before anything else is kept as typed, so Markdown
 * escapes such as `\*` can be written directly. */
export function noteFromInput(text: string): string {
  return text.replace(/\\(\\|n)/g, (_, c: string) => (c === "n" ? "\n" : "\\"));
}

export function displayNameProblem(text: string): string | undefined {
  const t = text.trim();
  return t.length > ANNOTATION_LIMITS.displayName ? `At most ${ANNOTATION_LIMITS.displayName} characters (this is ${t.length}).` : undefined;
}

export function tagsProblem(text: string): string | undefined {
  const tags = tagsFromInput(text);
  if (tags.length > ANNOTATION_LIMITS.tags) return `At most ${ANNOTATION_LIMITS.tags} tags (this is ${tags.length}).`;
  const long = tags.find((t) => t.length > ANNOTATION_LIMITS.tag);
  return long ? `Tag "${long.slice(0, 20)}…" is ${long.length} characters; at most ${ANNOTATION_LIMITS.tag}.` : undefined;
}

export function noteProblem(text: string): string | undefined {
  const n = noteFromInput(text).trim().length;
  return n > ANNOTATION_LIMITS.note ? `At most ${ANNOTATION_LIMITS.note} characters (this is ${n}).` : undefined;
}

/** Tags other runs use, most used first, for the input box's hint. */
export function tagsInUse(runs: ReadonlyArray<{ annotations?: { tags: readonly string[] } }>, limit = 8): string[] {
  const counts = new Map<string, number>();
  for (const r of runs) for (const t of r.annotations?.tags ?? []) counts.set(t, (counts.get(t) ?? 0) + 1);
  return [...counts.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).slice(0, limit).map(([t]) => t);
}
