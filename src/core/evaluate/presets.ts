/**
 * Attack suites by name. `standard` mirrors AutoAttack's "standard" version for L-inf
 * (APGD-CE, APGD-T with 9 targets, FAB-T with 9 targets, Square with 5000 queries, in that
 * order; Croce & Hein 2020); `quick` is the PGD-20 / CW-20 pair common in AT papers;
 * `full` runs everything. A comma list like "pgd-50,apgd-ce-20,square-1000" is a custom suite.
 */
import { KNOWN_ATTACKS, resolveAttack, AttackRunner } from "../attacks/registry";

export const PRESETS = {
  quick: ["pgd-20", "cw-20"],
  standard: ["apgd-ce", "apgd-t", "fab-t", "square"],
  full: ["fgsm", "pgd-20", "cw-20", "apgd-ce", "apgd-t", "fab-t", "square"],
} as const satisfies Record<string, readonly string[]>;

export type PresetName = keyof typeof PRESETS;

/** Preset name or comma list → canonical attack names, validated, duplicates dropped. */
export function resolveAttackList(spec: string): string[] {
  const trimmed = spec.trim();
  if (trimmed in PRESETS) return [...PRESETS[trimmed as PresetName]];
  const names = trimmed.split(",").map((s) => s.trim()).filter((s) => s !== "");
  if (names.length === 0) throw new Error(`attacks: "${spec}" names no attack; use a preset (${Object.keys(PRESETS).join(", ")}) or a comma list`);
  const out: string[] = [];
  for (const name of names) {
    let runner: AttackRunner;
    try {
      runner = resolveAttack(name);
    } catch {
      throw new Error(`attacks: unknown attack "${name}" in "${spec}"; known: ${KNOWN_ATTACKS.join(", ")}; presets: ${Object.keys(PRESETS).join(", ")}`);
    }
    if (!out.includes(runner.name)) out.push(runner.name);
  }
  return out;
}
