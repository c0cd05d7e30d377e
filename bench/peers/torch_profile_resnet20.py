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
from torch.profiler import ProfilerActivity, profile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from torch_resnet20 import training_step  # noqa: E402


def main():
    torch.set_num_threads(2)
    torch.manual_seed(0)
    step = training_step(128, channels_last=True)
    for _ in range(5):
        step()
    with profile(activities=[ProfilerActivity.CPU], record_shapes=True) as prof:
        for _ in range(5):
            step()
    print(prof.key_averages(group_by_input_shape=True).table(sort_by="self_cpu_time_total", row_limit=40,
                                                             max_name_column_width=40, max_shapes_column_width=60))


if __name__ == "__main__":
    main()
