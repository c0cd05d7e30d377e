#!/usr/bin/python3
"""Writes the PyTorch reference fixtures that tests/Standalone.Tests/Reference compares the engine against.

Run from anywhere:  /usr/bin/python3 data/reference/make_fixtures.py
Needs only PyTorch (and the NumPy it ships with). The files are written next to this script as .safetensors,
by hand (struct + json), each with __metadata__ {"script", "format_version", "torch"} plus per-fixture notes.

Every op fixture is computed in float64 so that it is an exact reference (the tests compare float64 results at
~1e-10 and float32 results against the same values); the ResNet-20 training step is float32, as PyTorch trains it.
Re-running gives identical bytes on the same PyTorch build: fixed seeds, one thread, oneDNN off.
Bump FORMAT_VERSION (and Fixture.FormatVersion in the tests) when the layout of a fixture changes.
"""
import json
import os
import struct
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

FORMAT_VERSION = "1"
SCRIPT = "data/reference/make_fixtures.py"
OUT_DIR = os.path.dirname(os.path.abspath(__file__))

DTYPES = {torch.float64: ("F64", "<f8"), torch.float32: ("F32", "<f4"), torch.int64: ("I64", "<i8"), torch.int32: ("I32", "<i4")}


def write_safetensors(name, tensors, metadata):
    """tensors: list of (key, tensor) in file order; metadata: dict of str -> str (the common keys are added)."""
    meta = {"script": SCRIPT, "format_version": FORMAT_VERSION, "torch": torch.__version__}
    meta.update(metadata)
    header = {"__metadata__": meta}
    chunks, offset, seen = [], 0, set()
    for key, t in tensors:
        assert key not in seen, f"duplicate tensor name {key}"
        seen.add(key)
        t = t.detach().contiguous()
        dtype, np_dtype = DTYPES[t.dtype]
        data = t.numpy().astype(np_dtype, copy=False).tobytes()
        header[key] = {"dtype": dtype, "shape": list(t.shape), "data_offsets": [offset, offset + len(data)]}
        chunks.append(data)
        offset += len(data)
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * (-len(text) % 8)  # pad the header to a multiple of 8 bytes
    path = os.path.join(OUT_DIR, name + ".safetensors")
    with open(path + ".tmp", "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for c in chunks:
            f.write(c)
    os.replace(path + ".tmp", path)
    print(f"{path}: {len(tensors)} tensors, {8 + len(text) + offset} bytes")


def seeded(seed):
    torch.manual_seed(seed)


def leaf(t):
    return t.clone().requires_grad_(True)


# ---- conv2d ------------------------------------------------------------------------------------------------------

# (x shape, out channels, kernel, stride, padding, dilation, groups, bias)
CONV_CASES = [
    ((2, 3, 8, 8), 4, 3, 1, 1, 1, 1, True),     # the ResNet 3×3 conv
    ((2, 3, 7, 9), 5, 3, 2, 0, 1, 1, False),    # stride 2, no padding, odd sizes (floor)
    ((2, 3, 9, 7), 4, 3, 1, 2, 2, 1, True),     # dilation 2
    ((2, 4, 7, 9), 6, 3, 2, 1, 1, 2, True),     # groups 2
    ((2, 4, 7, 9), 4, 3, 1, 1, 1, 4, False),    # depthwise
    ((2, 3, 7, 9), 4, 1, 2, 0, 1, 1, True),     # the 1×1 stride-2 shortcut projection
    ((1, 6, 11, 10), 4, 5, 3, 2, 2, 2, False),  # everything at once: 5×5, stride 3, padding 2, dilation 2, groups 2
]


def make_conv2d():
    seeded(1)
    tensors, meta = [], {"cases": str(len(CONV_CASES))}
    for i, (xs, cout, k, stride, padding, dilation, groups, has_bias) in enumerate(CONV_CASES):
        x = leaf(torch.randn(xs, dtype=torch.float64))
        w = leaf(torch.randn(cout, xs[1] // groups, k, k, dtype=torch.float64) * 0.5)
        b = leaf(torch.randn(cout, dtype=torch.float64)) if has_bias else None
        y = F.conv2d(x, w, b, stride=stride, padding=padding, dilation=dilation, groups=groups)
        dy = torch.randn_like(y)
        y.backward(dy)
        p = f"case{i}."
        tensors += [(p + "x", x), (p + "weight", w)] + ([(p + "bias", b)] if has_bias else [])
        tensors += [(p + "dY", dy), (p + "y", y), (p + "dX", x.grad), (p + "dW", w.grad)]
        tensors += [(p + "dB", b.grad)] if has_bias else []
        meta[f"case{i}"] = f"stride={stride},padding={padding},dilation={dilation},groups={groups},bias={int(has_bias)}"
    write_safetensors("conv2d", tensors, meta)


# ---- batch norm --------------------------------------------------------------------------------------------------

BN_MOMENTUM, BN_EPS = 0.1, 1e-5


def make_batchnorm2d():
    seeded(2)
    tensors = []
    for mode, training in (("train", True), ("eval", False)):
        x = leaf(torch.randn(4, 3, 5, 5, dtype=torch.float64) * 2 + 1)
        gamma = leaf(1 + 0.5 * torch.randn(3, dtype=torch.float64))
        beta = leaf(0.5 * torch.randn(3, dtype=torch.float64))
        running_mean = 0.5 * torch.randn(3, dtype=torch.float64)
        running_var = 0.5 + torch.rand(3, dtype=torch.float64)
        rm, rv = running_mean.clone(), running_var.clone()  # batch_norm updates these in place in training mode
        y = F.batch_norm(x, rm, rv, gamma, beta, training=training, momentum=BN_MOMENTUM, eps=BN_EPS)
        dy = torch.randn_like(y)
        y.backward(dy)
        p = mode + "."
        tensors += [(p + "x", x), (p + "gamma", gamma), (p + "beta", beta),
                    (p + "running_mean", running_mean), (p + "running_var", running_var),
                    (p + "dY", dy), (p + "y", y), (p + "dX", x.grad), (p + "dGamma", gamma.grad), (p + "dBeta", beta.grad)]
        if training:
            tensors += [(p + "running_mean_after", rm), (p + "running_var_after", rv)]
    write_safetensors("batchnorm2d", tensors, {"momentum": str(BN_MOMENTUM), "eps": str(BN_EPS)})


# ---- pooling -----------------------------------------------------------------------------------------------------

# (kind, x shape, kernel, stride, padding); average pooling counts padded zeros (count_include_pad=True)
POOL_CASES = [
    ("max", (2, 3, 8, 8), 2, 2, 0),
    ("max", (2, 3, 7, 9), 3, 2, 1),
    ("avg", (2, 3, 7, 9), 2, 2, 0),
    ("avg", (2, 3, 7, 9), 3, 1, 1),
]


def make_pool2d():
    seeded(3)
    tensors, meta = [], {"cases": str(len(POOL_CASES))}
    for i, (kind, xs, k, stride, padding) in enumerate(POOL_CASES):
        n = torch.Size(xs).numel()
        # distinct values, 4/n apart: no ties for max pooling, in float64 or after rounding to float32
        x = leaf(((torch.randperm(n, dtype=torch.float64) - n / 2) * (4.0 / n)).reshape(xs))
        if kind == "max":
            y = F.max_pool2d(x, k, stride, padding)
        else:
            y = F.avg_pool2d(x, k, stride, padding, count_include_pad=True)
        dy = torch.randn_like(y)
        y.backward(dy)
        p = f"case{i}."
        tensors += [(p + "x", x), (p + "dY", dy), (p + "y", y), (p + "dX", x.grad)]
        meta[f"case{i}"] = f"kind={kind},kernel={k},stride={stride},padding={padding}"
    write_safetensors("pool2d", tensors, meta)


# ---- cross-entropy -----------------------------------------------------------------------------------------------

CE_CASES = [("mean", 0.0), ("sum", 0.0), ("mean", 0.1), ("sum", 0.1)]


def make_cross_entropy():
    seeded(4)
    logits = torch.randn(7, 5, dtype=torch.float64) * 2
    labels = torch.randint(0, 5, (7,), dtype=torch.int64)
    tensors, meta = [("logits", logits), ("labels", labels)], {"cases": str(len(CE_CASES))}
    for i, (reduction, smoothing) in enumerate(CE_CASES):
        x = leaf(logits)
        loss = F.cross_entropy(x, labels, reduction=reduction, label_smoothing=smoothing)
        loss.backward()
        tensors += [(f"case{i}.loss", loss), (f"case{i}.dLogits", x.grad)]
        meta[f"case{i}"] = f"reduction={reduction},label_smoothing={smoothing}"
    write_safetensors("cross_entropy", tensors, meta)


# ---- ResNet-20 training step -------------------------------------------------------------------------------------

# The network is defined once, in the benchmark peer script (the same model src/Models/Zoo/ResNetCifar.cs builds).
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "bench", "peers"))
from torch_resnet20 import ResNetCifar  # noqa: E402


def make_resnet20_step():
    seeded(5)
    model = ResNetCifar(20, 10, 1)
    # Non-default BN parameters and running statistics, so that the test sees them used and updated.
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(m, nn.BatchNorm2d):
                m.weight.copy_(1 + 0.1 * torch.randn_like(m.weight))
                m.bias.copy_(0.1 * torch.randn_like(m.bias))
                m.running_mean.copy_(0.1 * torch.randn_like(m.running_mean))
                m.running_var.copy_(0.75 + 0.5 * torch.rand_like(m.running_var))
    model.train()
    init = [("init." + k, v.clone()) for k, v in model.state_dict().items()]
    x = torch.randn(8, 1, 32, 32)
    labels = torch.randint(0, 10, (8,), dtype=torch.int64)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=5e-4)
    optimizer.zero_grad()
    logits = model(x)
    loss = F.cross_entropy(logits, labels)
    loss.backward()
    grads = [("grad." + k, p.grad.clone()) for k, p in model.named_parameters()]
    optimizer.step()
    after = [("after." + k, v.clone()) for k, v in model.state_dict().items()]
    tensors = init + [("x", x), ("labels", labels), ("logits", logits), ("loss", loss)] + grads + after
    write_safetensors("resnet20_step", tensors, {
        "model": "ResNetCifar(depth 20, 10 classes, 1 input channel, shortcut B), training mode, float32",
        "loss": "cross_entropy(reduction=mean)",
        "optimizer": "SGD(lr=0.1, momentum=0.9, weight_decay=5e-4, dampening=0, nesterov=False), one step",
    })


def main():
    torch.set_num_threads(1)
    torch.backends.mkldnn.enabled = False  # plain ATen kernels, not oneDNN's CPU-dependent ones
    torch.use_deterministic_algorithms(True)
    make_conv2d()
    make_batchnorm2d()
    make_pool2d()
    make_cross_entropy()
    make_resnet20_step()


if __name__ == "__main__":
    main()
