import { parseFraction, type Fraction } from "../config/fraction";

/**
 * The L-inf radius as users write it: a fraction "8/255" or a decimal (string or number), parsed
 * by the one fraction parser (src/core/config/fraction.ts). The exact text is kept for reports
 * (docs/method.md: eps is stored and reported exactly), the value is what attacks use. Pixels
 * live in [0,1], so eps must be in (0, 1].
 */
export type Eps = Fraction;

export function parseEps(input: string | number | Eps, where = "eps"): Eps {
  if (typeof input === "object" && input !== null) return parseEps(input.text, where);
  const { value, text } = parseFraction(input, where);
  if (!(value > 0 && value <= 1)) {
    const hint = value > 1 && value <= 255 ? ` (pixels are in [0,1]; did you mean "${text}/255"?)` : "";
    throw new Error(`${where}: "${text}" = ${value} must be in (0, 1]${hint}`);
  }
  return { value, text };
}
