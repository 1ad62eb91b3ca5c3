/**
 * Which attack names and suites the registry (registry.ts, presets.ts) accepts, checked without
 * loading TensorFlow.js: the editor's config diagnostics use it (src/extension/configProblems.ts)
 * so an unknown attack is an error before the daemon sees it. test/core/attacks/attackNames.test.ts
 * checks it agrees with resolveAttack on every KNOWN_ATTACKS form and every preset.
 */

/** Suite names of evaluation.attacks / training.validationAttack ("auto" picks one by n). */
export const ATTACK_SUITES = ["auto", "quick", "standard", "full"] as const;

const FORMS: ReadonlyArray<{ re: RegExp; budget?: number }> = [
  { re: /^fgsm$/ },
  { re: /^(?:pgd|cw)-(\d+)$/, budget: 1 },
  { re: /^apgd-(?:ce|dlr|t)(?:-(\d+))?$/, budget: 1 },
  { re: /^square(?:-(\d+))?$/, budget: 1 },
  { re: /^fab-t(?:-(\d+))?$/, budget: 1 },
];

const MAX_BUDGET = 1_000_000;

/** Why `name` is not an attack the registry knows, or undefined when it is. */
export function attackNameError(name: string): string | undefined {
  const n = name.trim().toLowerCase();
  for (const f of FORMS) {
    const m = f.re.exec(n);
    if (!m) continue;
    const b = f.budget !== undefined ? m[f.budget] : undefined;
    if (b !== undefined && !(Number.isInteger(Number(b)) && Number(b) >= 1 && Number(b) <= MAX_BUDGET)) {
      return `attack "${name}": budget must be an integer in [1, ${MAX_BUDGET}], got "${b}"`;
    }
    return undefined;
  }
  return `unknown attack "${name}"; known: fgsm, pgd-<steps>, cw-<steps>, apgd-ce[-<steps>], apgd-dlr[-<steps>], apgd-t[-<steps>], fab-t[-<steps>], square[-<queries>]`;
}

/** Errors of a suite spec: a suite name or a comma list of attack names. "auto" is only
 * evaluation.attacks' (src/daemon/engine/evaluateRun.ts defaultSuite); validation has no n rule. */
export function attackListErrors(spec: string, allowAuto = true): string[] {
  const t = spec.trim();
  if ((ATTACK_SUITES as readonly string[]).includes(t) && (allowAuto || t !== "auto")) return [];
  const names = t.split(",").map((s) => s.trim()).filter(Boolean);
  if (names.length === 0) return [`"${spec}" names no attack; use a suite (${ATTACK_SUITES.join(", ")}) or a comma list`];
  return names.map(attackNameError).filter((e): e is string => e !== undefined);
}
