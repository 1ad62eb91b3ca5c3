#!/usr/bin/env python3
"""A ViT built ONLY from an exported folder's config.json and model.safetensors, in plain numpy.

No HyperAT code, no torch, no timm: the safetensors file is parsed by hand (8-byte header length,
JSON header, raw little-endian tensors) and the forward pass is timm's VisionTransformer written
out (class token, absolute position embedding, pre-norm blocks with fused qkv, LayerNorm eps 1e-6,
exact GELU, token pooling). It checks that a merged/<strategy>/ export is self-describing:

  python3 bench/plain_vit.py --model RUN/merged/adaptive --expected EXPECTED.safetensors

EXPECTED holds `x` (NHWC pixels in [0,1], HyperAT's layout) and `logits` (HyperAT's clean logits
for x); `npx tsx bench/export_roundtrip.ts --out DIR` writes a folder and its EXPECTED. Prints
the largest relative logit difference and exits 1 above --tol (default 1e-4).

--torch runs the same forward pass in plain PyTorch (float32 torch.nn.functional: conv2d for the
patch embedding, layer_norm, softmax attention, exact gelu; no timm), loading the tensors parsed
here, and also reports the largest absolute logit difference — the round trip through plain
PyTorch of issue 12. Use Debian's /usr/bin/python3 with python3-torch.

The same model in PyTorch, for users (timm >= 1.0, see docs/model-files.md "Loading an export"):
    cfg = json.load(open(f"{d}/config.json"))
    model = timm.create_model(cfg["architecture"], pretrained=False, **cfg["model_args"])
    model.load_state_dict(safetensors.torch.load_file(f"{d}/model.safetensors"))
"""
import argparse
import json
import struct
import sys

import numpy as np

DTYPES = {"F32": np.float32, "F16": np.float16, "F64": np.float64}


def read_safetensors(path):
    with open(path, "rb") as f:
        raw = f.read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8 : 8 + n])
    header.pop("__metadata__", None)
    out = {}
    for name, t in header.items():
        lo, hi = t["data_offsets"]
        buf = raw[8 + n + lo : 8 + n + hi]
        if t["dtype"] == "BF16":
            a = (np.frombuffer(buf, dtype="<u2").astype(np.uint32) << 16).view(np.float32)
        else:
            a = np.frombuffer(buf, dtype=np.dtype(DTYPES[t["dtype"]]).newbyteorder("<"))
        out[name] = a.astype(np.float64).reshape(t["shape"])
    return out


def layer_norm(x, w, b, eps=1e-6):
    mu = x.mean(-1, keepdims=True)
    var = ((x - mu) ** 2).mean(-1, keepdims=True)
    return (x - mu) / np.sqrt(var + eps) * w + b


def vit_logits(cfg, sd, x_nhwc):
    from scipy.special import erf  # here, so --torch runs on Debian's python3-torch without scipy

    a, p = cfg["model_args"], cfg["pretrained_cfg"]
    P, D, heads = a["patch_size"], a["embed_dim"], a["num_heads"]
    assert a.get("global_pool", "token") == "token" and a.get("class_token", True)
    x = (x_nhwc - np.array(p["mean"])) / np.array(p["std"])
    B, H, W, C = x.shape
    g = H // P
    # Conv with stride P = matmul over (c, ph, pw) patches, the order of the kernel's last 3 axes.
    patches = x.transpose(0, 3, 1, 2).reshape(B, C, g, P, g, P).transpose(0, 2, 4, 1, 3, 5).reshape(B, g * g, C * P * P)
    t = patches @ sd["patch_embed.proj.weight"].reshape(D, -1).T + sd["patch_embed.proj.bias"]
    t = np.concatenate([np.broadcast_to(sd["cls_token"], (B, 1, D)), t], axis=1) + sd["pos_embed"]
    hd = D // heads
    for i in range(a["depth"]):
        k = f"blocks.{i}."
        h = layer_norm(t, sd[k + "norm1.weight"], sd[k + "norm1.bias"])
        qkv = (h @ sd[k + "attn.qkv.weight"].T + sd[k + "attn.qkv.bias"]).reshape(B, -1, 3, heads, hd).transpose(2, 0, 3, 1, 4)
        q, kk, v = qkv[0], qkv[1], qkv[2]
        s = q @ kk.transpose(0, 1, 3, 2) / np.sqrt(hd)
        s = np.exp(s - s.max(-1, keepdims=True))
        s /= s.sum(-1, keepdims=True)
        o = (s @ v).transpose(0, 2, 1, 3).reshape(B, -1, D)
        t = t + o @ sd[k + "attn.proj.weight"].T + sd[k + "attn.proj.bias"]
        h = layer_norm(t, sd[k + "norm2.weight"], sd[k + "norm2.bias"])
        h = h @ sd[k + "mlp.fc1.weight"].T + sd[k + "mlp.fc1.bias"]
        h = 0.5 * h * (1 + erf(h / np.sqrt(2)))
        t = t + h @ sd[k + "mlp.fc2.weight"].T + sd[k + "mlp.fc2.bias"]
    t = layer_norm(t, sd["norm.weight"], sd["norm.bias"])
    return t[:, 0] @ sd["head.weight"].T + sd["head.bias"]


