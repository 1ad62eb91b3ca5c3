import { Defense } from "./types";
import { pgdAt } from "./pgdAt";
import { trades } from "./trades";
import { mart } from "./mart";

/** Settings a defense may use (see schemas/hyperat.schema.json, /defenses/*). */
export interface DefenseSettings {
  name: string;
  beta?: number;
}

/** name → factory. A new defense is one module plus one line here (and its name in the schema enum). */
export const DEFENSES: Record<string, (s: DefenseSettings) => Defense> = {
  "pgd-at": () => pgdAt(),
  trades: (s) => trades(s.beta ?? 6),
  mart: (s) => mart(s.beta ?? 6),
};

export function makeDefense(s: DefenseSettings): Defense {
  const make = DEFENSES[s.name];
  if (!make) throw new Error(`unknown defense "${s.name}"; known: ${Object.keys(DEFENSES).join(", ")}`);
  return make(s);
}
