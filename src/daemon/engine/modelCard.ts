/**
 * merged/<strategy>/README.md: the model card of a merged model, in the Hugging Face Hub's
 * format (YAML front matter + Markdown), so the folder can be uploaded as it is. Rendered from
 * merge.json (written at merge) and, once the run is evaluated, the model's row of report.json.
 */
import type { MergeObjective, MergeStrategy } from "../../protocol/runs";
import { formatPercent as pct } from "../../core/evaluate/percent";
import { formatDeviation, lambdaDeviations, objectiveText } from "../../protocol/mergeEvidence";

/** What a merge records about itself (merged/<strategy>/merge.json). */
export interface MergeProvenance {
  format: "hyperat-merge";
  version: 1;
  run: string;
  strategy: MergeStrategy;
  method: string;
  /** The pretrained checkpoint (file, hf: id, or the clean-pretrained preset cache). */
  base: string;
  defenses: Array<{ name: string; beta?: number }>;
  /** λ per defense, one per block: the weight of that defense's ΔW in the merged weights. */
  lambdas: Record<string, number[]>;
  /** λ − 1/K per defense and block (issue 16 item 5): all zero for a uniform merge, and for an
   * adaptive one that did not move λ. Absent in merge.json files from before it was recorded. */
  lambdaDeviation?: Record<string, number[]>;
  /** λ steps the merge ran: 0 for uniform (and for adaptive with one defense or full-at), else
   * merge.steps, or fewer if it was cut short. Absent in older merge.json files. */
  lambdaSteps?: number;
  /** The adaptive merge's objective (merge.objective on the validation split) at its first and
   * last λ step; absent when no λ step ran. */
  objective?: MergeObjective;
  /** Training step of the LoRAs merged, and the checkpoint ref it was read from. */
  step: number;
  from: string;
  data: { train: string; val: string; test: string };
  eps: string;
  trainingAttack: { steps: number; stepSize: string };
  lora: { rank: number; alpha: number; targets: string[] };
  architecture: string;
}

export interface CardEvaluation {
  n: number;
  attacks: string[];
  cleanAccuracy: number;
  robustAccuracy: Record<string, number>;
  worstCaseRobustAccuracy: number;
  suite: string;
  note?: string;
  step: number;
}

/** λ as its deviation from 1/K (a table of 0.333s hid whether the merge moved anything). */
function lambdaSummary(lambdas: Record<string, number[]>): string[] {
  const k = Object.keys(lambdas).length;
  const dev = lambdaDeviations(lambdas);
  const rows = Object.entries(dev).map(([d, ds]) => {
    const mean = ds.reduce((a, b) => a + b, 0) / Math.max(1, ds.length);
    return `| ${d} | ${formatDeviation(mean)} | ${formatDeviation(Math.min(...ds))} | ${formatDeviation(Math.max(...ds))} |`;
  });
  return [`λ = 1/K + deviation, K = ${k} (1/K = ${(1 / Math.max(1, k)).toFixed(4)}), one λ per defense and block.`, "", "| defense | mean λ − 1/K | min | max |", "|---|---|---|---|", ...rows];
}

/** What chose λ: the objective before and after and the λ steps, or why no step ran. */
function mergeEvidence(m: MergeProvenance): string {
  if (m.objective) return `Adaptive merge: ${objectiveText(m.objective)} on the validation split.`;
  if (m.strategy === "uniform") return "Uniform merge: λ = 1/K for every defense and block, no λ step ran.";
  if (m.lambdaSteps === 0) return "Adaptive merge with no λ step run (one defense, or full-at): λ = 1/K, the same weights as the uniform merge.";
  return "Adaptive merge: the objective was not recorded (merged before issue 16).";
}

export function renderModelCard(m: MergeProvenance, folderName: string, ev?: CardEvaluation): string {
  const defenses = m.defenses.map((d) => (d.beta !== undefined && d.name !== "pgd-at" ? `${d.name} (β ${d.beta})` : d.name)).join(", ");
  const lines = [
    "---",
    "library_name: timm",
    "tags: [image-classification, timm, adversarial-robustness, hyperat]",
    "---",
    "",
    `# ${m.run}: ${m.strategy} merge`,
    "",
    `A plain ${m.architecture}-family Vision Transformer made adversarially robust (L-inf, eps ${m.eps}) by hyper adversarial tuning`,
    "(HyperAT: Lv et al., Pattern Recognition 171 (2026) 112158): a hypernetwork generated one LoRA per defense, trained by random",
    `sampling of the defenses, and the LoRAs were merged into the weights (${m.strategy === "adaptive" ? "λ per defense and block optimized on the validation split" : "uniform average of ΔW"}). No adapter code is needed at inference.`,
    "",
    "| | |",
    "|---|---|",
    `| base checkpoint | ${m.base} |`,
    `| method | ${m.method}, LoRA rank ${m.lora.rank}, alpha ${m.lora.alpha} on ${m.lora.targets.join(", ")} |`,
    `| defenses | ${defenses} |`,
    `| training attack | PGD, ${m.trainingAttack.steps} steps of ${m.trainingAttack.stepSize}, eps ${m.eps} |`,
    `| training data | ${m.data.train} |`,
    `| validation data | ${m.data.val} |`,
    `| test data | ${m.data.test} |`,
    `| LoRAs from | step ${m.step} (checkpoint ${m.from}) |`,
    "",
    "## Merge coefficients",
    "",
    mergeEvidence(m),
    "",
    ...lambdaSummary(m.lambdas),
    "",
    "## Robustness",
    "",
  ];
  if (ev) {
    lines.push(
      ...(ev.note ? [`> ${ev.note}.`, ""] : []),
      `L-inf, eps ${m.eps}, ${ev.n} test images, suite \`${ev.suite}\`: ${ev.attacks.join(" → ")}, each on the survivors of the previous; the worst case counts a sample robust only if every attack fails.`,
      "",
      `| clean | ${ev.attacks.join(" | ")} | worst case |`,
      `|---|${ev.attacks.map(() => "---").join("|")}|---|`,
      `| ${pct(ev.cleanAccuracy)} | ${ev.attacks.map((a) => pct(ev.robustAccuracy[a])).join(" | ")} | **${pct(ev.worstCaseRobustAccuracy)}** |`,
    );
  } else {
    lines.push("Not evaluated yet: evaluating the run (HyperAT: Evaluate Run, or `hyperat train` to completion) fills this table.");
  }
  lines.push(
    "",
    "## Load it in timm",
    "",
    "```python",
    "import timm, torch",
    `model = timm.create_model("local-dir:path/to/${folderName}", pretrained=True).eval()`,
    "cfg = timm.data.resolve_data_config({}, model=model)  # mean/std/input_size from config.json",
    "x = torch.rand(1, *cfg['input_size'])               # RGB in [0, 1]: attacks and eps live here",
    "x = (x - torch.tensor(cfg['mean']).view(1, 3, 1, 1)) / torch.tensor(cfg['std']).view(1, 3, 1, 1)",
    "logits = model(x)",
    "```",
    "",
    "Normalize inside the model you attack (wrap it), so eps stays in [0, 1] pixel space as it was evaluated.",
  );
  return lines.join("\n") + "\n";
}
