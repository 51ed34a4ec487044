#!/usr/bin/env python3
"""Small PyTorch models exported to ONNX the way users export them (opsets 11 to 17), written in the layout of
ONNX's node tests (DIR/test_torch_<name>/model.onnx + test_data_set_0/{input_0,output_0}.pb) so that
run_conformance.py imports, compiles and checks them beside ONNX's own tests. They cover what single-operator
tests cannot: layout permutations between NCHW flatten/reshape and Dense, BatchNorm that cannot be folded,
MatMul + Add, ReduceMean, per-channel Add/Mul, residual Add and Concat, view/flatten shape chains.
Usage: make_torch_models.py OUT_DIR"""
import os
import sys

import onnx
import onnx.numpy_helper
import torch
import torch.nn as nn


class Lambda(nn.Module):
    def __init__(self, fn, **mods):
        super().__init__()
        self.fn = fn
        for k, v in mods.items():
            setattr(self, k, v)

    def forward(self, x):
        return self.fn(self, x)


def bn(c):
    b = nn.BatchNorm2d(c)
    b.running_mean.uniform_(-0.5, 0.5)
    b.running_var.uniform_(0.5, 2.0)
    b.weight.data.uniform_(0.5, 1.5)
    b.bias.data.uniform_(-0.5, 0.5)
    return b


def bn1(c):
    b = nn.BatchNorm1d(c)
    b.running_mean.uniform_(-0.5, 0.5)
    b.running_var.uniform_(0.5, 2.0)
    b.weight.data.uniform_(0.5, 1.5)
    b.bias.data.uniform_(-0.5, 0.5)
    return b


def qat_cnn():
    """A quantization-aware-trained CNN as PyTorch's eager QAT exports it (FakeQuantize -> QuantizeLinear +
    DequantizeLinear): u8 per-tensor activations, s8 per-channel weights on NNCF's narrow grid [-127, 127]
    (scale = max |w| / 127), Conv+ReLU fused, the logits quantized."""
    from torch.ao import quantization as tq

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.quant, self.dequant = tq.QuantStub(), tq.DeQuantStub()
            self.conv, self.relu, self.pool = nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2)
            self.conv2, self.relu2 = nn.Conv2d(8, 8, 3, padding=1, stride=2), nn.ReLU()
            self.fc = nn.Linear(8 * 2 * 2, 5)

        def forward(self, x):
            x = self.pool(self.relu(self.conv(self.quant(x))))
            return self.dequant(self.fc(torch.flatten(self.relu2(self.conv2(x)), 1)))

    net = Net().train()
    net.qconfig = tq.QConfig(
        activation=tq.FakeQuantize.with_args(observer=tq.MovingAverageMinMaxObserver, quant_min=0, quant_max=255),
        weight=tq.FakeQuantize.with_args(observer=tq.MovingAveragePerChannelMinMaxObserver, quant_min=-128,
                                         quant_max=127, dtype=torch.qint8, qscheme=torch.per_channel_symmetric))
    tq.fuse_modules_qat(net, [["conv", "relu"], ["conv2", "relu2"]], inplace=True)
    tq.prepare_qat(net, inplace=True)
    with torch.no_grad():
        for _ in range(16):
            net(torch.randn(4, 3, 8, 8))
    net.apply(tq.disable_observer)
    with torch.no_grad():
        for m in (net.conv, net.conv2, net.fc):
            w = m.weight.reshape(m.weight.shape[0], -1)
            m.weight_fake_quant.scale.copy_(w.abs().amax(dim=1) / 127)
            m.weight_fake_quant.zero_point.zero_()
    return net


