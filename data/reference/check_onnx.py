#!/usr/bin/python3
"""Checks an ONNX file written by `standalone export` with ONNX's own checker and against Standalone's logits.

Run from the repository root (needs Debian's python3-onnx and PyTorch; tests never run this):
    dotnet run --project src/Cli -- export --out /tmp/r20.onnx --test-data /tmp/r20-data
    /usr/bin/python3 data/reference/check_onnx.py /tmp/r20.onnx /tmp/r20-data \
        --torch-resnet20 data/models/resnet20-fashion-mnist.safetensors
A pruned shortcut-A network (fewer channels inside every block, asymmetric zero-pad shortcuts) to export as well:
    dotnet run --project src/Cli -- train --dataset synthetic --shortcut A --epochs 1 --out /tmp/a
    /usr/bin/python3 data/reference/check_onnx.py --make-pruned /tmp/a/model.safetensors /tmp/a/pruned.safetensors
    dotnet run --project src/Cli -- export --model /tmp/a/pruned.safetensors --out /tmp/p.onnx --test-data /tmp/p-data
    /usr/bin/python3 data/reference/check_onnx.py /tmp/p.onnx /tmp/p-data

What it checks:
1. onnx.checker.check_model(full_check=True): the protobuf, the opset-13 operator schemas, strict shape inference.
2. The graph evaluated node by node in float64 with PyTorch tensor ops, each written from the ONNX operator spec
   (Debian ships no onnxruntime, and onnx 1.12 has no onnx.reference evaluator), on the test data's input_0.pb;
   prints the largest |difference| to output_0.pb, the float32 logits Standalone computed for that input.
3. With --torch-resnet20 FILE (a shortcut-B CIFAR ResNet-20 model file): PyTorch's own network
   (bench/peers/torch_resnet20.py) with those weights, a reference that does not read the ONNX file at all.
"""
import argparse
import json
import os
import struct
import sys

import numpy as np
import onnx
import onnx.numpy_helper
import torch
import torch.nn.functional as F

# Float32 logits against a float64 evaluation: errors of ~1e-7 of the largest logit (more for deep untrained networks,
# whose logits reach thousands), so a difference within 1e-5 · max(1, max |logit|) passes.
RELATIVE_TOLERANCE = 1e-5


def attributes(node):
    return {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}


def spatial_pad(x, pads, value=0.0):
    """ONNX pads [x1_begin, x2_begin, ..., x1_end, x2_end] over the spatial axes → F.pad's last-axis-first pairs."""
    half = len(pads) // 2
    pairs = []
    for axis in reversed(range(half)):
        pairs += [pads[axis], pads[half + axis]]
    return F.pad(x, pairs, value=value)


