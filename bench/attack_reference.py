#!/usr/bin/env python3
"""Compares HyperAT's attacks with independent implementations on the same toy classifiers.

Reads DIR/attref.json (+ DIR/bin/*.f32) from bench/attack_reference.ts, rebuilds each classifier
in PyTorch and runs:
  FGSM                      torchattacks FGSM
  PGD (CE)                  torchattacks PGD
  CW-inf (PGD on the margin) torchattacks UPGD with decay 0 and the CW margin max_{k!=y} z_k - z_y
                            passed as its `loss` callable (torchattacks has no L-inf CW attack;
                            UPGD's built-in "margin" is clamped at 0 (kappa = 0), which stops the
                            ascent at the boundary, while cw.ts maximizes the unclamped margin)
  APGD-CE, APGD-T           AutoAttack APGDAttack, APGDAttack_targeted
  Square                    AutoAttack SquareAttack
Deterministic runs (FGSM; PGD/CW without random start; one APGD-CE and one APGD-T run started from
the same draw t) are compared iterate by iterate: the model records every input it is asked about
on both sides. Seeded runs compare per-sample outcomes and robust accuracy over seeds, Square also
its query counts. Writes DIR/compare.json and prints a Markdown summary.

The reference code is not vendored: --autoattack and --torchattacks name either a checkout (the
folder holding autoattack/ or torchattacks/) or a bare git mirror, from which the few files used
here are exported to a temporary folder at run time.
  OMP_WAIT_POLICY=PASSIVE /usr/bin/python3 bench/attack_reference.py --in /tmp/attref \
      --autoattack /work/.mirror/fra31+auto-attack/repo \
      --torchattacks /work/.mirror/Harry24k+adversarial-attacks-pytorch/repo
"""
import argparse
import base64
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np
import torch
import torch.nn as nn

# Only the modules these attacks import; the packages' own __init__.py import every attack (and
# torchattacks' pull in scipy for attacks not used here), so the export writes empty ones.
REFERENCE_FILES = {
    "autoattack": ["autoattack/autopgd_base.py", "autoattack/square.py", "autoattack/other_utils.py",
                   "autoattack/checks.py"],
    "torchattacks": ["torchattacks/attack.py", "torchattacks/attacks/fgsm.py", "torchattacks/attacks/pgd.py",
                     "torchattacks/attacks/upgd.py"],
}
PACKAGES = ["autoattack", "torchattacks", "torchattacks/attacks"]


def export_reference(source, files, dest):
    """Copies `files` from a checkout or a bare git dir into dest; returns the commit (or None)."""
    bare = os.path.isfile(os.path.join(source, "HEAD")) and os.path.isdir(os.path.join(source, "objects"))
    commit = None
    if bare:
        commit = subprocess.run(["git", "--git-dir", source, "rev-parse", "HEAD"], check=True,
                                capture_output=True, text=True).stdout.strip()
    for f in files:
        target = os.path.join(dest, f)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        if bare:
            body = subprocess.run(["git", "--git-dir", source, "show", f"HEAD:{f}"], check=True, capture_output=True).stdout
            with open(target, "wb") as out:
                out.write(body)
        elif os.path.isfile(os.path.join(source, f)):
            shutil.copyfile(os.path.join(source, f), target)
        else:
            sys.exit(f"attack_reference.py: {source!r} has no {f} (pass a checkout or a bare git mirror)")
    return commit


class Toy(nn.Module):
    """flatten_NHWC(x)·W + b per layer, ReLU between: the function bench/attack_reference.ts built.

    Takes NCHW (the layout torchattacks and AutoAttack assume; Square's stripes and windows follow
    it) and records each input, as NHWC, while `log` is a list.
    """

    def __init__(self, spec, jitter=None):
        """jitter: a torch.Generator; multiplies every weight by 1 + 1e-7·N(0,1), float32 rounding's size."""
        super().__init__()
        ws = [torch.tensor(l["w"], dtype=torch.float32).reshape(l["rows"], l["cols"]) for l in spec["layers"]]
        if jitter is not None:
            ws = [w * (1 + 1e-7 * torch.randn(w.shape, generator=jitter)) for w in ws]
        self.ws = nn.ParameterList([nn.Parameter(w, requires_grad=False) for w in ws])
        self.bs = nn.ParameterList([nn.Parameter(torch.tensor(l["b"], dtype=torch.float32), requires_grad=False)
                                    for l in spec["layers"]])
        self.log = None

    def forward(self, x):
        nhwc = x.permute(0, 2, 3, 1)
        if self.log is not None:
            self.log.append(nhwc.detach().clone())
        h = nhwc.reshape(x.shape[0], -1)
        for i, (w, b) in enumerate(zip(self.ws, self.bs)):
            h = h @ w + b
            if i + 1 < len(self.ws):
                h = torch.relu(h)
        return h


