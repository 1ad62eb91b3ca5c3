/**
 * A number given as a fraction string ("8/255") or a plain number, the one parser for eps, step
 * sizes and every other fraction a user writes (config, CLI flags, run files). The text is kept
 * exactly as written, whitespace removed, so reports show what the user wrote (docs/method.md,
 * "Evaluation": reports record eps as the exact fraction); the value is what the math uses.
 */
export interface Fraction {
  value: number;
  /** As written (whitespace removed), e.g. "8/255", "0.031" or "3e-2". */
  text: string;
}

/** A non-negative decimal: "8", "0.5", ".5", "5.", "1e-2". */
const NUMBER = /^(?:\d+(?:\.\d*)?|\.\d+)(?:e[+-]?\d+)?$/i;

/** Parses "8/255", "0.03", ".5", "1e-2" or 0.03; `where` names the field in errors. */
export function parseFraction(v: string | number, where: string): Fraction {
  if (typeof v === "number") {
    if (!Number.isFinite(v)) throw new Error(`${where}: expected a finite number, got ${v}`);
    return { value: v, text: String(v) };
  }
  const text = String(v).replace(/\s+/g, "");
  const parts = text.split("/");
  if (parts.length > 2 || !parts.every((p) => NUMBER.test(p))) {
    throw new Error(`${where}: expected a number or a fraction like "8/255", got "${v}"`);
  }
  const den = parts.length === 2 ? Number(parts[1]) : 1;
  if (den === 0) throw new Error(`${where}: division by zero in "${v}"`);
  return { value: Number(parts[0]) / den, text };
}
