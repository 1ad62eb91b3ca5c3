/**
 * The L-inf radius as users write it: a fraction "8/255" or a decimal (string or number). The
 * exact text is kept for reports (ARCHITECTURE.md: "eps ... stored and reported exactly"), the
 * value is what attacks use. Pixels live in [0,1], so eps must be in (0, 1].
 */
export interface Eps {
  value: number;
  /** As written (whitespace removed), e.g. "8/255" or "0.031". */
  text: string;
}

const NUMBER = /^(?:\d+(?:\.\d*)?|\.\d+)(?:e[+-]?\d+)?$/i;

export function parseEps(input: string | number | Eps, where = "eps"): Eps {
  if (typeof input === "object" && input !== null) return parseEps(input.text, where);
  const text = typeof input === "number" ? String(input) : String(input).replace(/\s+/g, "");
  let value: number;
  const slash = text.split("/");
  if (slash.length === 2 && NUMBER.test(slash[0]) && NUMBER.test(slash[1])) {
    const den = Number(slash[1]);
    if (den === 0) throw new Error(`${where}: "${text}" divides by zero`);
    value = Number(slash[0]) / den;
  } else if (slash.length === 1 && NUMBER.test(text)) {
    value = Number(text);
  } else {
    throw new Error(`${where}: "${input}" is not a number or a fraction like "8/255"`);
  }
  if (!(value > 0 && value <= 1)) {
    const hint = value > 1 && value <= 255 ? ` (pixels are in [0,1]; did you mean "${text}/255"?)` : "";
    throw new Error(`${where}: "${text}" = ${value} must be in (0, 1]${hint}`);
  }
  return { value, text };
}
