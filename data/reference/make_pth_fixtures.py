#!/usr/bin/env python3
"""PyTorch checkpoint fixtures for the .pth reader (src/Models/IO/TorchCheckpoint.cs).

Run from the repository root with Debian's PyTorch:  /usr/bin/python3 data/reference/make_pth_fixtures.py
It writes, next to this script, under pth/:
  resnet20.pth                     torch.save(model.state_dict()): float32, the zip format
  resnet20-fp16-dataparallel.pth   {"epoch": 3, "model": state dict of nn.DataParallel(model) in float16} ("module." keys)
  resnet20-bf16-views.pth          {"state_dict": ...} in bfloat16 where every float tensor is a view into one shared
                                   storage at its own offset, and fc.weight is a transposed (non-contiguous) view
  module.pth                       torch.save(a whole nn.Module): must be refused
  legacy.pth                       the pre-1.6 (non-zip) format: must be refused with advice
  pth_logits.safetensors           the input x and PyTorch's logits for each of the three state dicts (eval mode)
The model is the CIFAR ResNet-20 of bench/peers/torch_resnet20.py (1 input channel, 10 classes, shortcut B) with
seeded weights and batch-norm statistics; the half-precision logits are computed with the weights rounded to that
precision and widened back to float32, which is what the reader does.
"""
import os
import sys

import torch
import torch.nn as nn

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "..", "bench", "peers"))
from make_fixtures import write_safetensors  # noqa: E402
from torch_resnet20 import ResNetCifar  # noqa: E402

OUT = os.path.join(HERE, "pth")


def model_with_state():
    torch.manual_seed(11)
    model = ResNetCifar(20, 10, 1)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.weight.copy_(1 + 0.1 * torch.randn_like(m.weight))
                m.bias.copy_(0.1 * torch.randn_like(m.bias))
                m.running_mean.copy_(0.1 * torch.randn_like(m.running_mean))
                m.running_var.copy_(0.75 + 0.5 * torch.rand_like(m.running_var))
    return model.eval()


def logits_with(model, state, x):
    """Logits of the model after loading state widened to float32 (as the reader widens half precision)."""
    copy = model_with_state()
    copy.load_state_dict({k: v.float() if v.is_floating_point() else v for k, v in state.items()})
    with torch.no_grad():
        return copy(x)


def shared_views(state, dtype):
    """The same values, every float tensor a view into one storage; fc.weight stored transposed."""
    floats = [(k, v) for k, v in state.items() if v.is_floating_point()]
    total = sum(v.numel() for _, v in floats) + 7  # a few unused elements at the start: offsets are not zero
    flat = torch.zeros(total, dtype=dtype)
    views, offset = {}, 7
    for k, v in floats:
        n = v.numel()
        if k == "fc.weight":
            flat[offset:offset + n].copy_(v.to(dtype).t().contiguous().view(-1))
            views[k] = flat[offset:offset + n].view(v.shape[1], v.shape[0]).t()  # stride (1, rows): not contiguous
        else:
            flat[offset:offset + n].copy_(v.to(dtype).view(-1))
            views[k] = flat[offset:offset + n].view(v.shape)
        offset += n
    return {k: views.get(k, v) for k, v in state.items()}


def main():
    torch.set_num_threads(1)
    torch.backends.mkldnn.enabled = False
    os.makedirs(OUT, exist_ok=True)
    model = model_with_state()
    torch.manual_seed(12)
    x = torch.randn(2, 1, 28, 28)
    state = model.state_dict()
    torch.save(state, os.path.join(OUT, "resnet20.pth"))

    half = {("module." + k): (v.half() if v.is_floating_point() else v) for k, v in state.items()}
    torch.save({"epoch": 3, "model": half}, os.path.join(OUT, "resnet20-fp16-dataparallel.pth"))

    bf16 = shared_views(state, torch.bfloat16)
    assert not bf16["fc.weight"].is_contiguous() and bf16["conv1.weight"].storage_offset() == 7
    torch.save({"state_dict": bf16, "arch": "resnet20"}, os.path.join(OUT, "resnet20-bf16-views.pth"))

    tiny = nn.Sequential(nn.Conv2d(1, 2, 3), nn.ReLU())
    torch.save(tiny, os.path.join(OUT, "module.pth"))
    torch.save(tiny.state_dict(), os.path.join(OUT, "legacy.pth"), _use_new_zipfile_serialization=False)

    write_safetensors(os.path.join("pth", "pth_logits"), [
        ("x", x),
        ("logits", logits_with(model, state, x)),
        ("logits_fp16", logits_with(model, {k[len("module."):]: v for k, v in half.items()}, x)),
        ("logits_bf16", logits_with(model, bf16, x)),
    ], {"model": "ResNetCifar(20, 10 classes, 1 input channel, shortcut B), eval mode", "script": "data/reference/make_pth_fixtures.py"})


if __name__ == "__main__":
    main()
