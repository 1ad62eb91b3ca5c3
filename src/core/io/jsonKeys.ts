// JSON.parse keeps the last of two equal keys without a word, so a safetensors header with two
// `__metadata__` objects (or two `num_heads`) would silently change the model (issue 17). The
// safetensors reference implementation (serde_json) refuses duplicate fields; so do we.

/**
 * The JSON pointer of the first key that appears twice in one object of `text` (keys compared
 * after unescaping, as JSON.parse compares them), or undefined. `text` must already be valid
 * JSON (call JSON.parse first): the scan only tracks strings and nesting.
 */
export function duplicateJsonKey(text: string): string | undefined {
  type Frame = { object: true; keys: Set<string>; path: string; expectKey: boolean; lastKey: string } | { object: false; path: string; index: number };
  const stack: Frame[] = [];
  const childPath = (): string => {
    const top = stack[stack.length - 1];
    if (!top) return "";
    return top.object ? `${top.path}/${escapePointer(top.lastKey)}` : `${top.path}/${top.index}`;
  };
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '"') {
      let j = i + 1;
      while (text[j] !== '"') j += text[j] === "\\" ? 2 : 1;
      const top = stack[stack.length - 1];
      if (top?.object && top.expectKey) {
        const key = JSON.parse(text.slice(i, j + 1)) as string;
        if (top.keys.has(key)) return `${top.path}/${escapePointer(key)}`;
        top.keys.add(key);
        top.lastKey = key;
        top.expectKey = false;
      }
      i = j;
    } else if (c === "{") {
      stack.push({ object: true, keys: new Set(), path: childPath(), expectKey: true, lastKey: "" });
    } else if (c === "[") {
      stack.push({ object: false, path: childPath(), index: 0 });
    } else if (c === "}" || c === "]") {
      stack.pop();
    } else if (c === ",") {
      const top = stack[stack.length - 1];
      if (top?.object) top.expectKey = true;
      else if (top) top.index++;
    }
  }
  return undefined;
}

/** RFC 6901: `~` → `~0`, `/` → `~1`. */
function escapePointer(key: string): string {
  return key.replace(/~/g, "~0").replace(/\//g, "~1");
}
