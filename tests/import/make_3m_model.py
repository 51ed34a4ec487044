#!/usr/bin/env python3
"""Writes a ~3 M-parameter CNN (random weights, BatchNorm with non-trivial statistics, a residual Add, a channel
Concat, GlobalAveragePool-free flatten + Dense head) as ONNX, plus one input batch and PyTorch's output, for
statiq-import's compile-cost measurement. Generated at test time (too large for git).
Usage: make_3m_model.py OUT_DIR   -> OUT_DIR/cnn3m.onnx, cnn3m_input.f32 [4,3,32,32], cnn3m_output.f32 [4,10]"""
import os
import sys

import torch
import torch.nn as nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.c1 = nn.Conv2d(3, 64, 3, padding=1)
        self.b1 = nn.BatchNorm2d(64)
        self.c2a = nn.Conv2d(64, 64, 3, padding=1)
        self.c2b = nn.Conv2d(64, 64, 1)
        self.c3 = nn.Conv2d(128, 128, 3, padding=1)
        self.b3 = nn.BatchNorm2d(128)
        self.c4 = nn.Conv2d(128, 256, 3, padding=1)
        self.c5 = nn.Conv2d(256, 256, 3, padding=1, groups=2)
        self.fc1 = nn.Linear(4 * 4 * 256, 512)
        self.fc2 = nn.Linear(512, 10)
        self.pool = nn.MaxPool2d(2)

    def forward(self, x):
        x = torch.relu(self.b1(self.c1(x)))                        # 64x32x32
        y = torch.relu(self.c2a(x)) + x                            # residual
        x = self.pool(torch.cat([y, self.c2b(x)], 1))              # 128x16x16
        x = self.pool(torch.relu(self.b3(self.c3(x))))             # 128x8x8
        x = torch.clamp(self.c4(x), 0.0, 6.0)                      # 256x8x8
        x = self.pool(torch.relu(self.c5(x)))                      # 256x4x4
        x = torch.relu(self.fc1(x.view(x.size(0), -1)))
        return self.fc2(x)


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    torch.manual_seed(3)
    net = Net()
    for bn in (net.b1, net.b3):
        bn.running_mean.uniform_(-0.2, 0.2)
        bn.running_var.uniform_(0.5, 1.5)
        bn.weight.data.uniform_(0.5, 1.5)
        bn.bias.data.uniform_(-0.2, 0.2)
    net.eval()
    x = torch.randn(4, 3, 32, 32)
    with torch.no_grad():
        y = net(x)
    torch.onnx.export(net, x, os.path.join(out, "cnn3m.onnx"), opset_version=13, input_names=["input"],
                      output_names=["logits"], dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}},
                      training=torch.onnx.TrainingMode.PRESERVE, do_constant_folding=False)
    x.numpy().astype("<f4").tofile(os.path.join(out, "cnn3m_input.f32"))
    y.numpy().astype("<f4").tofile(os.path.join(out, "cnn3m_output.f32"))
    print("parameters:", sum(p.numel() for p in net.parameters()))


if __name__ == "__main__":
    main()
