#!/usr/bin/env python3
"""The PyTorch peer of `standalone bench`: the same network, batch sizes and definitions, printing the same keys.

Runs with Debian's PyTorch (python3-torch; install libopenblas0-pthread too, or torch's BLAS falls back to a slow
reference build). Its best eager configuration is the default here: 2 threads, channels_last; run it with
    MALLOC_MMAP_THRESHOLD_=17179869184 MALLOC_TRIM_THRESHOLD_=17179869184 python3 bench/peers/torch_resnet20.py
(bench/compare.sh does). --plain measures PyTorch out of the box (contiguous NCHW, default threads).

Keys (each the median of several timed repetitions after warm-up):
  sgemm_gflops_1024, sgemm_gflops_2048  torch.mm of n×n float32 matrices, 2n³ flops
  resnet20_train_img_s                  forward + cross-entropy + backward + SGD step, batch 128, 1×32×32, 10 classes
  resnet20_infer_img_s                  eval mode, no grad, batch 256
"""
import argparse
import json
import statistics
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


class BasicBlock(nn.Module):
    def __init__(self, in_planes, planes, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(in_planes, planes, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.downsample = None
        if stride != 1 or in_planes != planes:  # shortcut B: 1×1 conv + BN
            self.downsample = nn.Sequential(nn.Conv2d(in_planes, planes, 1, stride, bias=False), nn.BatchNorm2d(planes))

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return F.relu(out + (x if self.downsample is None else self.downsample(x)))


class ResNetCifar(nn.Module):
    def __init__(self, depth=20, num_classes=10, in_channels=1):
        super().__init__()
        n = (depth - 2) // 6
        self.conv1 = nn.Conv2d(in_channels, 16, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(16)
        in_planes = 16
        for s, width in enumerate((16, 32, 64)):
            blocks = []
            for b in range(n):
                blocks.append(BasicBlock(in_planes, width, 2 if b == 0 and s > 0 else 1))
                in_planes = width
            setattr(self, f"layer{s + 1}", nn.Sequential(*blocks))
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(64, num_classes)

    def forward(self, x):
        x = F.relu(self.bn1(self.conv1(x)))
        x = self.layer3(self.layer2(self.layer1(x)))
        return self.fc(torch.flatten(self.avgpool(x), 1))


def sgemm(n, reps):
    a, b = torch.rand(n, n), torch.rand(n, n)
    torch.mm(a, b)
    rates = []
    for _ in range(reps):
        t = time.perf_counter()
        torch.mm(a, b)
        rates.append(2 * n ** 3 / (time.perf_counter() - t) / 1e9)
    return statistics.median(rates)


def training_step(batch, channels_last):
    """One training step on a fixed random batch (forward, cross-entropy, backward, SGD step), as a function."""
    model = ResNetCifar()
    x = torch.randn(batch, 1, 32, 32)
    y = torch.randint(0, 10, (batch,))
    if channels_last:
        model = model.to(memory_format=torch.channels_last)
        x = x.contiguous(memory_format=torch.channels_last)
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, weight_decay=5e-4)
    model.train()

    def step():
        loss = F.cross_entropy(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()

    return step


def train(reps, steps, batch, channels_last):
    step = training_step(batch, channels_last)
    for _ in range(3):
        step()
    rates = []
    for _ in range(reps):
        t = time.perf_counter()
        for _ in range(steps):
            step()
        rates.append(batch * steps / (time.perf_counter() - t))
    return statistics.median(rates)


def infer(reps, steps, batch, channels_last):
    model = ResNetCifar().eval()
    x = torch.randn(batch, 1, 32, 32)
    if channels_last:
        model = model.to(memory_format=torch.channels_last)
        x = x.contiguous(memory_format=torch.channels_last)
    with torch.no_grad():
        for _ in range(2):
            model(x)
        rates = []
        for _ in range(reps):
            t = time.perf_counter()
            for _ in range(steps):
                model(x)
            rates.append(batch * steps / (time.perf_counter() - t))
    return statistics.median(rates)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--json", help="also write the keys to this file")
    parser.add_argument("--repetitions", type=int, default=5)
    parser.add_argument("--plain", action="store_true", help="PyTorch out of the box: NCHW, default thread count")
    args = parser.parse_args()
    if not args.plain:
        torch.set_num_threads(2)
    channels_last = not args.plain
    torch.manual_seed(0)
    result = {
        "sgemm_gflops_1024": round(sgemm(1024, args.repetitions * 2), 1),
        "sgemm_gflops_2048": round(sgemm(2048, args.repetitions), 1),
        "resnet20_train_img_s": round(train(args.repetitions, 3, 128, channels_last), 1),
        "resnet20_infer_img_s": round(infer(args.repetitions, 3, 256, channels_last), 1),
    }
    for key, value in result.items():
        print(f"{key:<24} {value}")
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, channels_last={channels_last}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(result, f, indent=2)
            f.write("\n")


if __name__ == "__main__":
    main()
