/**
 * Attack names → runners, as used by evaluation presets, the CLI and reports. Names:
 *   fgsm · pgd-<steps> · cw-<steps> · apgd-ce[-<steps>] · apgd-dlr[-<steps>] · apgd-t[-<steps>]
 *   · fab-t[-<steps>] · square[-<queries>]
 * Unparametrised names take the published defaults (APGD 100 iterations, APGD-T and FAB-T 9
 * targets, FAB-T 100 iterations, Square 5000 queries, as AutoAttack "standard"); a suffix trades
 * strength for CPU time and is part of the name, so reports always say which budget was used.
 * PGD/CW step = eps/4 (2/255 at 8/255). Runners stop early once every sample of a batch is
 * misclassified (FAB-T: has a point within eps): that cannot change which samples are broken,
 * only the time spent.
 */
import type * as tf from "@tensorflow/tfjs";
import type { Classifier } from "./types";
import type { AttackRng } from "./attackRng";
import { fgsm } from "./fgsm";
import { pgd } from "./pgd";
import { cwInf } from "./cw";
import { apgd, apgdT } from "./apgd";
import { square } from "./square";
import { fabT } from "./fab";

export interface AttackContext {
  /** L-inf radius in [0,1] pixel units. */
  eps: number;
  /** The attack's seeded streams, one per sample in evaluation (attackRng.ts). */
  rng: AttackRng;
}

export interface AttackRunner {
  /** Canonical name, e.g. "pgd-20". */
  name: string;
  /** One line for reports, e.g. "PGD, 20 steps, CE, step eps/4, random start". */
  description: string;
  /** False for score-based attacks (Square): their success where gradient attacks fail flags masking. */
  usesGradients: boolean;
  /** Budget and settings, recorded in reports. */
  settings: Record<string, number | string | boolean>;
  /** Async: attacks read losses and flags back from the device, which webgpu does only asynchronously. */
  run(model: Classifier, x: tf.Tensor4D, y: tf.Tensor1D, ctx: AttackContext): Promise<tf.Tensor4D>;
}

/** The names the registry understands, for error messages and help texts. */
export const KNOWN_ATTACKS = [
  "fgsm",
  "pgd-<steps>",
  "cw-<steps>",
  "apgd-ce[-<steps>]",
  "apgd-dlr[-<steps>]",
  "apgd-t[-<steps>]",
  "fab-t[-<steps>]",
  "square[-<queries>]",
] as const;

const MAX_BUDGET = 1_000_000;

function budget(name: string, text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1 || n > MAX_BUDGET) throw new Error(`attack "${name}": budget must be an integer in [1, ${MAX_BUDGET}], got "${text}"`);
  return n;
}

/** Resolves an attack name; unknown names throw an error listing the known ones. */
export function resolveAttack(name: string): AttackRunner {
  const n = name.trim().toLowerCase();
  if (n === "fgsm") {
    return { name: n, description: "FGSM, one step of size eps, CE", usesGradients: true, settings: { steps: 1 }, run: async (m, x, y, c) => fgsm(m, x, y, { eps: c.eps }) };
  }
  let match = /^(pgd|cw)-(\d+)$/.exec(n);
  if (match) {
    const steps = budget(n, match[2], 20);
    const cw = match[1] === "cw";
    return {
      name: n,
      description: `${cw ? "CW-inf (PGD on the margin loss)" : "PGD on CE"}, ${steps} steps, step eps/4, random start`,
      usesGradients: true,
      settings: { steps, stepSize: "eps/4", restarts: 1, loss: cw ? "margin" : "ce" },
      run: (m, x, y, c) =>
        cw
          ? cwInf(m, x, y, { eps: c.eps, steps, rng: c.rng, stopWhenAllFooled: true })
          : pgd(m, x, y, { eps: c.eps, steps, rng: c.rng, stopWhenAllFooled: true }),
    };
  }
  match = /^apgd-(ce|dlr|t)(?:-(\d+))?$/.exec(n);
  if (match) {
    const kind = match[1];
    const steps = budget(n, match[2], 100);
    if (kind === "t") {
      return {
        name: n,
        description: `APGD-T (targeted DLR, 9 target classes), ${steps} iterations`,
        usesGradients: true,
        settings: { steps, targets: 9, restarts: 1, loss: "targeted-dlr" },
        run: (m, x, y, c) => apgdT(m, x, y, { eps: c.eps, steps, targets: 9, rng: c.rng, stopWhenAllFooled: true }),
      };
    }
    const loss = kind as "ce" | "dlr";
    return {
      name: n,
      description: `APGD-${loss.toUpperCase()}, ${steps} iterations`,
      usesGradients: true,
      settings: { steps, restarts: 1, loss },
      run: (m, x, y, c) => apgd(m, x, y, { eps: c.eps, steps, loss, rng: c.rng, stopWhenAllFooled: true }),
    };
  }
  match = /^fab-t(?:-(\d+))?$/.exec(n);
  if (match) {
    const steps = budget(n, match[1], 100);
    return {
      name: n,
      description: `FAB-T (targeted, 9 target classes, minimal L-inf boundary search), ${steps} iterations`,
      usesGradients: true,
      settings: { steps, targets: 9, restarts: 1, alphaMax: 0.1, eta: 1.05, beta: 0.9 },
      run: (m, x, y, c) => fabT(m, x, y, { eps: c.eps, steps, targets: 9, rng: c.rng, stopWhenAllFooled: true }),
    };
  }
  match = /^square(?:-(\d+))?$/.exec(n);
  if (match) {
    const queries = budget(n, match[1], 5000);
    return {
      name: n,
      description: `Square (score-based, margin loss, p_init 0.8), ${queries} queries`,
      usesGradients: false,
      settings: { queries, pInit: 0.8, loss: "margin" },
      run: (m, x, y, c) => square(m, x, y, { eps: c.eps, queries, rng: c.rng }),
    };
  }
  throw new Error(`unknown attack "${name}"; known: ${KNOWN_ATTACKS.join(", ")}`);
}
