#!/usr/bin/env python3
"""The `hyperat bench` workload in PyTorch on the CPU, as a side-by-side anchor.

Same model (pre-norm ViT: conv patch embedding, class token, position embedding, LayerNorm eps
1e-6, exact GELU, linear head), same steps and batch as src/bench/runBench.ts:
  trainStepMs   one Adam step on every weight (clean CE)
  advStepMs     PGD-10 (L-inf, input gradients only) + one Adam step on every weight
  loraAtStepMs  frozen backbone, LoRA r=8 on qkv/proj/fc1/fc2 + head; PGD-10 + one step
  hyperatStepMs the hypernetwork generates defense t's LoRA (HYPERAT.md); PGD-10 + one step
                (PGD-AT's CE for every t; the tool samples PGD-AT/TRADES/MART as a run does)
Run with OMP_WAIT_POLICY=PASSIVE (3x faster here) and the thread count of the wasm run.
Prints one JSON object with the keys `hyperat bench --json` prints.
"""
import argparse
import json
import math
import os
import resource
import statistics
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


class Lora:
    """Per-module low-rank factors a [d_in, r], b [r, d_out] and the scale alpha / r."""

    def __init__(self, factors, scale):
        self.factors, self.scale = factors, scale


class Block(nn.Module):
    def __init__(self, i, dim, heads, mlp_dim):
        super().__init__()
        self.i, self.heads = i, heads
        self.norm1 = nn.LayerNorm(dim, eps=1e-6)
        self.qkv = nn.Linear(dim, 3 * dim)
        self.proj = nn.Linear(dim, dim)
        self.norm2 = nn.LayerNorm(dim, eps=1e-6)
        self.fc1 = nn.Linear(dim, mlp_dim)
        self.fc2 = nn.Linear(mlp_dim, dim)

    def lin(self, name, layer, x, lora):
        y = layer(x)
        f = lora.factors.get(f"{self.i}.{name}") if lora else None
        if f is not None:
            y = y + (x @ f[0]) @ f[1] * lora.scale
        return y

    def forward(self, x, lora):
        B, T, D = x.shape
        H = self.heads
        qkv = self.lin("qkv", self.qkv, self.norm1(x), lora).reshape(B, T, 3, H, D // H).permute(2, 0, 3, 1, 4)
        q, k, v = qkv[0], qkv[1], qkv[2]
        attn = ((q @ k.transpose(-2, -1)) * (D // H) ** -0.5).softmax(-1)
        o = (attn @ v).transpose(1, 2).reshape(B, T, D)
        x = x + self.lin("proj", self.proj, o, lora)
        h = F.gelu(self.lin("fc1", self.fc1, self.norm2(x), lora))
        return x + self.lin("fc2", self.fc2, h, lora)


class ViT(nn.Module):
    def __init__(self, img, patch, dim, depth, heads, mlp_dim, classes=10):
        super().__init__()
        self.patch_embed = nn.Conv2d(3, dim, patch, patch)
        n = (img // patch) ** 2
        self.cls_token = nn.Parameter(torch.randn(1, 1, dim) * 0.02)
        self.pos_embed = nn.Parameter(torch.randn(1, n + 1, dim) * 0.02)
        self.blocks = nn.ModuleList([Block(i, dim, heads, mlp_dim) for i in range(depth)])
        self.norm = nn.LayerNorm(dim, eps=1e-6)
        self.head = nn.Linear(dim, classes)

    def forward(self, x, lora=None):
        x = (x - 0.5) / 0.5
        t = self.patch_embed(x).flatten(2).transpose(1, 2)
        t = torch.cat([self.cls_token.expand(x.shape[0], -1, -1), t], 1) + self.pos_embed
        for b in self.blocks:
            t = b(t, lora)
        return self.head(self.norm(t[:, 0]))


def module_dims(dim, mlp_dim):
    return {"qkv": (dim, 3 * dim), "proj": (dim, dim), "fc1": (dim, mlp_dim), "fc2": (mlp_dim, dim)}


class Hypernet(nn.Module):
    """z = LN(W2 ReLU(W1 [e_t; e_l; e_m] + b1) + b2); A, B = per-module-type linear heads of z."""

    def __init__(self, depth, dims, rank, K=3, de=32, dh=128, dz=32):
        super().__init__()
        self.depth, self.dims, self.rank = depth, dims, rank
        self.e_t = nn.Parameter(torch.randn(K, de))
        self.e_l = nn.Parameter(torch.randn(depth, de))
        self.e_m = nn.Parameter(torch.randn(len(dims), de))
        self.mlp = nn.Sequential(nn.Linear(3 * de, dh), nn.ReLU(), nn.Linear(dh, dz), nn.LayerNorm(dz))
        self.heads_a = nn.ModuleDict({m: nn.Linear(dz, din * rank) for m, (din, _) in dims.items()})
        self.heads_b = nn.ModuleDict({m: nn.Linear(dz, rank * dout) for m, (_, dout) in dims.items()})
        for h in self.heads_b.values():
            nn.init.zeros_(h.weight)
            nn.init.zeros_(h.bias)

    def forward(self, t):
        L, M = self.depth, len(self.dims)
        et = self.e_t[t].expand(M * L, -1)
        el = self.e_l.repeat(M, 1)
        em = self.e_m.repeat_interleave(L, 0)
        z = self.mlp(torch.cat([et, el, em], 1))
        factors = {}
        for mi, (m, (din, dout)) in enumerate(self.dims.items()):
            zm = z[mi * L:(mi + 1) * L]
            a = self.heads_a[m](zm).reshape(L, din, self.rank)
            b = self.heads_b[m](zm).reshape(L, self.rank, dout)
            for l in range(L):
                factors[f"{l}.{m}"] = (a[l], b[l])
        return factors


def pgd(model, x, y, lora_fn, steps, eps, alpha):
    xa = (x + torch.empty_like(x).uniform_(-eps, eps)).clamp(0, 1)
    for _ in range(steps):
        xa.requires_grad_(True)
        loss = F.cross_entropy(model(xa, lora_fn()), y, reduction="sum")
        (g,) = torch.autograd.grad(loss, xa)
        xa = torch.min(torch.max(xa.detach() + alpha * g.sign(), x - eps), x + eps).clamp(0, 1)
    return xa.detach()


CPU_MS = {}


def median_ms(step, warmup, iters, key):
    """Median wall ms; the median process CPU ms (all threads) goes to CPU_MS[key]."""
    for _ in range(warmup):
        step()
    times, cpu = [], []
    for _ in range(iters):
        t0, c0 = time.perf_counter(), time.process_time()
        step()
        times.append((time.perf_counter() - t0) * 1000)
        cpu.append((time.process_time() - c0) * 1000)
    CPU_MS[key] = round(statistics.median(cpu), 1)
    return statistics.median(times)


def main():
    ap = argparse.ArgumentParser()
    for k, v in dict(dim=192, depth=6, heads=3, mlp_dim=768, img=32, patch=4, batch=32, pgd_steps=10, warmup=1, iters=3, threads=2, rank=8).items():
        ap.add_argument("--" + k.replace("_", "-"), type=int, default=v)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    eps, alpha = 8 / 255, 2 / 255
    model = ViT(a.img, a.patch, a.dim, a.depth, a.heads, a.mlp_dim)
    x = torch.rand(a.batch, 3, a.img, a.img)
    y = torch.randint(0, 10, (a.batch,))

    opt = torch.optim.Adam(model.parameters(), lr=1e-4)

    def full_step(steps):
        def run():
            xa = pgd(model, x, y, lambda: None, steps, eps, alpha) if steps else x
            opt.zero_grad(set_to_none=True)
            F.cross_entropy(model(xa), y).backward()
            opt.step()
        return run

    train_ms = median_ms(full_step(0), a.warmup, a.iters, "trainStep")
    adv_ms = median_ms(full_step(a.pgd_steps), a.warmup, a.iters, "advStep")

    # Frozen backbone from here on: only LoRA / hypernetwork and the head train.
    for p in model.parameters():
        p.requires_grad_(False)
    model.head.weight.requires_grad_(True)
    model.head.bias.requires_grad_(True)
    dims = module_dims(a.dim, a.mlp_dim)
    factors = {}
    for l in range(a.depth):
        for m, (din, dout) in dims.items():
            factors[f"{l}.{m}"] = (nn.Parameter(torch.empty(din, a.rank).uniform_(-1 / math.sqrt(din), 1 / math.sqrt(din))), nn.Parameter(torch.zeros(a.rank, dout)))
    lora = Lora(factors, 16 / a.rank)
    lora_params = [p for f in factors.values() for p in f] + [model.head.weight, model.head.bias]
    lora_opt = torch.optim.Adam(lora_params, lr=1e-4)

    def lora_step():
        xa = pgd(model, x, y, lambda: lora, a.pgd_steps, eps, alpha)
        lora_opt.zero_grad(set_to_none=True)
        F.cross_entropy(model(xa, lora), y).backward()
        lora_opt.step()

    lora_ms = median_ms(lora_step, a.warmup, a.iters, "loraAtStep")

    hyper = Hypernet(a.depth, dims, a.rank)
    hyper_opt = torch.optim.Adam(list(hyper.parameters()) + [model.head.weight, model.head.bias], lr=1e-4)
    counter = [0]

    def hyper_step():
        t = counter[0] % 3
        counter[0] += 1
        with torch.no_grad():
            attack_lora = Lora(hyper(t), 16 / a.rank)
        xa = pgd(model, x, y, lambda: attack_lora, a.pgd_steps, eps, alpha)
        hyper_opt.zero_grad(set_to_none=True)
        F.cross_entropy(model(xa, Lora(hyper(t), 16 / a.rank)), y).backward()
        hyper_opt.step()

    hyper_ms = median_ms(hyper_step, a.warmup, a.iters, "hyperatStep")
    print(json.dumps({
        "trainStepMs": round(train_ms, 1),
        "advStepMs": round(adv_ms, 1),
        "hyperatStepMs": round(hyper_ms, 1),
        "loraAtStepMs": round(lora_ms, 1),
        "imagesPerSecond": round(a.batch / adv_ms * 1000, 2),
        "peakRssBytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
        "backend": "pytorch-cpu",
        "workers": a.threads,
        "cpuMs": CPU_MS,
        "torchVersion": torch.__version__,
        "ompWaitPolicy": os.environ.get("OMP_WAIT_POLICY", ""),
    }))


if __name__ == "__main__":
    main()
