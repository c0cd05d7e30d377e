// Parameter and multiply-accumulate counts of a network at one input size, per layer and in total.
// Convention (torchvision's and most pruning papers'): a Conv2d costs OH·OW·Cout·(Cin/groups)·KH·KW MACs per image,
// a Linear in·out per row; biases, batch norm, ReLU, pooling, shortcut adds and padding count nothing. The spatial
// sizes come from one batch-1 forward pass in evaluation mode without the tape, each Conv2d/Linear recording the
// shapes it saw — so the count is right for any widths (a pruned, compacted network) and any input size.
using Standalone.Autograd;
using Standalone.Models.Nn;

namespace Standalone.Models.Stats;

/// <summary>One Conv2d or Linear: state-dict prefix, module type, batch-1 shapes, own parameters, MACs per image.</summary>
public sealed record LayerStats(string Name, string Kind, Shape InputShape, Shape OutputShape, long Parameters, long Macs);

public sealed record ModelStats(IReadOnlyList<LayerStats> Layers, long Parameters, long Macs)
{
    /// <summary>
    /// Counts <paramref name="model"/> at a [1, channels, height, width] input. Rows are the Conv2d and Linear layers
    /// in state-dict order; <see cref="Parameters"/> is every parameter of the model (batch norm included),
    /// <see cref="Macs"/> the sum over the rows. The model is left in the mode it was in (training or evaluation).
    /// </summary>
    public static ModelStats Measure(Module model, int channels, int height, int width)
    {
        if (channels <= 0 || height <= 0 || width <= 0)
            throw new ArgumentException($"model stats: the input shape must be positive, got {channels}×{height}×{width}");
        var layers = model.NamedModules().Where(m => m.Module is Conv2d or Linear).ToList();
        var recorders = layers.Select(l => (IRecordsShapes)l.Module).ToList();
        bool wasTraining = model.Training;
        model.Eval();
        try
        {
            using var noGrad = Grad.Disabled();
            using var scope = TensorScope.Begin();
            // Zeros on the model's device and dtype (the values do not matter, only the shapes); the scope frees it.
            var reference = model.Parameters().FirstOrDefault()?.Data;
            var input = Tensor.Zeros(new Shape(1, channels, height, width), reference?.DType ?? DType.Float32, reference?.Backend);
            // Shapes from an earlier pass must not stand in for a layer this pass skips.
            foreach (var r in recorders) r.ForgetShapes();
            model.Forward(Variable.Constant(input));
            var rows = new List<LayerStats>();
            foreach (var ((name, module), recorder) in layers.Zip(recorders))
            {
                var (inShape, outShape) = (recorder.LastInputShape, recorder.LastOutputShape);
                if (inShape is null || outShape is null)
                    throw new InvalidOperationException($"model stats: layer '{name}' ({module.GetType().Name}) did not run in the forward pass, so its cost is unknown");
                long own = module.NamedParameters().Sum(p => p.Parameter.Data.Numel);
                rows.Add(new LayerStats(name, module.GetType().Name, inShape.Value, outShape.Value, own, LayerMacs(module, outShape.Value)));
            }
            return new ModelStats(rows, model.ParameterCount(), rows.Sum(r => r.Macs));
        }
        finally
        {
            model.Train(wasTraining);
        }
    }

    private static long LayerMacs(Module module, Shape output) => module switch
    {
        // Per image: every output element is a dot product over (Cin/groups)·KH·KW inputs.
        Conv2d c => output.Numel / output[0] * (c.InChannels / c.Geometry.Groups) * c.Kernel * c.Kernel,
        // Per row of the batch-1 input ([1, in] → [1, out]): in·out.
        Linear l => output.Numel / output[0] * l.InFeatures,
        _ => 0,
    };
}
