#!/usr/bin/env python3
"""Where PyTorch's ResNet-20 training step spends its time: the peer of `standalone bench --profile`.

Same network, batch and set-up as torch_resnet20.py's best eager configuration (2 threads, channels_last); run it with
    MALLOC_MMAP_THRESHOLD_=17179869184 MALLOC_TRIM_THRESHOLD_=17179869184 python3 bench/peers/torch_profile_resnet20.py
Prints torch.profiler's table of operators by self CPU time, grouped by input shape, over 5 profiled steps after 5
warm-up steps (divide by 5 for a step). The profiler adds a fixed cost per operator, so small ops read high.
"""
import os
import sys

import torch
import torch.nn.functional as F
from torch.profiler import ProfilerActivity, profile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from torch_resnet20 import ResNetCifar  # noqa: E402


def main():
    torch.set_num_threads(2)
    torch.manual_seed(0)
    model = ResNetCifar().to(memory_format=torch.channels_last)
    x = torch.randn(128, 1, 32, 32).contiguous(memory_format=torch.channels_last)
    y = torch.randint(0, 10, (128,))
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, weight_decay=5e-4)
    model.train()

    def step():
        loss = F.cross_entropy(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()

    for _ in range(5):
        step()
    with profile(activities=[ProfilerActivity.CPU], record_shapes=True) as prof:
        for _ in range(5):
            step()
    print(prof.key_averages(group_by_input_shape=True).table(sort_by="self_cpu_time_total", row_limit=40,
                                                             max_name_column_width=40, max_shapes_column_width=60))


if __name__ == "__main__":
    main()
