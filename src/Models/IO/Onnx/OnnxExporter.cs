// ONNX export of any model the engine runs (every zoo network, pruned or not): one forward pass is recorded
// (ModelTrace, evaluation mode) and each tape node becomes the ONNX node that computes the same thing (OnnxOps), so
// there is no per-architecture code — a pruned layer is exported at the width its weights have, and a zero-pad
// shortcut at the padding it applies. The file is an ONNX ModelProto, IR version 7, opset 13 (docs/formats.md):
//   input  "input"  float [batch, C, H, W]  (batch is symbolic; C, H, W are the size the model was exported for)
//   output "logits" float [batch, classes]
//   initializers named by state-dict keys ("layer1.0.conv1.weight", "bn1.running_mean"), raw little-endian data;
//   the few constants ONNX ops take as inputs are named after their node ("Slice_57.starts").
// The graph takes images already normalised as in training; metadata_props can carry how (the CLI stores the
// model file's standalone.model and standalone.data descriptions there).
using Standalone.Autograd;
using Standalone.Models.Nn;

namespace Standalone.Models.IO.Onnx;

/// <summary>What an export wrote.</summary>
public sealed record OnnxExport(string Path, long Bytes, int Nodes, int Initializers, IReadOnlyList<(string OpType, int Count)> OpTypes, int[] InputDims, int[] OutputDims)
{
    /// <summary>"Conv 21, BatchNormalization 21, Relu 19, ...".</summary>
    public string OpSummary => string.Join(", ", OpTypes.Select(o => $"{o.OpType} {o.Count}"));
}

public static class OnnxExporter
{
    public const string InputName = "input";
    public const string OutputName = "logits";
    /// <summary>The symbolic first axis of the input and output.</summary>
    public const string BatchDim = "batch";

    // Two images, not one: a reshape that keeps the batch axis is then told apart from one that folds it away
    // ([1, 6] → [1, 2, 3] could be either), and only the first can be written for a variable batch.
    private const int TraceBatch = 2;

    /// <summary>
    /// Writes <paramref name="model"/> as an ONNX file for inputs of <paramref name="channels"/>×<paramref name="height"/>×<paramref name="width"/>
    /// (atomically: a reader never sees half a file). <paramref name="metadata"/> goes into the model's metadata_props.
    /// </summary>
    public static OnnxExport Export(Module model, int channels, int height, int width, string path, IReadOnlyDictionary<string, string>? metadata = null)
    {
        if (channels <= 0 || height <= 0 || width <= 0)
            throw new ArgumentException($"ONNX export: the input size must be positive C×H×W, got {channels}×{height}×{width}");
        var backend = model.Parameters().FirstOrDefault()?.Data.Backend
            ?? throw new ArgumentException($"ONNX export: {model.GetType().Name} has no parameters, so there is no graph to record");
        using var input = Tensor.Zeros(new Shape(TraceBatch, channels, height, width), DType.Float32, backend);
        using var trace = ModelTrace.Record(model, input, inputRequiresGrad: true);
        var graph = new OnnxGraph(trace);
        for (int i = 0; i < trace.Nodes.Count; i++) OnnxOps.Export(graph, trace.Nodes[i], i);
        var proto = graph.ToModel(model.GetType().Name, metadata ?? new Dictionary<string, string>());
        long bytes = AtomicFile.Write(path, proto.WriteTo);
        return new OnnxExport(Path.GetFullPath(path), bytes, graph.NodeCount, graph.InitializerCount, graph.OpCounts,
            trace.Input.Shape.ToArray()[1..], trace.Output.Shape.ToArray()[1..]);
    }
}