def cw_margin(logits, y):
    """max_{k!=y} z_k - z_y, unclamped (Carlini & Wagner 2017 f_6 with kappa = inf), per sample."""
    other = logits.clone()
    other[torch.arange(len(y)), y] = -float("inf")
    return other.max(1)[0] - logits[torch.arange(len(y)), y]


def ce(logits, y):
    return nn.functional.cross_entropy(logits, y, reduction="none")


def targeted_dlr(target):
    def loss(z, y):  # Croce & Hein 2020 Eq. 4, as APGDAttack_targeted.dlr_loss_targeted
        s = z.sort(1)[0]
        u = torch.arange(len(y))
        return -(z[u, y] - z[u, target]) / (s[:, -1] - 0.5 * (s[:, -3] + s[:, -4]) + 1e-12)
    return loss


def fooled(model, x_nhwc, y):
    with torch.no_grad():
        return model(x_nhwc.permute(0, 3, 1, 2)).argmax(1) != y


def nchw(a):
    return a.permute(0, 3, 1, 2).contiguous()


def trajectory_report(model, y, ours, ref, loss):
    """ours, ref: [T, B, H, W, C] iterates. Max |Δx| per iterate, samples that ever differ by > 1e-4
    (a sign flipped somewhere: one flip moves a coordinate by a whole step), the first such
    iterate, and the loss difference along the way."""
    T = min(len(ours), len(ref))
    diff = (ours[:T] - ref[:T]).abs().reshape(T, ours.shape[1], -1).max(2)[0]  # [T, B]
    with torch.no_grad():
        lo = torch.stack([loss(model(nchw(ours[t])), y) for t in range(T)])
        lr = torch.stack([loss(model(nchw(ref[t])), y) for t in range(T)])
    apart = (diff > 1e-4)
    first = [int(apart[:, b].nonzero()[0]) for b in range(apart.shape[1]) if apart[:, b].any()]
    return {
        "iterates": T, "max_abs_dx": float(diff.max()),
        "max_abs_dx_per_iterate": [float(v) for v in diff.max(1)[0]],
        "samples_apart_1e-4": int(apart.any(0).sum()), "first_apart_iterate": min(first) if first else None,
        "max_abs_dloss": float((lo - lr).abs().max()),
        "max_rel_dloss": float(((lo - lr).abs() / lr.abs().clamp(min=1e-6)).max()),
        "loss_ours_mean_first_last": [float(lo[0].mean()), float(lo[-1].mean())],
        "loss_ref_mean_first_last": [float(lr[0].mean()), float(lr[-1].mean())],
    }


def flags_report(f_ours, f_ref):
    f_ours = torch.as_tensor(f_ours, dtype=torch.bool)
    n = len(f_ours)
    return {"robust_ours": float(1 - f_ours.float().mean()), "robust_ref": float(1 - f_ref.float().mean()),
            "flags_agree": int((f_ours == f_ref).sum()), "n": n,
            "only_ours_broke": int((f_ours & ~f_ref).sum()), "only_ref_broke": int((f_ref & ~f_ours).sum())}


def load_f32(root, rel, shape):
    return torch.from_numpy(np.fromfile(os.path.join(root, rel), dtype="<f4").reshape(shape).copy())


