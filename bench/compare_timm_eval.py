#!/usr/bin/env python3
"""Compares `hyperat eval --per-sample --json` with `bench/timm_reference.py check` on the same
model file and data: clean predictions, logits and PGD-20 outcomes, sample by sample.
Usage: compare_timm_eval.py OURS.json TIMM.json   (standard library only)"""
import json
import sys


def main(ours_path, timm_path):
    ours, timm = json.load(open(ours_path)), json.load(open(timm_path))
    if len(ours["samples"]) != len(timm["perSample"]):
        sys.exit(f"{ours_path} has {len(ours['samples'])} samples, {timm_path} {len(timm['perSample'])}")
    diff = scale = same_pred = same_robust = 0
    for i, (o, t) in enumerate(zip(ours["samples"], timm["perSample"])):
        if o["label"] != t["label"]:
            sys.exit(f"sample {i}: label {o['label']} in {ours_path}, {t['label']} in {timm_path} (not the same data)")
        diff = max([diff] + [abs(a - b) for a, b in zip(o["cleanLogits"], t["logits"])])
        scale = max([scale] + [abs(b) for b in t["logits"]])
        same_pred += o["cleanPred"] == max(range(len(t["logits"])), key=lambda k: t["logits"][k])
        same_robust += o["robust"]["pgd-20"] == t["robust"]
    n = len(ours["samples"])
    print(json.dumps({
        "model": ours["model"]["checkpoint"], "n": n,
        "cleanAccuracy": {"hyperat": ours["cleanAccuracy"], "timm": timm["cleanAccuracy"]},
        "sameCleanPrediction": same_pred, "maxLogitDifference": diff, "maxAbsLogit": scale,
        "pgd20RobustAccuracy": {"hyperat": ours["robustAccuracy"]["pgd-20"], "timm": timm["pgd20RobustAccuracy"]},
        "sameRobustOutcome": same_robust,
    }))


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2])