def run_node(node, args):
    a = attributes(node)
    op = node.op_type
    if op == "Conv":
        x, w = args[0], args[1]
        x = spatial_pad(x, a.get("pads", [0] * 4))
        return F.conv2d(x, w, args[2] if len(args) > 2 else None, stride=a.get("strides", 1), dilation=a.get("dilations", 1), groups=a.get("group", 1))
    if op == "BatchNormalization":  # Y = (X − mean) / sqrt(var + ε) · scale + B, per channel (axis 1)
        x, scale, bias, mean, var = args
        shape = (1, -1) + (1,) * (x.dim() - 2)
        return (x - mean.view(shape)) / torch.sqrt(var.view(shape) + a.get("epsilon", 1e-5)) * scale.view(shape) + bias.view(shape)
    if op in ("MaxPool", "AveragePool"):
        assert a.get("ceil_mode", 0) == 0
        if op == "MaxPool":
            return F.max_pool2d(spatial_pad(args[0], a.get("pads", [0] * 4), -float("inf")), a["kernel_shape"], a.get("strides", 1))
        assert a.get("count_include_pad", 0) == 1 or not any(a.get("pads", [0])), "AveragePool without count_include_pad"
        return F.avg_pool2d(spatial_pad(args[0], a.get("pads", [0] * 4)), a["kernel_shape"], a.get("strides", 1))
    if op == "GlobalAveragePool":
        return args[0].mean(dim=tuple(range(2, args[0].dim())), keepdim=True)
    if op == "Flatten":
        axis = a.get("axis", 1)
        return args[0].reshape(int(np.prod(args[0].shape[:axis])), -1)
    if op == "Reshape":
        shape = [args[0].shape[i] if d == 0 else int(d) for i, d in enumerate(args[1].tolist())]
        return args[0].reshape(shape)
    if op == "Gemm":
        a_, b_ = args[0], args[1]
        if a.get("transA", 0):
            a_ = a_.t()
        if a.get("transB", 0):
            b_ = b_.t()
        y = a.get("alpha", 1.0) * (a_ @ b_)
        return y + a.get("beta", 1.0) * args[2] if len(args) > 2 else y
    if op == "Slice":
        x = args[0]
        index = [slice(None)] * x.dim()
        for start, end, axis, step in zip(*(t.tolist() for t in args[1:5])):
            assert step > 0, "negative steps are not used by the exporter"
            index[axis] = slice(start, end, step)  # Python clamps start/end to the axis as ONNX does
        return x[tuple(index)]
    if op == "Pad":
        assert a.get("mode", b"constant") in (b"constant", "constant")
        value = float(args[2]) if len(args) > 2 else 0.0
        pads = args[1].tolist()
        rank = len(pads) // 2
        pairs = []
        for axis in reversed(range(rank)):
            pairs += [pads[axis], pads[rank + axis]]
        return F.pad(args[0], pairs, value=value)
    if op == "Transpose":
        return args[0].permute(a["perm"])
    binary = {"Add": torch.add, "Sub": torch.sub, "Mul": torch.mul, "Div": torch.div}
    if op in binary:
        return binary[op](args[0], args[1])
    unary = {"Relu": torch.relu, "Exp": torch.exp, "Log": torch.log, "Sqrt": torch.sqrt, "Tanh": torch.tanh, "Sigmoid": torch.sigmoid, "Abs": torch.abs}
    if op in unary:
        return unary[op](args[0])
    raise NotImplementedError(f"{op} (node {node.name})")


def evaluate(model, image):
    values = {t.name: torch.from_numpy(onnx.numpy_helper.to_array(t).copy()) for t in model.graph.initializer}
    values = {k: v.double() if v.is_floating_point() else v for k, v in values.items()}
    values[model.graph.input[0].name] = image
    for node in model.graph.node:
        values[node.output[0]] = run_node(node, [values[name] for name in node.input if name])
    return values[model.graph.output[0].name]


def read_tensor(path):
    tensor = onnx.TensorProto()
    with open(path, "rb") as f:
        tensor.ParseFromString(f.read())
    return torch.from_numpy(onnx.numpy_helper.to_array(tensor).copy())


def read_safetensors(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    dtypes = {"F32": np.float32, "I64": np.int64}
    tensors = {k: torch.from_numpy(np.frombuffer(data[v["data_offsets"][0]:v["data_offsets"][1]], dtype=dtypes[v["dtype"]]).reshape(v["shape"]).copy())
               for k, v in header.items() if k != "__metadata__"}
    return tensors, header.get("__metadata__", {})


def write_safetensors(path, tensors, metadata):
    header, offset, blobs = {"__metadata__": metadata}, 0, []
    for name, t in tensors.items():
        blob = t.numpy().tobytes()
        header[name] = {"dtype": {torch.float32: "F32", torch.int64: "I64"}[t.dtype], "shape": list(t.shape), "data_offsets": [offset, offset + len(blob)]}
        blobs.append(blob)
        offset += len(blob)
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(blobs))


