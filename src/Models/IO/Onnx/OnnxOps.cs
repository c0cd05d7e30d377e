// What each tape op becomes in ONNX opset 13 — one node, except a scale with a shift (Mul, then Add):
//   conv2d → Conv-11 (kernel_shape, strides, pads [top, left, bottom, right], dilations, group)
//   linear → Gemm-13 (transB = 1: PyTorch keeps the weight as [out, in])
//   batch_norm (evaluation) → BatchNormalization-9 (scale, B, running mean and variance; epsilon)
//   relu → Relu; exp/log/sqrt/tanh/sigmoid/abs → the op of that name; square → Mul(x, x); scale → Mul (+ Add)
//   max_pool2d → MaxPool-12, avg_pool2d → AveragePool-11 with count_include_pad = 1 (PyTorch counts the padding)
//   global_avg_pool2d → GlobalAveragePool; add/sub/mul/div → Add/Sub/Mul/Div-13 (numpy broadcasting, like ours)
//   pad → Pad-13 (pads as an int64 input, begins of every axis then ends; mode constant; constant_value input when ≠ 0)
//   slice → Slice-13 (starts, ends, axes, steps as int64 inputs); permute → Transpose
//   reshape → Flatten(axis 1) for [N, ...] → [N, rest], else Reshape with shape [0, ...] (0: keep the batch axis)
// Anything else (losses, reductions, matmul, dropout — which only a training trace records) throws, naming the op
// and where it sits in the graph.
using Standalone.Autograd;
using Standalone.Backends;
using Standalone.Models.Nn;

namespace Standalone.Models.IO.Onnx;

internal static class OnnxOps
{
    private static readonly Dictionary<string, string> Unary = new(StringComparer.Ordinal)
    {
        ["relu"] = "Relu", ["exp"] = "Exp", ["log"] = "Log", ["sqrt"] = "Sqrt", ["tanh"] = "Tanh", ["sigmoid"] = "Sigmoid", ["abs"] = "Abs",
    };

    private static readonly Dictionary<string, string> Binary = new(StringComparer.Ordinal)
    {
        ["add"] = "Add", ["sub"] = "Sub", ["mul"] = "Mul", ["div"] = "Div",
    };

    /// <summary>Adds the ONNX node(s) computing tape node <paramref name="index"/> to the graph.</summary>
    public static void Export(OnnxGraph graph, Node node, int index)
    {
        var x = node.Inputs;
        string opType = OpType(graph, node, index);
        string name = graph.NodeName(node, index, opType);
        var inputs = x.Select((v, i) => graph.ValueOf(v, name, i)).ToList();
        if (node.Output.DType != DType.Float32)
            throw new NotSupportedException($"ONNX export: {Where(graph, node, index)} computes {node.Output.DType}; the exported graph is float32 throughout");

        switch (node.Op)
        {
            case Conv2dOp { Geometry: var g }:
                graph.AddNode(opType, name, inputs, graph.OutputOf(node, name),
                    OnnxProto.Attribute("dilations", g.DilationH, g.DilationW),
                    OnnxProto.Attribute("group", (long)g.Groups),
                    OnnxProto.Attribute("kernel_shape", x[1].Shape[2], x[1].Shape[3]),
                    OnnxProto.Attribute("pads", g.PadH, g.PadW, g.PadH, g.PadW),
                    OnnxProto.Attribute("strides", g.StrideH, g.StrideW));
                break;
            case LinearOp:
                graph.AddNode(opType, name, inputs, graph.OutputOf(node, name), OnnxProto.Attribute("transB", 1L));
                break;
            case BatchNormOp { Eps: var eps }:
                var bn = graph.Trace.Owner(x[1])?.Module as BatchNorm2d
                    ?? throw new NotSupportedException($"ONNX export: {Where(graph, node, index)} is not run by a BatchNorm2d module, so its running statistics cannot be found");
                inputs.Add(graph.Buffer(bn.RunningMean, name, "running mean"));
                inputs.Add(graph.Buffer(bn.RunningVar, name, "running variance"));
                graph.AddNode(opType, name, inputs, graph.OutputOf(node, name), OnnxProto.Attribute("epsilon", (float)eps));
                break;
            case Pool2dOp { Kind: var kind, Geometry: var p }:
                CheckFloorRounding(graph, node, index, p);
                var attributes = new List<ProtoMessage>
                {
                    OnnxProto.Attribute("kernel_shape", p.KernelH, p.KernelW),
                    OnnxProto.Attribute("pads", p.PadH, p.PadW, p.PadH, p.PadW),
                    OnnxProto.Attribute("strides", p.StrideH, p.StrideW),
                };
                if (kind == PoolKind.Average) attributes.Add(OnnxProto.Attribute("count_include_pad", 1L));
                graph.AddNode(opType, name, inputs, graph.OutputOf(node, name), [.. attributes]);
                break;
            case GlobalAvgPoolOp:
                graph.AddNode(opType, name, inputs, graph.OutputOf(node, name));
                break;
            case ElementwiseOp { Kind: "square" }:
                graph.AddNode(opType, name, [inputs[0], inputs[0]], graph.OutputOf(node, name));
                break;
            case ElementwiseOp { Kind: "scale", Factor: var factor, Shift: var shift }:
                var scaled = graph.Constant($"{name}.scale", factor);
                graph.AddNode(opType, name, [inputs[0], scaled], shift == 0 ? graph.OutputOf(node, name) : $"{name}/mul");
                if (shift != 0)
                    graph.AddNode("Add", $"{name}/shift", [$"{name}/mul", graph.Constant($"{name}.shift", shift)], graph.OutputOf(node, name));
                break;
            case ElementwiseOp or BroadcastOp:
                graph.AddNode(opType, name, inputs, graph.OutputOf(node, name));
                break;
            case PadOp { Padding: var padding, Value: var value }:
                int rank = x[0].Shape.Rank, lead = rank - padding.Count;
                var pads = new long[2 * rank];
                for (int i = 0; i < padding.Count; i++) (pads[lead + i], pads[rank + lead + i]) = padding[i];
                inputs.Add(graph.Int64Constant($"{name}.pads", pads));
                if (value != 0) inputs.Add(graph.Constant($"{name}.value", value));
                graph.AddNode(opType, name, inputs, graph.OutputOf(node, name), OnnxProto.Attribute("mode", "constant"));
                break;
            case SliceOp { Axis: var axis, Start: var start, Length: var length, Step: var step }:
                // Elements start, start + step, ..., start + (length − 1)·step; the end is exclusive.
                long end = length == 0 ? start : start + (long)(length - 1) * step + 1;
                inputs.Add(graph.Int64Constant($"{name}.starts", start));
                inputs.Add(graph.Int64Constant($"{name}.ends", end));
                inputs.Add(graph.Int64Constant($"{name}.axes", x[0].Shape.Normalize(axis)));
                inputs.Add(graph.Int64Constant($"{name}.steps", step));
                graph.AddNode(opType, name, inputs, graph.OutputOf(node, name));
                break;
            case ReshapeOp { From: var from, To: var to }:
                if (to.Rank == 0 || to[0] != from[0])
                    throw new NotSupportedException($"ONNX export: {Where(graph, node, index)} reshapes {from} to {to}, which changes the batch axis; the exported graph keeps a variable batch");
                if (opType == "Flatten")
                    graph.AddNode(opType, name, inputs, graph.OutputOf(node, name), OnnxProto.Attribute("axis", 1L));
                else
                {
                    inputs.Add(graph.Int64Constant($"{name}.shape", [0, .. to.ToArray()[1..].Select(d => (long)d)]));
                    graph.AddNode(opType, name, inputs, graph.OutputOf(node, name));
                }
                break;
            case PermuteOp { Order: var order }:
                graph.AddNode(opType, name, inputs, graph.OutputOf(node, name), OnnxProto.Attribute("perm", [.. order.Select(a => (long)a)]));
                break;
            default:
                throw Unsupported(graph, node, index);
        }
    }

