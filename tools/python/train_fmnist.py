#!/usr/bin/python3
"""Train statiq's reference Fashion-MNIST CNN and export it to ONNX.

Model (NCHW in PyTorch; statiq runs it channels-last):
    Conv 1->16 3x3 pad 1 + BatchNorm + ReLU, MaxPool 2x2 s2       28x28 -> 14x14
    Conv 16->32 3x3 pad 1 + BatchNorm + ReLU, MaxPool 2x2 s2      14x14 -> 7x7
    Flatten (PyTorch order c, h, w) -> Linear 1568->64 + ReLU -> Linear 64->10 (logits)

Input normalisation is NOT part of the model:  x = (pixel / 255 - 0.2860) / 0.3530
(statiq embeds it as preprocessing: mean 0.2860*255, scale 0.3530*255 on raw u8 pixels).

Outputs (in --out, default tests/data/fmnist):
    fmnist_cnn.onnx          opset 13, input "input" [batch,1,28,28] float32 (normalised),
                             output "logits" [batch,10]; BatchNormalization nodes kept.
    fmnist_cnn_fused.onnx    the same weights exported with torch.onnx.export's default
                             training=EVAL, which folds each BatchNorm into its Conv.
    fmnist_cnn_logits.f32    PyTorch logits for the 10,000 test images, little-endian
                             float32 [10000][10], in the order of t10k-images-idx3-ubyte.

Usage:  /usr/bin/python3 tools/python/train_fmnist.py [--data DIR] [--out DIR] [--epochs N] [--threads N]
Deterministic for a given seed, thread count and PyTorch build.
"""
import argparse
import gzip
import os
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

MEAN, STD = 0.2860, 0.3530


def load_idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    magic = int.from_bytes(data[0:4], "big")
    ndim = magic & 0xFF
    dims = [int.from_bytes(data[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def load_split(data_dir, prefix):
    x = load_idx(os.path.join(data_dir, f"{prefix}-images-idx3-ubyte.gz"))
    y = load_idx(os.path.join(data_dir, f"{prefix}-labels-idx1-ubyte.gz"))
    return x, y


def normalise(x_u8):
    """uint8 [N,28,28] -> float32 [N,1,28,28] normalised the way the model expects."""
    x = torch.from_numpy(x_u8.astype(np.float32) / 255.0).unsqueeze(1)
    return (x - MEAN) / STD


class FmnistCNN(nn.Module):
    def __init__(self, c1=16, c2=32, hidden=64):
        super().__init__()
        self.conv1 = nn.Conv2d(1, c1, 3, padding=1)
        self.bn1 = nn.BatchNorm2d(c1)
        self.conv2 = nn.Conv2d(c1, c2, 3, padding=1)
        self.bn2 = nn.BatchNorm2d(c2)
        self.fc1 = nn.Linear(c2 * 7 * 7, hidden)
        self.fc2 = nn.Linear(hidden, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.bn1(self.conv1(x))), 2, 2)
        x = F.max_pool2d(F.relu(self.bn2(self.conv2(x))), 2, 2)
        x = torch.flatten(x, 1)
        return self.fc2(F.relu(self.fc1(x)))


@torch.no_grad()
def logits_of(model, x, bs=1000):
    model.eval()
    return torch.cat([model(x[i:i + bs]) for i in range(0, len(x), bs)])


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", default="/usr/share/datasets/fashion-mnist")
    ap.add_argument("--out", default=os.path.normpath(os.path.join(here, "..", "..", "tests", "data", "fmnist")))
    ap.add_argument("--epochs", type=int, default=4)
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--seed", type=int, default=20240501)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    np.random.seed(args.seed)
    torch.use_deterministic_algorithms(True)

    xtr_u8, ytr = load_split(args.data, "train")
    xte_u8, yte = load_split(args.data, "t10k")
    xtr, xte = normalise(xtr_u8), normalise(xte_u8)
    ytr, yte = torch.from_numpy(ytr.astype(np.int64)), torch.from_numpy(yte.astype(np.int64))
    print(f"train {tuple(xtr.shape)}, test {tuple(xte.shape)}; normalised train mean {xtr.mean():.4f} std {xtr.std():.4f}")

    model = FmnistCNN()
    n_params = sum(p.numel() for p in model.parameters())
    print(f"parameters: {n_params}")
    steps_per_epoch = (len(xtr) + args.batch - 1) // args.batch
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=1e-4)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=args.lr, total_steps=args.epochs * steps_per_epoch,
                                                pct_start=0.2)
    g = torch.Generator().manual_seed(args.seed)
    t0 = time.time()
    for epoch in range(args.epochs):
        model.train()
        perm = torch.randperm(len(xtr), generator=g)
        tot, correct, loss_sum = 0, 0, 0.0
        for i in range(0, len(xtr), args.batch):
            idx = perm[i:i + args.batch]
            xb, yb = xtr[idx], ytr[idx]
            out = model(xb)
            loss = F.cross_entropy(out, yb)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            loss_sum += loss.item() * len(idx)
            correct += (out.argmax(1) == yb).sum().item()
            tot += len(idx)
        acc = (logits_of(model, xte).argmax(1) == yte).float().mean().item()
        print(f"epoch {epoch + 1}/{args.epochs}: train loss {loss_sum / tot:.4f} train acc {correct / tot:.4f} "
              f"test acc {acc:.4f}  ({time.time() - t0:.0f} s)")

    model.eval()
    logits = logits_of(model, xte)
    acc = (logits.argmax(1) == yte).float().mean().item()
    print(f"float test accuracy: {acc:.4f} ({int(round(acc * len(yte)))}/{len(yte)})")

    os.makedirs(args.out, exist_ok=True)
    logits.numpy().astype("<f4").tofile(os.path.join(args.out, "fmnist_cnn_logits.f32"))

    dummy = xte[:1].clone()
    common = dict(opset_version=13, input_names=["input"], output_names=["logits"],
                  dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}}, do_constant_folding=False)
    # training=EVAL (the default) runs an "eval peephole" pass that folds BatchNorm into the
    # preceding Conv regardless of do_constant_folding. PRESERVE with the model in eval mode
    # keeps the BatchNormalization nodes (inference form, running statistics).
    onnx_path = os.path.join(args.out, "fmnist_cnn.onnx")
    torch.onnx.export(model, dummy, onnx_path, training=torch.onnx.TrainingMode.PRESERVE, **common)
    fused_path = os.path.join(args.out, "fmnist_cnn_fused.onnx")
    torch.onnx.export(model, dummy, fused_path, training=torch.onnx.TrainingMode.EVAL, **common)

    try:
        import onnx
        from onnx import helper, numpy_helper
        for path in (onnx_path, fused_path):
            m = onnx.load(path)
            onnx.checker.check_model(m)
            inits = {t.name: numpy_helper.to_array(t) for t in m.graph.initializer}
            print(f"{os.path.basename(path)}: opset {m.opset_import[0].version}, "
                  f"input {m.graph.input[0].name} {[d.dim_param or d.dim_value for d in m.graph.input[0].type.tensor_type.shape.dim]}")
            for n in m.graph.node:
                attrs = {a.name: helper.get_attribute_value(a) for a in n.attribute}
                shapes = [tuple(inits[i].shape) for i in n.input if i in inits]
                print(f"  {n.op_type:20s} {attrs} {shapes if shapes else ''}")
    except ImportError:
        pass


if __name__ == "__main__":
    main()
