#!/usr/bin/python3
"""Writes data/reference/lrp.safetensors: LRP relevance (ALGORITHMS.md, "LRP relevance") on a small network that
contains every rule, computed here independently of the engine, for tests/Standalone.Tests/Reference/LrpReferenceTests.cs.

Run from anywhere:  /usr/bin/python3 data/reference/make_lrp_fixture.py   (needs only PyTorch)

The network (its blocks are the peer benchmark's BasicBlock, so its state-dict names are those of the zoo's
BasicBlock, which the C# test builds it from):
    conv1 3→8 3×3 p1 (no bias) + bn1, ReLU      first conv: z^B
    conv2 8→8 3×3 p1 (bias)    + bn2, ReLU      z⁺ (its bias is ignored)
    max-pool 2×2                                 winner takes all
    layer1 BasicBlock 8→8, identity shortcut     z⁺, residual add split a/(a+b), b/(a+b)
    avg-pool 3×3 stride 1 padding 1              z-rule (padded zeros count in the mean, contribute nothing)
    layer2 BasicBlock 8→16 stride 2, shortcut A  x[:, :, ::2, ::2] then 4 zero channels each side (Slice, Slice, Pad)
    layer3 BasicBlock 16→32 stride 2, shortcut B 1×1 conv + BN projection
    global average pool, flatten, fc 32→5        z-rule, ε-rule (bias in the denominator)
Every BN (evaluation mode, running statistics) is fused into its conv: W' = W·γ/σ, σ = √(running_var + eps); some γ
are negative, so the fusion flips the sign of those filters before w⁺/w⁻ are taken.

The rules are written from their definitions, not as the engine computes them: each conv's contributions z_ij are
materialised with unfold ([N, Cout, Cin·k·k, positions]), summed into denominators, and the relevance z_ij/z_j·R_j
is folded back onto the input; the Linear's z_ij likewise; the max-pool scatters to max_pool2d's arg-max indices.
Weights and inputs are drawn in float32 (what the engine loads); the relevance is computed in float64 from them.

Stored: "state.*" (float32 state dict), "x" (normalised images, float32), "labels", "mean"/"std" (the input
normalisation the z^B bounds come from), "logits", "R.<layer>" (float64 relevance at each layer's output, named as
the engine names its layers: module name for conv(+BN) and fc, "op#k" for the k-th parameterless op of a kind, and
"input"), "score.<conv>" (Σ over samples and positions of |R| at the conv's fused output).
"""
import os
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_fixtures import write_safetensors  # noqa: E402  (the fixtures' one safetensors writer)
from torch_resnet20 import BasicBlock  # noqa: E402  (make_fixtures put bench/peers on the path: one block definition)

SCRIPT = "data/reference/make_lrp_fixture.py"
EPSILON = 1e-6      # the Linear ε-rule
STABILIZER = 1e-9   # z⁺/z^B denominators, residual split, average pool
MEAN = [0.4, 0.5, 0.6]
STD = [0.2, 0.25, 0.3]
BATCH, CLASSES, SIZE = 4, 5, 12
POOL_KERNEL, POOL_PADDING = 3, 1  # the average pool after layer1 (stride 1)


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 8, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(8)
        self.conv2 = nn.Conv2d(8, 8, 3, 1, 1, bias=True)
        self.bn2 = nn.BatchNorm2d(8)
        self.layer1 = BasicBlock(8, 8, 1)     # identity shortcut
        self.layer2 = BasicBlock(8, 16, 2)    # shortcut A: the walk below subsamples and pads; no projection
        self.layer2.downsample = None
        self.layer3 = BasicBlock(16, 32, 2)   # shortcut B: its 1×1 conv + BN projection
        self.fc = nn.Linear(32, CLASSES)
        self.shortcuts = ("identity", "A", "B")


# ---- the rules ---------------------------------------------------------------------------------------------------

def ratio(r, z, eps):
    """R / (z + eps·sign z), 0 where z = 0."""
    zero = z == 0
    return torch.where(zero, torch.zeros_like(z), r / torch.where(zero, torch.ones_like(z), z + eps * torch.sign(z)))


def fused_weight(conv, bn):
    sigma = torch.sqrt(bn.running_var + bn.eps)
    return conv.weight * (bn.weight / sigma)[:, None, None, None]


def contributions(x, w, conv):
    """z_ij = x_i·w_ij for every output channel j, input patch entry i and position: [N, Cout, Cin·k·k, L]."""
    cols = F.unfold(x, w.shape[2:], padding=conv.padding, stride=conv.stride)
    return cols[:, None, :, :] * w.reshape(w.shape[0], -1)[None, :, :, None]


