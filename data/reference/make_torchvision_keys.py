# Exports the state-dict keys and shapes of torchvision's resnet18, resnet50 and vgg16_bn (randomly initialised, no
# weight download) to torchvision_keys.json as {model: [[key, [shape...]], ...]} in state-dict order, so the C# zoo
# can be checked key for key (ZooTests.KeysAndShapesMatchTorchvision). Also prints each model's parameter count and
# its conv + linear multiply-accumulates at 1x3x224x224 (counted by forward hooks), the convention of ModelStats.
# Run: /usr/bin/python3 data/reference/make_torchvision_keys.py   (torch 1.13, torchvision 0.14)
import json
import os

import torch
import torchvision

MODELS = {
    "resnet18": torchvision.models.resnet18,
    "resnet50": torchvision.models.resnet50,
    "vgg16_bn": torchvision.models.vgg16_bn,
}


def count_macs(model, size=224):
    """Conv: OH*OW*Cout*(Cin/groups)*KH*KW; Linear: in*out (per sample); nothing else."""
    total = [0]

    def hook(module, inputs, output):
        if isinstance(module, torch.nn.Conv2d):
            kh, kw = module.kernel_size
            total[0] += output.numel() // output.shape[0] * (module.in_channels // module.groups) * kh * kw
        elif isinstance(module, torch.nn.Linear):
            total[0] += module.in_features * module.out_features

    handles = [m.register_forward_hook(hook) for m in model.modules() if isinstance(m, (torch.nn.Conv2d, torch.nn.Linear))]
    model.eval()
    with torch.no_grad():
        model(torch.zeros(1, 3, size, size))
    for h in handles:
        h.remove()
    return total[0]


def main():
    keys = {}
    for name, build in MODELS.items():
        model = build()
        keys[name] = [[k, list(v.shape)] for k, v in model.state_dict().items()]
        params = sum(p.numel() for p in model.parameters())
        print(f"{name}: {len(keys[name])} keys, {params:,} parameters, {count_macs(model):,} MACs at 3x224x224")
    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "torchvision_keys.json")
    # One [key, shape] entry per line, so a diff of the file reads as a diff of the key lists.
    with open(out, "w") as f:
        models = []
        for name, entries in keys.items():
            lines = ",\n".join(json.dumps(e, separators=(",", ":")) for e in entries)
            models.append(f"{json.dumps(name)}: [\n{lines}\n]")
        f.write("{\n" + ",\n".join(models) + "\n}\n")
    print("wrote", out)


if __name__ == "__main__":
    main()
