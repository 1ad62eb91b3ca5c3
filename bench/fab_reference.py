#!/usr/bin/env python3
"""Compares HyperAT's FAB-T with AutoAttack's targeted FAB (fra31/auto-attack, `FABAttack_PT`).

Reads DIR/fab_ours.json from bench/fab_reference.ts (weights of seeded toy classifiers, inputs,
labels, our adversarial points per run), rebuilds each classifier in PyTorch, runs the reference
with the same settings (norm Linf, targeted, n_target_classes 9, n_iter, n_restarts, eps,
alpha_max 0.1, eta 1.05, beta 0.9) and prints one JSON object: per-sample success agreement,
robust accuracy of both, and the L-inf norms of the perturbations both found. Also compares our
hyperplane projection with the reference's `projection_linf` on the file's random problems.

AutoAttack is not vendored: pass its checkout (the folder holding `autoattack/`) with
--autoattack or $AUTOATTACK_DIR.
  /usr/bin/python3 bench/fab_reference.py --in /tmp/fabref --autoattack /tmp/autoattack
"""
import argparse
import json
import os
import statistics
import sys

import torch


OMEGA = 5  # bench/fab_reference.ts: the sine network's hidden frequency


def build(spec, jitter=None):
    """jitter: a torch.Generator; multiplies every weight by 1 + 1e-7·N(0,1), float32 rounding's size."""
    layers = [(torch.tensor(l["w"], dtype=torch.float32).reshape(l["rows"], l["cols"]),
               torch.tensor(l["b"], dtype=torch.float32)) for l in spec["layers"]]
    if jitter is not None:
        layers = [(w * (1 + 1e-7 * torch.randn(w.shape, generator=jitter)), b) for w, b in layers]

    def predict(x):
        h = x.reshape(x.shape[0], -1)
        for i, (w, b) in enumerate(layers):
            h = h @ w + b
            if i + 1 < len(layers):
                h = torch.sin(OMEGA * h) if spec["kind"] == "sine" else torch.relu(h)
        return h

    return predict


def linf(a, b):
    return (a - b).reshape(a.shape[0], -1).abs().max(1)[0]


def success(predict, x, adv, y, eps, tol=1e-6):
    """Broken = misclassified and within eps (float32 slack), as `perturb` counts it."""
    with torch.no_grad():
        return (predict(adv).argmax(1) != y) & (linf(adv, x) <= eps + tol)


def summary(values):
    if not values:
        return None
    return {"median": statistics.median(values), "min": min(values), "max": max(values)}


def compare_run(FAB, predict, x, y, spec, run, seed):
    adv_ours = torch.tensor(run["adv"], dtype=torch.float32).reshape(x.shape)
    eps = run["eps"]
    attack = FAB(predict, norm="Linf", n_restarts=run["restarts"], n_iter=run["steps"], eps=eps,
                 alpha_max=0.1, eta=1.05, beta=0.9, seed=seed, targeted=True, device="cpu", n_target_classes=9)
    import time
    t0 = time.time()
    adv_ref = attack.perturb(x.clone(), y.clone())
    seconds = time.time() - t0
    s_ours = success(predict, x, adv_ours, y, eps)
    s_ref = success(predict, x, adv_ref, y, eps)
    n_ours, n_ref = linf(adv_ours, x), linf(adv_ref, x)
    both = (s_ours & s_ref).nonzero().flatten().tolist()
    ratio = [float(n_ours[i] / n_ref[i]) for i in both if n_ref[i] > 0]
    within = lambda r: sum(1 for v in ratio if abs(v - 1) <= r)
    with torch.no_grad():
        clean = predict(x).argmax(1) == y
    n = x.shape[0]
    return adv_ref, {
        "model": spec["name"], "eps": eps, "restarts": run["restarts"], "steps": run["steps"],
        "n": n, "clean_acc": float(clean.float().mean()),
        "robust_acc_ours": float((clean & ~s_ours).float().mean()),
        "robust_acc_ref": float((clean & ~s_ref).float().mean()),
        "broken_ours": int(s_ours.sum()), "broken_ref": int(s_ref.sum()),
        "flags_agree": int((s_ours == s_ref).sum()),
        "only_ours": int((s_ours & ~s_ref).sum()), "only_ref": int((s_ref & ~s_ours).sum()),
        "linf_ratio_ours_over_ref_on_both": summary(ratio),
        "ratio_within_1e-3": within(1e-3), "ratio_within_1e-2": within(1e-2), "both_broken": len(both),
        "linf_ours_on_broken": summary(n_ours[s_ours].tolist()),
        "linf_ref_on_broken": summary(n_ref[s_ref].tolist()),
        "seconds_ours": run["seconds"], "seconds_ref": seconds,
    }