class Bench:
    def __init__(self, root, data, ta, aa, jitter=0):
        self.root, self.data, self.ta, self.aa, self.jitter = root, data, ta, aa, jitter
        self.shape = data["shape"]
        self.x_nhwc = load_f32(root, data["x"], self.shape)
        self.x = nchw(self.x_nhwc)

    def arr(self, rel, lead=()):
        return load_f32(self.root, rel, [*lead, *self.shape])

    def deterministic(self, model, y, spec, runs):
        eps = spec["eps"]
        rows = []
        r = runs["fgsm"]
        t0 = time.time()
        adv_ref = self.ta.FGSM(model, eps=eps)(self.x, y).permute(0, 2, 3, 1)
        secs = time.time() - t0
        ours = self.arr(r["adv"])
        moved = (ours - self.x_nhwc).abs().reshape(len(y), -1).max(1)[0] > 0
        # Ours returns x where x' is still correct with lower CE (fgsm.ts keeps the more adversarial).
        row = {"attack": "fgsm", "reference": "torchattacks.FGSM", **flags_report(r["flags"], fooled(model, adv_ref, y)),
               "ours_returned_x": int((~moved).sum()),
               "ref_fooled_where_ours_returned_x": int(fooled(model, adv_ref, y)[~moved].sum()),
               "max_abs_dx_where_ours_moved": float((ours - adv_ref).abs()[moved].max()) if moved.any() else 0.0,
               "seconds_ours": r["seconds"], "seconds_ref": secs}
        rows.append(row)

        for name, ref_name in (("pgd", "torchattacks.PGD"), ("cw", "torchattacks.UPGD(decay=0, loss=CW margin)")):
            last, best = runs[f"{name}-det-last"], runs[f"{name}-det-best"]
            s = last["settings"]
            atk = self.attack(name, model, eps, s["stepSize"], s["steps"], random_start=False)
            model.log = []
            t0 = time.time()
            adv_ref = atk(self.x, y).permute(0, 2, 3, 1)
            secs = time.time() - t0
            trace_ref = torch.stack(model.log)
            model.log = None
            trace_ours = self.arr(last["trace"], (last["traceCount"],))
            loss = ce if name == "pgd" else cw_margin
            f_ref = fooled(model, adv_ref, y)
            any_ref = f_ref | torch.stack([fooled(model, t, y) for t in trace_ref]).any(0)
            rows.append({"attack": f"{name}-det", "reference": ref_name, "steps": s["steps"],
                         **flags_report(last["flags"], f_ref),
                         "keep_best": flags_report(best["flags"], any_ref),
                         "max_abs_dx_final": float((self.arr(last["adv"]) - adv_ref).abs().max()),
                         "trajectory": trajectory_report(model, y, trace_ours, trace_ref, loss),
                         "seconds_ours": last["seconds"], "seconds_ref": secs})

        for key, cls in (("apgd-ce-det", self.aa.APGDAttack), ("apgd-t-det", self.aa.APGDAttack_targeted)):
            r = runs[key]
            t0 = time.time()
            acc, loss_best, trace_ref, loss = self.apgd_single(cls, model, y, eps, r)
            secs = time.time() - t0
            trace = self.arr(r["trace"], (r["traceCount"],))
            # Ours asks about the clean x first (the BestPoint seed), then the start and 100 iterates.
            clean_first = float((trace[0] - self.x_nhwc).abs().max())
            traj = trajectory_report(model, y, trace[1:], trace_ref, loss)
            with torch.no_grad():
                best_ours = torch.stack([loss(model(nchw(v)), y) for v in trace[1:]]).max(0)[0]
            row = {"attack": key, "reference": f"autoattack.{cls.__name__}.attack_single_run(x_init=...)",
                   "steps": r["settings"]["steps"], **flags_report(r["flags"], ~acc),
                   "ours_first_call_is_clean_x": clean_first == 0.0,
                   "max_abs_dx_start": traj["max_abs_dx_per_iterate"][0],
                   "trajectory": traj,
                   "max_abs_d_best_loss": float((best_ours - loss_best).abs().max()),
                   "seconds_ours": r["seconds"], "seconds_ref": secs}
            if self.jitter:
                row["jitter"] = self.jitter_report(cls, spec, y, eps, r, trace[1:], trace_ref, ~acc)
            rows.append(row)
        return rows

    def apgd_single(self, cls, model, y, eps, r):
        """One reference APGD run from the start ours used; returns (acc, loss_best, trajectory, loss)."""
        kwargs = dict(n_iter=r["settings"]["steps"], norm="Linf", n_restarts=1, eps=eps, seed=0, device="cpu")
        atk = cls(model, **kwargs) if cls is self.aa.APGDAttack_targeted else cls(model, loss="ce", **kwargs)
        atk.init_hyperparam(self.x)
        loss = ce
        if cls is self.aa.APGDAttack_targeted:
            with torch.no_grad():  # as APGDAttack_targeted.perturb picks its target_class-th largest logit
                atk.y_target = model(self.x).sort(dim=1)[1][:, -(r["settings"]["targetRank"])]
            loss = targeted_dlr(atk.y_target)
        t = nchw(self.arr(r["start"]))
        x_init = self.x + eps * torch.ones_like(self.x) * atk.normalize(t)  # attack_single_run's own start
        model.log = []
        _, acc, loss_best, _ = atk.attack_single_run(self.x.clone(), y.clone(), x_init=x_init)
        trace = torch.stack(model.log)
        model.log = None
        return acc, loss_best, trace, loss

    def jitter_report(self, cls, spec, y, eps, r, trace_ours, trace_ref, fooled_ref):
        """Reruns the reference with weights jittered at float32 rounding's size: the samples whose
        trajectory then leaves the reference's own are those sensitive to the last float digits."""
        def apart(a, b):
            T = min(len(a), len(b))
            return ((a[:T] - b[:T]).abs().reshape(T, a.shape[1], -1).max(2)[0] > 1e-4).any(0)
        moved = torch.zeros(len(y), dtype=torch.bool)
        flips = torch.zeros(len(y), dtype=torch.bool)
        for j in range(self.jitter):
            acc_j, _, trace_j, _ = self.apgd_single(cls, Toy(spec, torch.Generator().manual_seed(1000 + j)).eval(), y, eps, r)
            moved |= apart(trace_j, trace_ref)
            flips |= (~acc_j) != fooled_ref
        ours = apart(trace_ours, trace_ref)
        return {"reruns": self.jitter, "samples_apart_under_jitter": int(moved.sum()),
                "ref_flag_flips_under_jitter": int(flips.sum()),
                "ours_apart": int(ours.sum()), "ours_apart_also_apart_under_jitter": int((ours & moved).sum())}

    def attack(self, name, model, eps, alpha, steps, random_start):
        if name == "pgd":
            return self.ta.PGD(model, eps=eps, alpha=alpha, steps=steps, random_start=random_start)
        # UPGD with decay 0 is PGD: sign(g / mean|g| + 0) = sign(g). `loss` gets (images, labels, targets).
        return self.ta.UPGD(model, eps=eps, alpha=alpha, steps=steps, random_start=random_start, decay=0.0,
                            loss=lambda images, labels, _t: cw_margin(model(images), labels).sum())

    def seeded(self, model, y, spec, runs, seeds):
        eps = spec["eps"]
        out = []
        groups = {}
        for r in runs.values():
            if "seed" in r:
                groups.setdefault(r["id"].rsplit("-s", 1)[0].split("-", 1)[1], []).append(r)
        for key, rs in groups.items():
            rs = sorted(rs, key=lambda r: r["seed"])[:seeds]
            ref_flags, ref_secs, queries_ref = [], [], []
            for r in rs:
                s = r["seed"]
                torch.manual_seed(s)
                t0 = time.time()
                if key.startswith(("pgd-rand", "cw-rand")):
                    name = key.split("-")[0]
                    atk = self.attack(name, model, eps, r["settings"]["stepSize"], r["settings"]["steps"], True)
                    model.log = []
                    adv = atk(self.x, y).permute(0, 2, 3, 1)
                    trace = model.log
                    model.log = None
                    f = fooled(model, adv, y)
                    if key.endswith("best"):  # ours keeps the most adversarial iterate: compare "any iterate"
                        f = f | torch.stack([fooled(model, t, y) for t in trace]).any(0)
                elif key == "apgd-ce":
                    atk = self.aa.APGDAttack(model, n_iter=r["settings"]["steps"], norm="Linf", n_restarts=1, eps=eps,
                                             seed=s, loss="ce", device="cpu")
                    f = fooled(model, atk.perturb(self.x, y).permute(0, 2, 3, 1), y)
                elif key == "apgd-t":
                    atk = self.aa.APGDAttack_targeted(model, n_iter=r["settings"]["steps"], norm="Linf", n_restarts=1,
                                                      eps=eps, seed=s, n_target_classes=9, device="cpu")
                    f = fooled(model, atk.perturb(self.x, y).permute(0, 2, 3, 1), y)
                elif key == "square":
                    atk = self.aa.SquareAttack(model, norm="Linf", n_queries=r["settings"]["queries"], eps=eps, p_init=0.8,
                                               n_restarts=1, seed=s, loss="margin", resc_schedule=True, device="cpu")
                    atk.init_hyperparam(self.x)
                    # perturb() with 1 restart on an all-correct batch is this call, but drops n_queries.
                    nq, adv = atk.attack_single_run(self.x, y)
                    f = fooled(model, adv.permute(0, 2, 3, 1), y)
                    queries_ref += nq[f].tolist()
                else:
                    raise ValueError(f"attack_reference.py: no reference for seeded run {key!r}")
                ref_secs.append(time.time() - t0)
                ref_flags.append(f)
            ours = torch.tensor([r["flags"] for r in rs], dtype=torch.bool)
            ref = torch.stack(ref_flags)
            rob_o = [float(1 - v.float().mean()) for v in ours]
            rob_r = [float(1 - v.float().mean()) for v in ref]
            row = {"attack": key, "seeds": len(rs), "robust_ours": rob_o, "robust_ref": rob_r,
                   "robust_ours_mean": statistics.mean(rob_o), "robust_ref_mean": statistics.mean(rob_r),
                   "flags_agree_seed_paired_mean": statistics.mean(float((a == b).float().mean()) for a, b in zip(ours, ref)),
                   "broken_by_ours_in_some_seed_never_by_ref": int((ours.any(0) & ~ref.any(0)).sum()),
                   "broken_by_ref_in_some_seed_never_by_ours": int((ref.any(0) & ~ours.any(0)).sum()),
                   "seconds_ours": [r["seconds"] for r in rs], "seconds_ref": ref_secs}
            if key == "square":
                q_ours = [q for r in rs for q in r["queries"]]
                row.update({"median_queries_ours": statistics.median(q_ours), "median_queries_ref": statistics.median(queries_ref),
                            "mean_queries_ours": statistics.mean(q_ours), "mean_queries_ref": statistics.mean(queries_ref),
                            "broken_pooled_ours": len(q_ours), "broken_pooled_ref": len(queries_ref)})
            out.append(row)
        return out


