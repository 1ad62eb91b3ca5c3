#!/usr/bin/env python3
"""HyperAT's models checked against the real timm (an independent implementation).

Needs torch, timm and safetensors (none of them are HyperAT dependencies; the GPU machines lent to
developers have all three). Two jobs:

  fixture --out DIR
      A random timm VisionTransformer (timm's own init, LayerNorm affines and biases perturbed so
      none is trivial) saved as timm would save it (plain state_dict, no metadata), with a batch
      of images, labels, timm's logits and timm's input gradient of the summed cross-entropy.
      test/core/model/timmReference.test.ts loads the model file with HyperAT and must reproduce
      both, so CI checks the forward pass and the attack gradient against timm on every run.

  check --model FILE --data DIR [--n N] [--out FILE]
      Loads a model file HyperAT wrote (e.g. a run's merged/model.safetensors) into timm's
      VisionTransformer with strict=True, and measures clean accuracy and PGD-20 robust accuracy
      (L-inf 8/255, step eps/4, uniform random start, most adversarial iterate kept — the same
      recipe as HyperAT's pgd-20, written independently in torch) on the CIFAR-10 binary test
      batch in DIR (`hyperat synth` writes one). Prints and writes JSON with per-sample logits and
      outcomes, to compare with `hyperat eval --per-sample --json` on the same files.

  export --model FOLDER --expected FILE [--tol 1e-4]
      Loads a merged/<strategy>/ export the two ways docs/model-files.md tells users to
      (`timm.create_model(config["architecture"], **config["model_args"])` + `load_state_dict`, and
      `timm.create_model("local-dir:FOLDER", pretrained=True)`) and compares their logits with
      HyperAT's in FILE (`npx tsx bench/export_roundtrip.ts --out DIR` writes both). Prints the
      largest absolute logit difference per way; exits 1 above --tol.

Images are NHWC float32 in [0,1] on disk (HyperAT's layout); the model normalizes inside, as
HyperAT's does, with the mean/std from the file's metadata (0.5 when absent).
"""
import argparse
import json
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F
import timm
from timm.models.vision_transformer import VisionTransformer
from safetensors import safe_open
from safetensors.torch import load_file, save_file


class Normalized(torch.nn.Module):
    """Pixels in [0,1] → timm model on (x - mean) / std."""

    def __init__(self, model, mean, std):
        super().__init__()
        self.model = model
        self.register_buffer("mean", torch.tensor(mean).view(1, 3, 1, 1))
        self.register_buffer("std", torch.tensor(std).view(1, 3, 1, 1))

    def forward(self, x_nchw):
        return self.model((x_nchw - self.mean) / self.std)


def vit(img, patch, dim, depth, heads, mlp_dim, classes):
    return VisionTransformer(
        img_size=img, patch_size=patch, in_chans=3, num_classes=classes, global_pool="token",
        embed_dim=dim, depth=depth, num_heads=heads, mlp_ratio=mlp_dim / dim, qkv_bias=True,
        class_token=True,
    ).eval()


def versions():
    return {"torch": torch.__version__, "timm": timm.__version__, "numpy": np.__version__}


