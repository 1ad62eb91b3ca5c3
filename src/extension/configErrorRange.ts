// Where in a *.hyperat.json a daemon error belongs (issue 16 item 4: "turn every error the daemon
// returns for a config into a diagnostic at its JSON path, with the full text available").
// The daemon's InvalidConfig/MissingFile errors carry an RFC 6901 pointer (src/protocol/errors.ts);
// this finds the value it points to, or the nearest enclosing value that exists (a missing
// property is reported at its parent object). Pure over the text for node:test.
// The ESM build: esbuild cannot bundle the UMD main (it requires "./impl/format" dynamically).
import { findNodeAtLocation, parseTree, type Node } from "jsonc-parser/lib/esm/main.js";

export interface ErrorRange {
  offset: number;
  length: number;
  /** The pointer actually located (a prefix of the one given when its tail does not exist). */
  located: string;
}

/** "/defenses/0/name" → ["defenses", 0, "name"]; "~1" and "~0" unescaped as RFC 6901 says. */
export function pointerSegments(pointer: string): Array<string | number> {
  if (pointer === "" || pointer === "/") return [];
  return pointer.replace(/^\//, "").split("/").map((s) => {
    const key = s.replace(/~1/g, "/").replace(/~0/g, "~");
    return /^(0|[1-9]\d*)$/.test(key) ? Number(key) : key;
  });
}

function segmentsPointer(segs: Array<string | number>): string {
  return segs.length ? `/${segs.map((s) => String(s).replace(/~/g, "~0").replace(/\//g, "~1")).join("/")}` : "";
}

/** A property's value node is underlined; the whole document when nothing matches (first line). */
export function errorRange(text: string, pointer: string | undefined): ErrorRange {
  const root = parseTree(text);
  if (!root) return { offset: 0, length: 0, located: "" };
  const segs = pointerSegments(pointer ?? "");
  for (let n = segs.length; n > 0; n--) {
    const node = findNodeAtLocation(root, segs.slice(0, n));
    if (node) return { ...span(node, n < segs.length), located: segmentsPointer(segs.slice(0, n)) };
  }
  return { offset: root.offset, length: Math.min(1, root.length), located: "" };
}

/** A parent that lacks the named child: underline its key (or its opening brace), not all of it. */
function span(node: Node, parentOnly: boolean): { offset: number; length: number } {
  if (!parentOnly) return { offset: node.offset, length: node.length };
  const key = node.parent?.type === "property" ? node.parent.children?.[0] : undefined;
  return key ? { offset: key.offset, length: key.length } : { offset: node.offset, length: 1 };
}