def b64(t):
    """float32 little-endian, base64: exact and a quarter of the size of decimal JSON."""
    return base64.b64encode(t.detach().contiguous().numpy().astype("<f4").tobytes()).decode("ascii")


def make_fixture(bench, data, out, m, commits):
    """test/fixtures/attack-reference: the linear model, the first m inputs and the reference's
    answers (torchattacks FGSM, PGD, UPGD-CW without random start; AutoAttack APGD-CE and APGD-T
    single runs from our start draw t) for test/core/attacks/attackReference.test.ts. Data only."""
    spec = next(s for s in data["models"] if s["kind"] == "linear")
    runs = {r["id"].split("-", 1)[1]: r for r in data["runs"] if r["model"] == spec["name"]}
    model = Toy(spec).eval()
    eps = spec["eps"]
    x_nhwc = bench.x_nhwc[:m].clone()
    x = nchw(x_nhwc)
    y = torch.tensor(spec["labels"][:m], dtype=torch.long)
    pgd_s = runs["pgd-det-last"]["settings"]
    fx = {"generator": "bench/attack_reference.py --fixture (reference outputs; inputs from bench/attack_reference.ts)",
          "torch": torch.__version__, "reference_commits": commits, "shape": [m, *bench.shape[1:]],
          "classes": data["classes"], "eps": eps,
          "layers": [{"rows": l["rows"], "cols": l["cols"], "w": b64(torch.tensor(l["w"])), "b": b64(torch.tensor(l["b"]))}
                     for l in spec["layers"]], "labels": y.tolist(), "x": b64(x_nhwc),
          "fgsm": b64(bench.ta.FGSM(model, eps=eps)(x, y).permute(0, 2, 3, 1))}
    for name in ("pgd", "cw"):
        atk = bench.attack(name, model, eps, pgd_s["stepSize"], pgd_s["steps"], random_start=False)
        fx[name] = {"steps": pgd_s["steps"], "stepSize": pgd_s["stepSize"], "adv": b64(atk(x, y).permute(0, 2, 3, 1))}
    for key, cls in (("apgd-ce-det", bench.aa.APGDAttack), ("apgd-t-det", bench.aa.APGDAttack_targeted)):
        r = runs[key]
        D = int(np.prod(bench.shape[1:]))
        t_all = bench.arr(r["start"])
        sub = Bench.__new__(Bench)  # the same run on the first m inputs: t is drawn sample by sample
        sub.root, sub.aa, sub.shape, sub.x, sub.x_nhwc = bench.root, bench.aa, [m, *bench.shape[1:]], x, x_nhwc
        sub.arr = lambda rel, lead=(): t_all[:m] if rel == r["start"] else bench.arr(rel, lead)
        acc, loss_best, trace, loss = sub.apgd_single(cls, model, y, eps, r)
        with torch.no_grad():
            losses = torch.stack([loss(model(nchw(v)), y) for v in trace])
        fx[key] = {"steps": r["settings"]["steps"], "targetRank": r["settings"]["targetRank"],
                   "startSeed": 0, "startStream": f"attref-{key}-start", "startT": b64(t_all[:m].reshape(-1)[: m * D]),
                   "loss": b64(losses), "fooled": (~acc).tolist(), "lossBest": b64(loss_best)}
    os.makedirs(out, exist_ok=True)
    path = os.path.join(out, "linear.json")
    with open(path + ".tmp", "w") as f:
        json.dump(fx, f)
    os.replace(path + ".tmp", path)
    print(f"wrote {path}", file=sys.stderr)