    /// <summary>The ONNX op type of the (first) node a tape node becomes.</summary>
    private static string OpType(OnnxGraph graph, Node node, int index) => node.Op switch
    {
        Conv2dOp => "Conv",
        LinearOp => "Gemm",
        BatchNormOp { Training: false } => "BatchNormalization",
        Pool2dOp { Kind: PoolKind.Max } => "MaxPool",
        Pool2dOp => "AveragePool",
        GlobalAvgPoolOp => "GlobalAveragePool",
        ElementwiseOp { Kind: "square" or "scale" } => "Mul",
        ElementwiseOp { Kind: var kind } when Unary.TryGetValue(kind, out string? op) => op,
        BroadcastOp { Kind: var kind } when Binary.TryGetValue(kind, out string? op) => op,
        PadOp => "Pad",
        SliceOp => "Slice",
        ReshapeOp { From: var from, To: var to } => to.Rank == 2 && from.Rank >= 2 && to[0] == from[0] ? "Flatten" : "Reshape",
        PermuteOp => "Transpose",
        _ => throw Unsupported(graph, node, index),
    };

    private static NotSupportedException Unsupported(OnnxGraph graph, Node node, int index)
    {
        string why = node.Op switch
        {
            BatchNormOp => "batch norm in training mode (batch statistics) has no opset-13 form; export records the model in evaluation mode",
            ElementwiseOp { Kind: "dropout" } => "dropout is the identity in evaluation mode and only a training trace records it",
            _ => "the exporter writes conv2d, linear, batch_norm, max/avg_pool2d, global_avg_pool2d, relu, exp, log, sqrt, square, tanh, " +
                 "sigmoid, abs, scale, add, sub, mul, div, pad, slice, reshape and permute",
        };
        return new NotSupportedException($"ONNX export: {Where(graph, node, index)} has no ONNX form ({why})");
    }

    /// <summary>"the 'max' op (tape node 12 of 40, fed by layer1.0.bn1)": the op and where it sits.</summary>
    private static string Where(OnnxGraph graph, Node node, int index)
    {
        return $"the '{node.Op.Name}' op (tape node {index} of {graph.Trace.Nodes.Count}, fed by {string.Join(" and ", node.Inputs.Select(graph.Describe))})";
    }

    /// <summary>MaxPool and AveragePool default to floor rounding (ceil_mode 0); the traced output must agree.</summary>
    private static void CheckFloorRounding(OnnxGraph graph, Node node, int index, Pool2dParams p)
    {
        var input = node.Inputs[0].Shape;
        int height = (input[2] + 2 * p.PadH - p.KernelH) / p.StrideH + 1, width = (input[3] + 2 * p.PadW - p.KernelW) / p.StrideW + 1;
        if (node.Output.Shape[2] != height || node.Output.Shape[3] != width)
            throw new NotSupportedException($"ONNX export: {Where(graph, node, index)} turns {input} into {node.Output.Shape}, not the {height}×{width} map ONNX pooling computes (floor rounding)");
    }
}
