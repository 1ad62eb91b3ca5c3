import { RunConfig } from "../../core/config/types";
import { PRESETS } from "../../core/evaluate/presets";
import { ViTConfig } from "../../core/model/config";
import { nearestTimmArchitecture } from "../../core/model/timmConfig";

/**
 * robustbench.json: the run's headline model in the shape of a RobustBench `model_info` entry
 * (robustbench model_info/<dataset>/<threat>/<Name>.json: name, dataset, eps, clean_acc,
 * autoattack_acc as percent strings with two decimals, additional_data,
 * number_forward_passes, architecture, unreliable, footnote). `autoattack_acc` is given only
 * when every attack of the standard suite (AutoAttack's standard version) ran; otherwise the
 * number is `robust_acc` with the suite named, so a preview cannot pass for a leaderboard entry.
 * Submission fields we cannot know (link, authors, venue) are left out for the author to add.
 */
export interface RobustbenchEntry {
  name: string;
  dataset: string;
  threat_model: "Linf";
  eps: string;
  clean_acc: string;
  autoattack_acc?: string;
  robust_acc?: string;
  suite: string;
  additional_data: boolean;
  number_forward_passes: 1;
  architecture: string;
  unreliable: boolean;
  footnote: string;
}

interface ModelRow {
  name: string;
  target: string;
  cleanAccuracy: number;
  worstCaseRobustAccuracy: number;
  warnings: string[];
  result: { n: number };
}

const pct2 = (v: number) => (100 * v).toFixed(2);

/** "cifar10", "cifar100", or the training spec's last path part. */
export function datasetName(trainSpec: string): string {
  if (/cifar-?100/i.test(trainSpec)) return "cifar100";
  if (/cifar-?10/i.test(trainSpec)) return "cifar10";
  const head = trainSpec.split("?")[0];
  return head.startsWith("synthetic:") ? head : head.split(/[\\/]/).filter(Boolean).pop() ?? head;
}

/** The model a run delivers: adaptive merge, else uniform, else the tuned baseline. */
function headline(models: ModelRow[]): ModelRow | undefined {
  for (const t of ["adaptive", "uniform"]) {
    const m = models.find((x) => x.target === t);
    if (m) return m;
  }
  return models.find((m) => m.target !== "pretrained");
}

export function robustbenchEntry(cfg: RunConfig, suite: string, attacks: string[], models: ModelRow[], vit: ViTConfig): RobustbenchEntry | undefined {
  const m = headline(models);
  if (!m) return undefined;
  const standard = PRESETS.standard.every((a) => attacks.includes(a));
  const arch = `${nearestTimmArchitecture(vit)} (embed ${vit.dim}, depth ${vit.depth}, heads ${vit.heads}, patch ${vit.patchSize}, img ${vit.imgSize})`;
  return {
    name: `${cfg.name}: ${m.name}`,
    dataset: datasetName(cfg.data.train),
    threat_model: "Linf",
    eps: String(cfg.attack.eps),
    clean_acc: pct2(m.cleanAccuracy),
    ...(standard ? { autoattack_acc: pct2(m.worstCaseRobustAccuracy) } : { robust_acc: pct2(m.worstCaseRobustAccuracy) }),
    suite: `${suite}: ${attacks.join(", ")}`,
    // A checkpoint pretrained elsewhere (ImageNet) is extra data in RobustBench's sense.
    additional_data: cfg.model.path !== undefined,
    number_forward_passes: 1,
    architecture: arch,
    unreliable: m.warnings.length > 0,
    footnote:
      `HyperAT (${cfg.method}, ${cfg.defenses.map((d) => d.name).join(" + ")}), ${m.result.n} test images, ` +
      `evaluated with HyperAT's TensorFlow.js attacks (per-sample worst case), not the reference autoattack package` +
      (standard ? "" : `; not the full standard suite, so no autoattack_acc`) +
      (m.warnings.length ? `; evaluation warnings: ${m.warnings.join("; ")}` : ""),
  };
}