def make_pruned(source, target):
    """Keeps a seeded random 5/8 of every block's inner channels (conv1 outputs, bn1, conv2 inputs) and pads the two
    zero-pad shortcuts asymmetrically (6 before and 10 after, then 12 and 20): the shapes pruning leaves behind."""
    tensors, metadata = read_safetensors(source)
    spec = json.loads(metadata["standalone.model"])
    assert spec["shortcut"] == "A", "--make-pruned needs a shortcut-A CIFAR ResNet"
    generator = torch.Generator().manual_seed(0)
    for block in sorted({k.rsplit(".", 2)[0] for k in tensors if k.startswith("layer") and ".conv1." in k}):
        width = tensors[f"{block}.conv1.weight"].shape[0]
        keep = torch.randperm(width, generator=generator)[: width * 5 // 8].sort().values
        tensors[f"{block}.conv1.weight"] = tensors[f"{block}.conv1.weight"][keep].contiguous()
        for key in ("weight", "bias", "running_mean", "running_var"):
            tensors[f"{block}.bn1.{key}"] = tensors[f"{block}.bn1.{key}"][keep].contiguous()
        tensors[f"{block}.conv2.weight"] = tensors[f"{block}.conv2.weight"][:, keep].contiguous()
    spec.update(pruned=True, shortcut_padding={"layer2.0.shortcut": [6, 10], "layer3.0.shortcut": [12, 20]})
    metadata["standalone.model"] = json.dumps(spec)
    write_safetensors(target, tensors, metadata)
    print(f"wrote {target}: block widths cut to 5/8, shortcut padding {spec['shortcut_padding']}")


def torch_resnet20(path, image):
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "bench", "peers"))
    from torch_resnet20 import ResNetCifar
    tensors, metadata = read_safetensors(path)
    spec = json.loads(metadata["standalone.model"])
    assert spec["architecture"] == "resnet20" and spec["shortcut"] == "B" and not spec.get("pruned"), "--torch-resnet20 needs an unpruned shortcut-B ResNet-20"
    net = ResNetCifar(20, spec["num_classes"], spec["in_channels"]).double().eval()
    net.load_state_dict({k: v.double() if v.is_floating_point() else v for k, v in tensors.items()}, strict=True)
    with torch.no_grad():
        return net(image)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", nargs="?", help="the .onnx file")
    parser.add_argument("test_data", nargs="?", help="the --test-data folder (input_0.pb, output_0.pb)")
    parser.add_argument("--torch-resnet20", metavar="FILE", help="also compare with PyTorch's ResNet-20 loaded from this model file")
    parser.add_argument("--make-pruned", nargs=2, metavar=("SOURCE", "TARGET"), help="write a pruned copy of a shortcut-A model file and stop")
    args = parser.parse_args()
    if args.make_pruned:
        make_pruned(*args.make_pruned)
        return 0
    if not args.model or not args.test_data:
        parser.error("MODEL and TEST_DATA are required")

    model = onnx.load(args.model)
    onnx.checker.check_model(model, full_check=True)
    ops = [n.op_type for n in model.graph.node]
    print(f"onnx {onnx.__version__} checker: ok (IR {model.ir_version}, opset {model.opset_import[0].version}, {len(ops)} nodes: "
          + ", ".join(f"{op} {ops.count(op)}" for op in dict.fromkeys(ops)) + f", {len(model.graph.initializer)} initializers)")

    image = read_tensor(os.path.join(args.test_data, "input_0.pb")).double()
    expected = read_tensor(os.path.join(args.test_data, "output_0.pb")).double()
    with torch.no_grad():
        logits = evaluate(model, image)
    diff = worst = (logits - expected).abs().max().item()
    print(f"ONNX graph (PyTorch ops, float64) vs Standalone logits {list(expected.shape)}: max |diff| {diff:.3e} (max |logit| {expected.abs().max().item():.3f})")
    if args.torch_resnet20:
        reference = torch_resnet20(args.torch_resnet20, image)
        for name, value in (("ONNX graph", logits), ("Standalone", expected)):
            diff = (value - reference).abs().max().item()
            worst = max(worst, diff)
            print(f"{name} vs PyTorch ResNet-20 (float64): max |diff| {diff:.3e}")
    tolerance = RELATIVE_TOLERANCE * max(1.0, expected.abs().max().item())
    print("PASS" if worst <= tolerance else "FAIL", f"(tolerance {tolerance:.1e})")
    return 0 if worst <= tolerance else 1


if __name__ == "__main__":
    sys.exit(main())