def redistribute(z, r, x, w, conv, eps):
    """R_i = Σ_j z_ij / (Σ_i' z_i'j) · R_j, folded back onto x's positions (overlapping windows add)."""
    s = ratio(r.flatten(2)[:, :, None, :], z.sum(2, keepdim=True), eps)
    return F.fold((z * s).sum(1), x.shape[2:], w.shape[2:], padding=conv.padding, stride=conv.stride)


def conv_zplus(x, w, conv, r):
    """α1β0: z_ij = (x_i·w_ij)⁺, bias ignored."""
    return redistribute(contributions(x, w, conv).clamp(min=0), r, x, w, conv, STABILIZER)


def conv_zbox(x, w, conv, r, low, high):
    """z^B: z_ij = x_i·w_ij − l_i·w⁺_ij − h_i·w⁻_ij (padding pads l and h with zeros too), bias ignored."""
    lows, highs = low.expand_as(x), high.expand_as(x)
    z = contributions(x, w, conv) - contributions(lows, w.clamp(min=0), conv) - contributions(highs, w.clamp(max=0), conv)
    return redistribute(z, r, x, w, conv, STABILIZER)


def linear_epsilon(x, fc, r):
    """ε-rule with the bias in the denominator: z_j = Σ_i x_i·w_ji + b_j."""
    z = x[:, None, :] * fc.weight[None, :, :]
    s = ratio(r, z.sum(2) + fc.bias, EPSILON)
    return (z * s[:, :, None]).sum(1)


def add_split(a, b, r):
    s = ratio(r, a + b, STABILIZER)
    return a * s, b * s


def avg_pool(x, r, kernel, padding):
    """Stride 1, zero padding counted: z_ij = x_i/k² per channel (unfold per channel), z_j = the window mean."""
    n, c = x.shape[:2]
    z = F.unfold(x, kernel, padding=padding).reshape(n, c, kernel * kernel, -1) / (kernel * kernel)
    s = ratio(r.flatten(2)[:, :, None, :], z.sum(2, keepdim=True), STABILIZER)
    return F.fold((z * s).reshape(n, c * kernel * kernel, -1), x.shape[2:], kernel, padding=padding)


def global_avg_pool(x, r):
    """z_ij = x_i/(H·W), z_j = the mean."""
    return x / (x.shape[2] * x.shape[3]) * ratio(r, x.mean((2, 3), keepdim=True), STABILIZER)


# ---- forward and the backward walk -------------------------------------------------------------------------------

