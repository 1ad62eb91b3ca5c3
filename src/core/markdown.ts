// Text from users and files (run names, paths, data specs, attack descriptions, warnings) goes
// into report.md as text, never as Markdown or HTML: a name like `**x** | <img onerror=…>`
// must neither format, add a table column nor inject markup (issue 17).

/** CommonMark lets any ASCII punctuation be backslash-escaped; these are the ones with meaning
 * inside a line of inline text or a GFM table cell (emphasis, code, links and images, HTML,
 * a heading's closing #s, strikethrough, table pipes, entities, math in some renderers). Line-start
 * markers (-, +, 1.) need no escape: values never start a line. */
const SPECIAL = /[\\`*_[\]<>#!|~&$]/g;

/** `text` as literal Markdown inline text (also safe inside a GFM table cell). */
export function escapeMarkdown(text: string): string {
  return String(text).replace(/\r\n|\r|\n/g, " ").replace(SPECIAL, (c) => `\\${c}`);
}

/** `text` as an inline code span, with a fence longer than any backtick run inside it. GFM
 * table pipes still need escaping inside code spans. */
export function markdownCode(text: string, inTable = false): string {
  const flat = String(text).replace(/\r\n|\r|\n/g, " ");
  const longest = Math.max(0, ...(flat.match(/`+/g) ?? []).map((r) => r.length));
  const fence = "`".repeat(longest + 1);
  const body = inTable ? flat.replace(/\|/g, "\\|") : flat;
  const pad = body.startsWith("`") || body.endsWith("`") || longest > 0 ? " " : "";
  return `${fence}${pad}${body}${pad}${fence}`;
}

/** A GFM table: the header row, the `|---|` rule, one line per row. Cells are Markdown as given
 * (escape text with escapeMarkdown first); every report's table comes from here so none drifts. */
export function markdownTable(head: string[], rows: string[][]): string[] {
  const line = (cells: string[]) => `| ${cells.join(" | ")} |`;
  return [line(head), `|${head.map(() => "---").join("|")}|`, ...rows.map(line)];
}