def fixture(out):
    torch.manual_seed(0)
    cfg = dict(img=32, patch=4, dim=48, depth=2, heads=3, mlp_dim=192, classes=7)
    mean, std = [0.485, 0.456, 0.406], [0.229, 0.224, 0.225]
    model = vit(**cfg)
    with torch.no_grad():
        for name, p in model.named_parameters():
            # timm inits LayerNorm to (1, 0), biases to 0 and the head to 0: perturb all of them so
            # a wrong bias, affine or head transpose cannot hide.
            if name.endswith("bias") or "norm" in name or name.startswith("head"):
                p.add_(0.2 * torch.randn_like(p))
            if name in ("cls_token", "pos_embed"):
                p.add_(0.5 * torch.randn_like(p))
    net = Normalized(model, mean, std).eval()
    n = 8
    x = torch.rand(n, cfg["img"], cfg["img"], 3)  # NHWC, HyperAT's layout
    y = torch.randint(0, cfg["classes"], (n,))
    xg = x.clone().requires_grad_(True)
    logits = net(xg.permute(0, 3, 1, 2))
    F.cross_entropy(logits, y, reduction="sum").backward()
    os.makedirs(out, exist_ok=True)
    save_file({k: v.contiguous() for k, v in model.state_dict().items()}, os.path.join(out, "model.safetensors"))
    save_file(
        {"x": x.contiguous(), "y": y.to(torch.int32), "logits": logits.detach().contiguous(), "grad": xg.grad.contiguous()},
        os.path.join(out, "expected.safetensors"),
    )
    meta = {**cfg, "mean": mean, "std": std, "n": n, "gradOf": "sum of cross-entropy over the batch, w.r.t. NHWC pixels",
            "made": "python3 bench/timm_reference.py fixture --out " + out, "versions": versions()}
    with open(os.path.join(out, "fixture.json"), "w") as f:
        json.dump(meta, f, indent=2)
        f.write("\n")
    print(json.dumps(meta))


def load_cifar_test(data_dir, n):
    raw = np.fromfile(os.path.join(data_dir, "test_batch.bin"), dtype=np.uint8).reshape(-1, 3073)[:n]
    y = torch.from_numpy(raw[:, 0].astype(np.int64))
    x = torch.from_numpy(raw[:, 1:].reshape(-1, 3, 32, 32).astype(np.float32) / 255.0)  # NCHW
    return x, y


def hyperat_model(path):
    with safe_open(path, framework="pt") as f:
        meta = f.metadata() or {}
        state = {k: f.get_tensor(k) for k in f.keys()}
    heads = int(meta.get("num_heads", 0)) or state["pos_embed"].shape[-1] // 64
    dim = state["pos_embed"].shape[-1]
    patch = state["patch_embed.proj.weight"].shape[-1]
    grid = int(round((state["pos_embed"].shape[1] - 1) ** 0.5))
    depth = 1 + max(int(k.split(".")[1]) for k in state if k.startswith("blocks."))
    model = vit(grid * patch, patch, dim, depth, heads, state["blocks.0.mlp.fc1.weight"].shape[0], state["head.weight"].shape[0])
    model.load_state_dict(state, strict=True)  # every tensor named and shaped as timm's, none missing
    mean = json.loads(meta.get("mean", "[0.5, 0.5, 0.5]"))
    std = json.loads(meta.get("std", "[0.5, 0.5, 0.5]"))
    arch = dict(img=grid * patch, patch=patch, dim=dim, depth=depth, heads=heads, classes=state["head.weight"].shape[0])
    return Normalized(model, mean, std).eval(), arch, meta


def pgd_best(net, x, y, eps, steps, gen):
    """L-inf PGD on CE, step eps/4, uniform random start; per sample the most adversarial point
    seen (misclassified beats correct, then higher loss), the clean point first."""
    alpha = eps / 4

    def score(xa):
        with torch.no_grad():
            logits = net(xa)
            return logits.argmax(1) != y, F.cross_entropy(logits, y, reduction="none")

    best_x = x.clone()
    best_fooled, best_loss = score(x)

    def keep(xa):
        nonlocal best_fooled, best_loss
        fooled, loss = score(xa)
        better = (fooled & ~best_fooled) | ((fooled == best_fooled) & (loss > best_loss))
        best_x[better] = xa[better]
        best_fooled = torch.where(better, fooled, best_fooled)
        best_loss = torch.where(better, loss, best_loss)

    delta = (torch.rand(x.shape, generator=gen) * 2 - 1) * eps
    xa = (x + delta).clamp(0, 1)
    for _ in range(steps):
        keep(xa)
        xa.requires_grad_(True)
        loss = F.cross_entropy(net(xa), y, reduction="sum")
        (g,) = torch.autograd.grad(loss, xa)
        xa = torch.min(torch.max(xa.detach() + alpha * g.sign(), x - eps), x + eps).clamp(0, 1)
    keep(xa)
    return best_x, best_fooled


