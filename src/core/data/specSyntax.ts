/**
 * The syntax of a data spec ("synthetic:shapes10?n=8", "data/cifar?n=100&format=cifar10"; the
 * forms are listed in spec.ts), without touching the file system: the engine's loader
 * (spec.ts) and the editor's config checks (src/extension/configProblems.ts) read a spec the
 * same way from here.
 */
export interface ParsedSpec {
  kind: "synthetic" | "path";
  /** Generator name (synthetic) or the path as written. */
  target: string;
  params: Record<string, string>;
}

export function parseDataSpec(spec: string): ParsedSpec {
  const q = spec.indexOf("?");
  const head = q >= 0 ? spec.slice(0, q) : spec;
  const params: Record<string, string> = {};
  if (q >= 0) {
    for (const [k, v] of new URLSearchParams(spec.slice(q + 1))) {
      if (k in params) throw new Error(`data spec "${spec}": parameter "${k}" is given twice`);
      params[k] = v;
    }
  }
  if (head.startsWith("synthetic:")) return { kind: "synthetic", target: head.slice("synthetic:".length), params };
  if (head.trim() === "") throw new Error(`data spec "${spec}": empty path`);
  return { kind: "path", target: head, params };
}

/** The file-system path a spec names (query removed), or undefined for a synthetic spec. */
export function dataSpecPath(spec: string): string | undefined {
  const p = parseDataSpec(spec);
  return p.kind === "path" ? p.target : undefined;
}
