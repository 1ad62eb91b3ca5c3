/**
 * merged/<strategy>/README.md: the model card of a merged model, in the Hugging Face Hub's
 * format (YAML front matter + Markdown), so the folder can be uploaded as it is. Rendered from
 * merge.json (written at merge) and, once the run is evaluated, the model's row of report.json.
 */
import type { MergeStrategy } from "../../protocol/runs";
import { formatPercent as pct } from "../../core/evaluate/percent";

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
  lambdas: Record<string, number[]>;
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

function lambdaSummary(lambdas: Record<string, number[]>): string[] {
  const rows = Object.entries(lambdas).map(([d, ls]) => {
    const mean = ls.reduce((a, b) => a + b, 0) / Math.max(1, ls.length);
    return `| ${d} | ${mean.toFixed(3)} | ${Math.min(...ls).toFixed(3)} | ${Math.max(...ls).toFixed(3)} |`;
  });
  return ["| defense | mean λ | min λ | max λ |", "|---|---|---|---|", ...rows];
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