def relevance(net, x, labels, low, high):
    """Returns the logits, {layer name: R at its output} and {conv name: channel score}."""
    relu = torch.relu
    with torch.no_grad():
        # forward, keeping what the rules need
        a0 = x
        a1 = relu(net.bn1(net.conv1(a0)))
        a2 = relu(net.bn2(net.conv2(a1)))
        a3, winners = F.max_pool2d(a2, 2, return_indices=True)
        blocks, h = [], a3
        for block, shortcut in zip((net.layer1, net.layer2, net.layer3), net.shortcuts):
            u = relu(block.bn1(block.conv1(h)))
            v = block.bn2(block.conv2(u))
            rows = cols = None
            if shortcut == "identity":
                sc = h
            elif shortcut == "A":  # x[:, :, ::2, ::2], then (planes − inplanes)/2 zero channels on each side
                rows = h[:, :, ::2, :]
                cols = rows[:, :, :, ::2]
                pad = (v.shape[1] - h.shape[1]) // 2
                sc = F.pad(cols, (0, 0, 0, 0, pad, pad))
            else:
                sc = block.downsample(h)
            blocks.append((block, shortcut, h, u, v, sc, rows, cols))
            h = relu(v + sc)
            if block is net.layer1:
                pool_in = h
                h = F.avg_pool2d(h, POOL_KERNEL, 1, POOL_PADDING, count_include_pad=True)
        pooled = h.mean((2, 3), keepdim=True)
        flat = pooled.flatten(1)
        logits = net.fc(flat)

        R, scores = {}, {}

        def conv_layer(name, conv, bn, xin, r, first=False):
            R[name] = r
            scores[name] = r.abs().sum((0, 2, 3))
            w = fused_weight(conv, bn)
            return conv_zbox(xin, w, conv, r, low, high) if first else conv_zplus(xin, w, conv, r)

        r = torch.zeros_like(logits)
        r[torch.arange(len(labels)), labels] = 1.0
        R["fc"] = r
        r = linear_epsilon(flat, net.fc, r)
        R["reshape#0"] = r
        r = r.reshape(pooled.shape)
        R["global_avg_pool2d#0"] = r
        r = global_avg_pool(h, r)
        for k, (block, shortcut, hin, u, v, sc, rows, cols) in reversed(list(enumerate(blocks))):
            p = f"layer{k + 1}."
            R[f"relu#{2 * k + 3}"] = r
            R[f"add#{k}"] = r
            r_main, r_short = add_split(v, sc, r)
            r_u = conv_layer(p + "conv2", block.conv2, block.bn2, u, r_main)
            R[f"relu#{2 * k + 2}"] = r_u
            r_in = conv_layer(p + "conv1", block.conv1, block.bn1, hin, r_u)
            if shortcut == "identity":
                r_in = r_in + r_short
            elif shortcut == "A":
                R["pad#0"] = r_short
                pad = (v.shape[1] - hin.shape[1]) // 2
                r_cols = r_short[:, pad:pad + cols.shape[1]]
                R["slice#1"] = r_cols
                r_rows = torch.zeros_like(rows)
                r_rows[:, :, :, ::2] = r_cols
                R["slice#0"] = r_rows
                r_h = torch.zeros_like(hin)
                r_h[:, :, ::2, :] = r_rows
                r_in = r_in + r_h
            else:
                r_in = r_in + conv_layer(p + "downsample.0", block.downsample[0], block.downsample[1], hin, r_short)
            r = r_in
            if block is net.layer2:
                R["avg_pool2d#0"] = r
                r = avg_pool(pool_in, r, POOL_KERNEL, POOL_PADDING)
        R["max_pool2d#0"] = r
        # each window's relevance to its winner (max_pool2d's flat h·W + w index per plane)
        r = torch.zeros_like(a2).flatten(2).scatter_(2, winners.flatten(2), r.flatten(2)).reshape(a2.shape)
        R["relu#1"] = r
        r = conv_layer("conv2", net.conv2, net.bn2, a1, r)
        R["relu#0"] = r
        R["input"] = conv_layer("conv1", net.conv1, net.bn1, a0, r, first=True)
    return logits, R, scores


def main():
    torch.set_num_threads(1)
    torch.backends.mkldnn.enabled = False
    torch.use_deterministic_algorithms(True)
    torch.manual_seed(7)
    net = Net()
    with torch.no_grad():
        for m in net.modules():
            if isinstance(m, nn.BatchNorm2d):
                # γ around 0.5 with spread 0.5: about one in six negative, so fusion flips some filters.
                m.weight.copy_(0.5 + 0.5 * torch.randn_like(m.weight))
                m.bias.copy_(0.1 * torch.randn_like(m.bias))
                m.running_mean.copy_(0.1 * torch.randn_like(m.running_mean))
                m.running_var.copy_(0.5 + torch.rand_like(m.running_var))
    net.eval()
    mean = torch.tensor(MEAN).reshape(1, 3, 1, 1)
    std = torch.tensor(STD).reshape(1, 3, 1, 1)
    pixels = torch.rand(BATCH, 3, SIZE, SIZE)
    x = ((pixels - mean) / std).float()
    labels = torch.randint(0, CLASSES, (BATCH,), dtype=torch.int64)
    state = [("state." + k, v.clone()) for k, v in net.state_dict().items()]

    double = net.double()
    low = ((0 - mean) / std).double()
    high = ((1 - mean) / std).double()
    logits, R, scores = relevance(double, x.double(), labels, low, high)

    tensors = state + [("x", x), ("labels", labels), ("mean", torch.tensor(MEAN, dtype=torch.float64)),
                       ("std", torch.tensor(STD, dtype=torch.float64)), ("logits", logits)]
    tensors += [("R." + k, v) for k, v in sorted(R.items())]
    tensors += [("score." + k, v) for k, v in sorted(scores.items())]
    write_safetensors("lrp", tensors, {
        "script": SCRIPT,
        "epsilon": repr(EPSILON),
        "stabilizer": repr(STABILIZER),
        "pixel_range": "0,1",
        "model": "conv1+bn1 (z^B), conv2(bias)+bn2, maxpool 2, BasicBlock 8→8 identity, avgpool 3 s1 p1, 8→16 s2 shortcut A, 16→32 s2 shortcut B, GAP, fc 32→5",
        "rules": "conv α1β0 on BN-fused weights (bias ignored); first conv z^B; fc ε with bias; max-pool winner-take-all; "
                 "average pools and residual add proportional with z + s·sign(z); pad/slice/reshape route back",
    })


if __name__ == "__main__":
    main()
