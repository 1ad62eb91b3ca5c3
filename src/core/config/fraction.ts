/** A number given as a fraction string ("8/255") or a plain number, kept exactly for reports. */
export interface Fraction {
  value: number;
  text: string;
}

/** Parses "8/255", "0.03" or 0.03; `where` names the field in errors. */
export function parseFraction(v: string | number, where: string): Fraction {
  if (typeof v === "number") {
    if (!Number.isFinite(v)) throw new Error(`${where}: expected a finite number, got ${v}`);
    return { value: v, text: String(v) };
  }
  const m = /^\s*(\d+(?:\.\d+)?)\s*(?:\/\s*(\d+(?:\.\d+)?)\s*)?$/.exec(v);
  if (!m) throw new Error(`${where}: expected a number or a fraction like "8/255", got "${v}"`);
  const num = Number(m[1]);
  const den = m[2] === undefined ? 1 : Number(m[2]);
  if (den === 0) throw new Error(`${where}: division by zero in "${v}"`);
  return { value: num / den, text: m[2] === undefined ? m[1] : `${m[1]}/${m[2]}` };
}