def compare_projection(projection_linf, cases):
    t = torch.tensor([c["t"] for c in cases], dtype=torch.float32)
    w = torch.tensor([c["w"] for c in cases], dtype=torch.float32)
    b = torch.tensor([c["b"] for c in cases], dtype=torch.float32)
    d_ours = torch.tensor([c["d"] for c in cases], dtype=torch.float32)
    d_ref = projection_linf(t.clone(), w.clone(), b.clone())

    def residual(d):
        # |w·(t+d) − b| where the box corner reaches the plane, else the corner's shortfall; 0 = exact.
        return ((w * (t + d)).sum(1) - b).abs()

    box_ok = lambda d: bool(((t + d) >= -1e-6).all() and ((t + d) <= 1 + 1e-6).all())
    n_ours, n_ref = d_ours.abs().max(1)[0], d_ref.abs().max(1)[0]
    return {
        "cases": len(cases),
        "max_abs_diff_d": float((d_ours - d_ref).abs().max()),
        "max_abs_diff_linf_norm": float((n_ours - n_ref).abs().max()),
        "cases_norm_differs_1e-5": int(((n_ours - n_ref).abs() > 1e-5).sum()),
        "max_residual_ours": float(residual(d_ours).max()), "max_residual_ref": float(residual(d_ref).max()),
        "in_box_ours": box_ok(d_ours), "in_box_ref": box_ok(d_ref),
    }


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--in", dest="inp", required=True, help="folder with fab_ours.json")
    ap.add_argument("--autoattack", default=os.environ.get("AUTOATTACK_DIR"),
                    help="folder holding autoattack/ (fra31/auto-attack); or $AUTOATTACK_DIR")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--jitter", type=int, default=0,
                    help="rerun the reference N times per 1-restart run with weights jittered at float32 rounding "
                         "(1e-7 relative) and count the samples whose success flips: how chaotic the trajectory is")
    args = ap.parse_args()
    if not args.autoattack or not os.path.isfile(os.path.join(args.autoattack, "autoattack", "fab_pt.py")):
        sys.exit(f"fab_reference.py: --autoattack {args.autoattack!r} has no autoattack/fab_pt.py")
    sys.path.insert(0, args.autoattack)
    from autoattack.fab_pt import FABAttack_PT
    from autoattack.fab_projections import projection_linf
    torch.set_num_threads(args.threads)
    path = os.path.join(args.inp, "fab_ours.json")
    with open(path) as f:
        data = json.load(f)
    x = torch.tensor(data["x"], dtype=torch.float32).reshape(data["shape"])
    out = {"torch": torch.__version__, "projection": compare_projection(projection_linf, data["projection"]), "runs": []}
    specs = {s["name"]: s for s in data["models"]}
    for run in data["runs"]:
        spec = specs[run["model"]]
        predict = build(spec)
        y = torch.tensor(spec["labels"], dtype=torch.long)
        with torch.no_grad():
            agree = int((predict(x).argmax(1) == y).sum())
        if agree != x.shape[0]:
            sys.exit(f"{path}: model {spec['name']}: PyTorch predicts the file's labels on {agree}/{x.shape[0]} inputs")
        adv_ref, row = compare_run(FABAttack_PT, predict, x, y, spec, run, args.seed)
        if args.jitter and run["restarts"] == 1:
            base = success(predict, x, adv_ref, y, run["eps"])
            flips = torch.zeros_like(base, dtype=torch.long)
            for j in range(args.jitter):
                jittered = build(spec, torch.Generator().manual_seed(1000 + j))
                attack = FABAttack_PT(jittered, norm="Linf", n_restarts=1, n_iter=run["steps"], eps=run["eps"], seed=args.seed,
                                      targeted=True, device="cpu", n_target_classes=9)
                flips += (success(predict, x, attack.perturb(x.clone(), y.clone()), y, run["eps"]) != base).long()
            s_ours = success(predict, x, torch.tensor(run["adv"], dtype=torch.float32).reshape(x.shape), y, run["eps"])
            row["jitter"] = {"reruns": args.jitter, "samples_ref_flag_flips": int((flips > 0).sum()),
                             "disagreeing_samples_that_also_flip_under_jitter": int(((s_ours != base) & (flips > 0)).sum()),
                             "disagreeing_samples": int((s_ours != base).sum())}
        out["runs"].append(row)
        print(json.dumps(row), file=sys.stderr)
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