def models():
    torch.manual_seed(7)
    yield "flatten_softmax", 13, (2, 3, 4, 5), Lambda(lambda m, x: torch.softmax(torch.flatten(x, 1), 1))
    yield "view_relu_out", 11, (2, 3, 4, 5), Lambda(lambda m, x: torch.relu(x.view(x.size(0), -1)))
    yield "conv_view_linear", 11, (3, 2, 6, 6), Lambda(
        lambda m, x: m.fc(m.conv(x).view(x.size(0), -1)), conv=nn.Conv2d(2, 4, 3), fc=nn.Linear(64, 5))
    yield "linear_reshape_conv", 13, (2, 12), Lambda(
        lambda m, x: m.conv(m.fc(x).reshape(-1, 3, 4, 4)), fc=nn.Linear(12, 48), conv=nn.Conv2d(3, 2, 3, padding=1))
    yield "matmul_add", 13, (4, 8), Lambda(
        lambda m, x: torch.matmul(x, m.w) + m.b, w=nn.Parameter(torch.randn(8, 6)), b=nn.Parameter(torch.randn(6)))
    yield "bn_after_relu", 13, (2, 3, 5, 5), Lambda(lambda m, x: m.bn(torch.relu(x)), bn=bn(3))
    yield "conv_bn_relu6", 17, (1, 3, 9, 9), Lambda(
        lambda m, x: torch.nn.functional.relu6(m.bn(m.conv(x))), conv=nn.Conv2d(3, 8, 3, stride=2, padding=1), bn=bn(8))
    yield "linear_bn1d", 13, (5, 7), Lambda(lambda m, x: m.bn(m.fc(x)), fc=nn.Linear(7, 6), bn=bn1(6))
    yield "reducemean_linear", 13, (2, 4, 5, 5), Lambda(
        lambda m, x: m.fc(x.mean(dim=(2, 3))), fc=nn.Linear(4, 3))
    yield "gap_flatten_linear", 12, (2, 4, 6, 6), Lambda(
        lambda m, x: m.fc(torch.flatten(nn.functional.adaptive_avg_pool2d(x, 1), 1)), fc=nn.Linear(4, 3))
    yield "channel_affine", 13, (2, 3, 4, 4), Lambda(
        lambda m, x: torch.relu(x) * m.s + m.t, s=nn.Parameter(torch.randn(3, 1, 1)), t=nn.Parameter(torch.randn(3, 1, 1)))
    yield "conv_add_bias", 13, (1, 2, 5, 5), Lambda(
        lambda m, x: m.conv(x) + m.t, conv=nn.Conv2d(2, 3, 3, bias=False), t=nn.Parameter(torch.randn(1, 3, 1, 1)))
    yield "residual_concat", 13, (2, 4, 6, 6), Lambda(
        lambda m, x: torch.cat([torch.relu(m.a(x)) + x, m.b(x)], 1), a=nn.Conv2d(4, 4, 3, padding=1), b=nn.Conv2d(4, 2, 1))
    yield "depthwise_pools", 13, (1, 6, 11, 11), Lambda(
        lambda m, x: nn.functional.avg_pool2d(nn.functional.max_pool2d(m.dw(x), 3, 2, 1, ceil_mode=True), 2),
        dw=nn.Conv2d(6, 12, 3, padding=2, dilation=2, groups=6))
    yield "clip_min_only", 13, (2, 3, 4, 4), Lambda(lambda m, x: torch.clamp(x, min=-0.25))
    yield "squeeze_unsqueeze", 13, (2, 5), Lambda(
        lambda m, x: m.fc(torch.relu(x.unsqueeze(2).unsqueeze(3)).squeeze(3).squeeze(2)), fc=nn.Linear(5, 2))
    yield "softmax_channels", 13, (2, 5, 3, 3), Lambda(lambda m, x: torch.softmax(m.conv(x), 1), conv=nn.Conv2d(5, 4, 1))
    yield "nhwc_in_out", 13, (2, 6, 6, 3), Lambda(  # TensorFlow-style NHWC model: Transpose in, Transpose out
        lambda m, x: torch.relu(m.conv(x.permute(0, 3, 1, 2))).permute(0, 2, 3, 1), conv=nn.Conv2d(3, 4, 3, padding=1))
    yield "nhwc_flatten_linear", 13, (2, 3, 5, 5), Lambda(
        lambda m, x: m.fc(m.conv(x).permute(0, 2, 3, 1).reshape(x.size(0), -1)), conv=nn.Conv2d(3, 4, 3), fc=nn.Linear(36, 5))
    yield "transpose_middle", 13, (2, 3, 4, 5), Lambda(lambda m, x: torch.relu(x.permute(0, 2, 1, 3)))
    yield "pad_conv", 13, (1, 3, 7, 6), Lambda(  # explicit zero padding before a convolution (TensorFlow style)
        lambda m, x: m.conv(nn.functional.pad(x, (1, 2, 0, 1))), conv=nn.Conv2d(3, 4, 3, stride=2))
    yield "dropout_identity", 13, (3, 6), Lambda(lambda m, x: m.fc(m.do(x)), fc=nn.Linear(6, 4), do=nn.Dropout(0.5))
    yield "qat_cnn", 13, (3, 3, 8, 8), qat_cnn()


def main():
    out = sys.argv[1]
    for name, opset, shape, net in models():
        net.eval()
        x = torch.randn(*shape)
        with torch.no_grad():
            y = net(x)
        d = os.path.join(out, "test_torch_" + name)
        os.makedirs(os.path.join(d, "test_data_set_0"), exist_ok=True)
        torch.onnx.export(net, x, os.path.join(d, "model.onnx"), opset_version=opset, input_names=["input"],
                          output_names=["output"], dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}},
                          training=torch.onnx.TrainingMode.PRESERVE, do_constant_folding=False)
        for k, t in (("input_0", x), ("output_0", y)):
            p = onnx.numpy_helper.from_array(t.numpy(), k)
            with open(os.path.join(d, "test_data_set_0", k + ".pb"), "wb") as f:
                f.write(p.SerializeToString())


if __name__ == "__main__":
    main()