def check(model_path, data_dir, n, out, eps):
    torch.manual_seed(0)
    net, arch, meta = hyperat_model(model_path)
    x, y = load_cifar_test(data_dir, n)
    with torch.no_grad():
        logits = net(x)
    clean = logits.argmax(1) == y
    gen = torch.Generator().manual_seed(0)
    robust = torch.zeros(n, dtype=torch.bool)
    for s in range(0, n, 100):
        xb, yb = x[s:s + 100], y[s:s + 100]
        _, fooled = pgd_best(net, xb, yb, eps, 20, gen)
        robust[s:s + 100] = ~fooled & clean[s:s + 100]
    report = {
        "model": model_path, "arch": arch, "metadata": {k: v for k, v in meta.items() if k in ("format", "num_heads", "mean", "std")},
        "n": n, "eps": eps, "loadedStrict": True,
        "cleanAccuracy": clean.float().mean().item(), "pgd20RobustAccuracy": robust.float().mean().item(),
        "perSample": [{"label": int(y[i]), "clean": bool(clean[i]), "robust": bool(robust[i]), "logits": [round(v, 6) for v in logits[i].tolist()]} for i in range(n)],
        "versions": versions(),
    }
    if out:
        with open(out, "w") as f:
            json.dump(report, f)
    print(json.dumps({k: v for k, v in report.items() if k != "perSample"}))


def export_check(folder, expected, tol):
    with open(os.path.join(folder, "config.json")) as fh:
        cfg = json.load(fh)
    with safe_open(expected, framework="pt") as fh:
        x, logits = fh.get_tensor("x").float(), fh.get_tensor("logits").double()
    mean, std = cfg["pretrained_cfg"]["mean"], cfg["pretrained_cfg"]["std"]
    by_args = timm.create_model(cfg["architecture"], pretrained=False, **cfg["model_args"])
    by_args.load_state_dict(load_file(os.path.join(folder, "model.safetensors")))
    ways = {"create_model(architecture, **model_args) + load_state_dict": by_args,
            "create_model('local-dir:FOLDER', pretrained=True)": timm.create_model(f"local-dir:{folder}", pretrained=True)}
    out = {"versions": versions(), "model": folder, "n": int(x.shape[0]), "tol": tol, "max_abs_logit_difference": {}}
    with torch.no_grad():
        for name, m in ways.items():
            got = Normalized(m.eval(), mean, std)(x.permute(0, 3, 1, 2)).double()
            out["max_abs_logit_difference"][name] = float((got - logits).abs().max())
    print(json.dumps(out))
    return 0 if max(out["max_abs_logit_difference"].values()) <= tol else 1


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="job", required=True)
    f = sub.add_parser("fixture")
    f.add_argument("--out", required=True)
    c = sub.add_parser("check")
    c.add_argument("--model", required=True)
    c.add_argument("--data", required=True)
    c.add_argument("--n", type=int, default=200)
    c.add_argument("--eps", type=float, default=8 / 255)
    c.add_argument("--out")
    e = sub.add_parser("export")
    e.add_argument("--model", required=True)
    e.add_argument("--expected", required=True)
    e.add_argument("--tol", type=float, default=1e-4)
    a = ap.parse_args()
    torch.set_num_threads(min(8, os.cpu_count() or 1))
    if a.job == "fixture":
        fixture(a.out)
    elif a.job == "export":
        return export_check(a.model, a.expected, a.tol)
    else:
        check(a.model, a.data, a.n, a.out, a.eps)


if __name__ == "__main__":
    sys.exit(main())