def markdown(results):
    lines = ["| model | attack | robust ours / ref | per-sample flags agree | trajectory max abs Δx (iterates) | notes |",
             "|---|---|---|---|---|---|"]
    for m in results["models"]:
        for r in m["deterministic"]:
            traj = r.get("trajectory")
            notes = []
            if "keep_best" in r:
                kb = r["keep_best"]
                notes.append(f"keep best vs ref any iterate: {100*kb['robust_ours']:.1f} / {100*kb['robust_ref']:.1f} %, {kb['flags_agree']}/{kb['n']}")
            if traj:
                notes.append(f"max abs Δloss {traj['max_abs_dloss']:.1e}; {traj['samples_apart_1e-4']} samples apart > 1e-4")
            if "jitter" in r:
                j = r["jitter"]
                notes.append(f"reference with weights jittered 1e-7 ×{j['reruns']}: {j['samples_apart_under_jitter']} samples leave its own "
                             f"trajectory, {j['ours_apart_also_apart_under_jitter']} of our {j['ours_apart']} among them, "
                             f"{j['ref_flag_flips_under_jitter']} flags flip")
            if "max_abs_dx_where_ours_moved" in r:
                notes.append(f"max abs Δx' {r['max_abs_dx_where_ours_moved']:.1e}; ours kept x on {r['ours_returned_x']}")
            tr = f"{traj['max_abs_dx']:.1e} ({traj['iterates']})" if traj else "—"
            lines.append(f"| {m['model']} (eps {m['eps']}) | {r['attack']} | {100*r['robust_ours']:.1f} / {100*r['robust_ref']:.1f} % "
                         f"| {r['flags_agree']}/{r['n']} | {tr} | {'; '.join(notes)} |")
        for r in m["seeded"]:
            notes = [f"seed-paired agreement {100*r['flags_agree_seed_paired_mean']:.1f} %",
                     f"only ours / only ref ever: {r['broken_by_ours_in_some_seed_never_by_ref']} / {r['broken_by_ref_in_some_seed_never_by_ours']}"]
            if "median_queries_ours" in r:
                notes.append(f"median queries of broken {r['median_queries_ours']:.0f} / {r['median_queries_ref']:.0f}, "
                             f"mean {r['mean_queries_ours']:.1f} / {r['mean_queries_ref']:.1f}")
            lines.append(f"| {m['model']} (eps {m['eps']}) | {r['attack']} ×{r['seeds']} seeds | {100*r['robust_ours_mean']:.1f} / "
                         f"{100*r['robust_ref_mean']:.1f} % (mean) | — | — | {'; '.join(notes)} |")
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--in", dest="inp", required=True, help="folder with attref.json")
    ap.add_argument("--autoattack", default=os.environ.get("AUTOATTACK_DIR"), help="fra31/auto-attack checkout or bare mirror")
    ap.add_argument("--torchattacks", default=os.environ.get("TORCHATTACKS_DIR"), help="Harry24k/adversarial-attacks-pytorch checkout or bare mirror")
    ap.add_argument("--seeds", type=int, default=100, help="compare at most this many seeds per seeded run")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--fixture", help="write the CI fixture (linear model, first --fixture-n inputs) to this folder and stop")
    ap.add_argument("--fixture-n", type=int, default=16)
    ap.add_argument("--jitter", type=int, default=16,
                    help="rerun the deterministic APGD runs N times with weights jittered at float32 rounding (1e-7 "
                         "relative) and count the samples whose trajectory leaves the reference's own")
    args = ap.parse_args()
    for name in ("autoattack", "torchattacks"):
        if not getattr(args, name):
            sys.exit(f"attack_reference.py: --{name} is required (a checkout or a bare git mirror)")
    torch.set_num_threads(args.threads)
    tmp = tempfile.mkdtemp(prefix="attref-reference-")
    commits = {name: export_reference(getattr(args, name), files, tmp) for name, files in REFERENCE_FILES.items()}
    for p in PACKAGES:
        open(os.path.join(tmp, p, "__init__.py"), "w").close()
    sys.path.insert(0, tmp)
    import autoattack.autopgd_base as apgd_mod
    import autoattack.square as square_mod
    from torchattacks.attacks.fgsm import FGSM
    from torchattacks.attacks.pgd import PGD
    from torchattacks.attacks.upgd import UPGD

    class AA:
        APGDAttack, APGDAttack_targeted, SquareAttack = apgd_mod.APGDAttack, apgd_mod.APGDAttack_targeted, square_mod.SquareAttack

    class TA:
        pass
    TA.FGSM, TA.PGD, TA.UPGD = FGSM, PGD, UPGD

    with open(os.path.join(args.inp, "attref.json")) as f:
        data = json.load(f)
    bench = Bench(args.inp, data, TA, AA, args.jitter)
    if args.fixture:
        make_fixture(bench, data, args.fixture, args.fixture_n, commits)
        shutil.rmtree(tmp, ignore_errors=True)
        return
    results = {"torch": torch.__version__, "reference_commits": commits, "tfjs": data.get("tfjs"), "models": []}
    for spec in data["models"]:
        model = Toy(spec).eval()
        y = torch.tensor(spec["labels"], dtype=torch.long)
        agree = int((~fooled(model, bench.x_nhwc, y)).sum())
        if agree != len(y):
            sys.exit(f"attref.json: model {spec['name']}: PyTorch predicts the file's labels on {agree}/{len(y)} inputs")
        runs = {r["id"].split("-", 1)[1]: r for r in data["runs"] if r["model"] == spec["name"]}
        entry = {"model": spec["name"], "eps": spec["eps"],
                 "deterministic": bench.deterministic(model, y, spec, runs),
                 "seeded": bench.seeded(model, y, spec, runs, args.seeds)}
        results["models"].append(entry)
        print(json.dumps({"model": spec["name"], "done": True}), file=sys.stderr)
    shutil.rmtree(tmp, ignore_errors=True)
    path = os.path.join(args.inp, "compare.json")
    with open(path + ".tmp", "w") as f:
        json.dump(results, f, indent=1)
    os.replace(path + ".tmp", path)
    print(markdown(results))
    print(f"\nwrote {path}", file=sys.stderr)


if __name__ == "__main__":
    main()