def vit_logits_torch(cfg, sd, x_nhwc):
    """vit_logits in float32 PyTorch; the conv weight is used as a conv, NCHW as torch expects."""
    import torch
    import torch.nn.functional as F

    a, p = cfg["model_args"], cfg["pretrained_cfg"]
    P, D, heads = a["patch_size"], a["embed_dim"], a["num_heads"]
    assert a.get("global_pool", "token") == "token" and a.get("class_token", True)
    w = {k: torch.tensor(v, dtype=torch.float32) for k, v in sd.items()}
    x = torch.tensor(x_nhwc, dtype=torch.float32).permute(0, 3, 1, 2)
    x = (x - torch.tensor(p["mean"]).view(1, -1, 1, 1)) / torch.tensor(p["std"]).view(1, -1, 1, 1)
    with torch.no_grad():
        t = F.conv2d(x, w["patch_embed.proj.weight"], w["patch_embed.proj.bias"], stride=P).flatten(2).transpose(1, 2)
        B = t.shape[0]
        t = torch.cat([w["cls_token"].expand(B, 1, D), t], dim=1) + w["pos_embed"]
        hd = D // heads
        for i in range(a["depth"]):
            k = f"blocks.{i}."
            h = F.layer_norm(t, (D,), w[k + "norm1.weight"], w[k + "norm1.bias"], eps=1e-6)
            qkv = F.linear(h, w[k + "attn.qkv.weight"], w[k + "attn.qkv.bias"]).reshape(B, -1, 3, heads, hd).permute(2, 0, 3, 1, 4)
            s = torch.softmax(qkv[0] @ qkv[1].transpose(-2, -1) / hd**0.5, dim=-1)
            o = (s @ qkv[2]).transpose(1, 2).reshape(B, -1, D)
            t = t + F.linear(o, w[k + "attn.proj.weight"], w[k + "attn.proj.bias"])
            h = F.layer_norm(t, (D,), w[k + "norm2.weight"], w[k + "norm2.bias"], eps=1e-6)
            h = F.gelu(F.linear(h, w[k + "mlp.fc1.weight"], w[k + "mlp.fc1.bias"]))
            t = t + F.linear(h, w[k + "mlp.fc2.weight"], w[k + "mlp.fc2.bias"])
        t = F.layer_norm(t, (D,), w["norm.weight"], w["norm.bias"], eps=1e-6)
        return F.linear(t[:, 0], w["head.weight"], w["head.bias"]).double().numpy()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", required=True, help="folder with config.json and model.safetensors")
    ap.add_argument("--expected", required=True, help="safetensors with x (NHWC) and HyperAT's logits")
    ap.add_argument("--tol", type=float, default=1e-4)
    ap.add_argument("--torch", action="store_true", help="forward pass in plain PyTorch (float32) instead of numpy")
    args = ap.parse_args()
    with open(f"{args.model}/config.json") as f:
        cfg = json.load(f)
    sd = read_safetensors(f"{args.model}/model.safetensors")
    exp = read_safetensors(args.expected)
    ours = (vit_logits_torch if args.torch else vit_logits)(cfg, sd, exp["x"])
    diff = float(np.abs(ours - exp["logits"]).max())
    rel = float(np.abs(ours - exp["logits"]).max() / max(np.abs(exp["logits"]).max(), 1e-12))
    same = int((ours.argmax(1) == exp["logits"].argmax(1)).sum())
    print(json.dumps({"model": args.model, "backend": "torch" if args.torch else "numpy", "max_abs_logit_difference": diff, "architecture": cfg["architecture"], "model_args": cfg["model_args"], "n": len(ours),
                      "max_relative_logit_difference": rel, "same_predictions": same, "tol": args.tol}))
    sys.exit(0 if rel <= args.tol else 1)


if __name__ == "__main__":
    main()
