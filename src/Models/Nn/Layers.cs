// The layers a ResNet or VGG needs, as modules with PyTorch parameter names (weight, bias, running_mean, ...).
using Standalone.Autograd;
using Standalone.Backends;

namespace Standalone.Models.Nn;

/// <summary>A layer that remembers the input and output shapes of its latest Forward (null before the first, or
/// after ForgetShapes); ModelStats reads them to count MACs.</summary>
public interface IRecordsShapes
{
    Shape? LastInputShape { get; }
    Shape? LastOutputShape { get; }
    void ForgetShapes();
}

/// <summary>
/// Layer fusion in Conv2d.Forward(x, bn, relu, residual), on by default; off to compare or to debug. The results equal
/// the separate layers' to float32 rounding.
/// <list type="bullet">
/// <item>Pure inference (gradients off, batch norms in evaluation mode): conv → batch norm → ReLU runs as one
/// convolution, and a residual sum with its ReLU as one pass.</item>
/// <item>Otherwise, while no <see cref="ModelTrace"/> records the pass (a training step, SInGE's gradient passes):
/// batch norm → (+ residual) → ReLU is one op, F.BatchNorm2dRelu, one pass over the activations instead of two or
/// three. A recorded pass keeps every layer its own op, since pruning's graph, LRP and the ONNX exporter walk them.</item>
/// </list>
/// </summary>
public static class LayerFusion
{
    public static bool Enabled { get; set; } = true;
}

public sealed class Conv2d : Module, IRecordsShapes
{
    public Conv2d(int inChannels, int outChannels, int kernel, Rng rng, int stride = 1, int padding = 0, int dilation = 1, int groups = 1, bool bias = true)
    {
        Kernel = kernel;
        Geometry = new Conv2dParams(stride, stride, padding, padding, dilation, dilation, groups);
        Weight = RegisterParameter("weight", Init.KaimingNormal(new Shape(outChannels, inChannels / groups, kernel, kernel), rng));
        if (bias) Bias = RegisterParameter("bias", Init.UniformFanIn(new Shape(outChannels), (long)inChannels / groups * kernel * kernel, rng));
    }

    // Widths are read off the weight, so a layer cut by pruning (Variable.ReplaceData) describes itself correctly.
    public int InChannels => Weight.Shape[1] * Geometry.Groups;
    public int OutChannels => Weight.Shape[0];
    public int Kernel { get; }
    public Conv2dParams Geometry { get; }
    public Variable Weight { get; }
    public Variable? Bias { get; }
    public Shape? LastInputShape { get; private set; }
    public Shape? LastOutputShape { get; private set; }
    void IRecordsShapes.ForgetShapes() => (LastInputShape, LastOutputShape) = (null, null);

    public override Variable Forward(Variable x)
    {
        var y = F.Conv2d(x, Weight, Bias, Geometry);
        (LastInputShape, LastOutputShape) = (x.Shape, y.Shape);
        return y;
    }

    /// <summary>
    /// This convolution followed by <paramref name="bn"/>, then + <paramref name="residual"/> when given, then a ReLU
    /// when <paramref name="relu"/>. Fused as <see cref="LayerFusion"/> describes. In pure inference the batch norm is
    /// folded into the convolution: with s = γ / √(σ² + ε), W' = W·s per output channel and b' = β + (b − μ)·s, so the
    /// normalisation adds no pass over the activations (the convolution adds its bias and the residual, and applies the
    /// ReLU, while writing its output).
    /// </summary>
    public Variable Forward(Variable x, BatchNorm2d bn, bool relu = false, Variable? residual = null)
    {
        bool fuse = LayerFusion.Enabled && bn.Channels == OutChannels;
        if (fuse && relu && !ModelTrace.IsRecording && (Grad.IsEnabled || bn.Training))
            return bn.ForwardRelu(Forward(x), residual);
        if (!fuse || Grad.IsEnabled || bn.Training)
        {
            var y = bn.Forward(Forward(x));
            if (residual != null) y = F.Add(y, residual);
            return relu ? F.Relu(y) : y;
        }
        using var rstd = bn.RunningVar.Affine(1, bn.Eps);
        rstd.ApplyInPlace(UnaryOp.Rsqrt);
        using var scale = bn.Weight.Data.Mul(rstd);
        using var channelScale = scale.Reshape(OutChannels, 1, 1, 1);
        using var weight = Weight.Data.Mul(channelScale);
        using var centred = Bias is null ? bn.RunningMean.Affine(-1, 0) : Bias.Data.Sub(bn.RunningMean);
        using var shifted = centred.Mul(scale);
        using var bias = bn.Bias.Data.Add(shifted);
        var folded = Tensor.Conv2d(x.Data, weight, bias, Geometry, relu, residual?.Data);
        (LastInputShape, LastOutputShape) = (x.Shape, folded.Shape);
        return Variable.Constant(folded);
    }
}

public sealed class BatchNorm2d : Module
{
    private long _batchesTracked;

    public BatchNorm2d(int channels, double momentum = 0.1, double eps = 1e-5)
    {
        Momentum = momentum;
        Eps = eps;
        Weight = RegisterParameter("weight", Tensor.Ones(new Shape(channels)));
        Bias = RegisterParameter("bias", Tensor.Zeros(new Shape(channels)));
        RegisterBuffer("running_mean", Tensor.Zeros(new Shape(channels)));
        RegisterBuffer("running_var", Tensor.Ones(new Shape(channels)));
        NumBatchesTracked = RegisterBuffer("num_batches_tracked", Tensor.Zeros(new Shape(), DType.Int64));
    }

    public int Channels => Weight.Shape[0];
    public double Momentum { get; }
    public double Eps { get; }
    public Variable Weight { get; }
    public Variable Bias { get; }
    // Looked up each time: pruning replaces the statistics (Module.ReplaceBuffer) when it cuts channels.
    public Tensor RunningMean => Buffer("running_mean");
    public Tensor RunningVar => Buffer("running_var");
    public Tensor NumBatchesTracked { get; }

    // The count lives on the host too so that training never waits on the device to read it back.
    protected override void OnStateLoaded() => _batchesTracked = (long)NumBatchesTracked.Item();

    public override Variable Forward(Variable x)
    {
        if (Training) NumBatchesTracked.Fill(++_batchesTracked);
        return F.BatchNorm2d(x, Weight, Bias, RunningMean, RunningVar, Training, Momentum, Eps);
    }

    /// <summary>relu(Forward(x) + residual) (residual optional) as one op: see <see cref="LayerFusion"/>.</summary>
    public Variable ForwardRelu(Variable x, Variable? residual = null)
    {
        if (Training) NumBatchesTracked.Fill(++_batchesTracked);
        return F.BatchNorm2dRelu(x, Weight, Bias, RunningMean, RunningVar, Training, residual, Momentum, Eps);
    }
}

public sealed class Linear : Module, IRecordsShapes
{
    public Linear(int inFeatures, int outFeatures, Rng rng, bool bias = true)
    {
        Weight = RegisterParameter("weight", Init.UniformFanIn(new Shape(outFeatures, inFeatures), inFeatures, rng));
        if (bias) Bias = RegisterParameter("bias", Init.UniformFanIn(new Shape(outFeatures), inFeatures, rng));
    }

    public int InFeatures => Weight.Shape[1];
    public int OutFeatures => Weight.Shape[0];
    public Variable Weight { get; }
    public Variable? Bias { get; }
    public Shape? LastInputShape { get; private set; }
    public Shape? LastOutputShape { get; private set; }
    void IRecordsShapes.ForgetShapes() => (LastInputShape, LastOutputShape) = (null, null);

    public override Variable Forward(Variable x)
    {
        var y = F.Linear(x, Weight, Bias);
        (LastInputShape, LastOutputShape) = (x.Shape, y.Shape);
        return y;
    }
}

public sealed class ReLU : Module
{
    public override Variable Forward(Variable x) => F.Relu(x);
}

public sealed class MaxPool2d(int kernel, int stride = -1, int padding = 0) : Module
{
    public override Variable Forward(Variable x) => F.MaxPool2d(x, kernel, stride, padding);
}

public sealed class AvgPool2d(int kernel, int stride = -1, int padding = 0) : Module
{
    public override Variable Forward(Variable x) => F.AvgPool2d(x, kernel, stride, padding);
}

/// <summary>nn.AdaptiveAvgPool2d((1, 1)).</summary>
public sealed class GlobalAvgPool2d : Module
{
    public override Variable Forward(Variable x) => F.GlobalAvgPool2d(x);
}

/// <summary>
/// nn.AdaptiveAvgPool2d(size) for the cases that are plain pooling: the identity when the map is already size×size,
/// average pooling with kernel = stride = H/size when H and W are the same multiple of size. Other inputs (which
/// PyTorch handles with overlapping bins) are rejected with the shapes involved.
/// </summary>
public sealed class AdaptiveAvgPool2d(int outputSize) : Module
{
    public int OutputSize { get; } = outputSize > 0 ? outputSize : throw new ArgumentException($"adaptive average pool: output size must be positive, got {outputSize}");

    public override Variable Forward(Variable x)
    {
        if (x.Shape.Rank != 4) throw new ArgumentException($"adaptive average pool: expected an [N, C, H, W] input, got {x.Shape}");
        int h = x.Shape[2], w = x.Shape[3];
        if (h == OutputSize && w == OutputSize) return x;
        if (h != w || h % OutputSize != 0)
            throw new ArgumentException($"adaptive average pool to {OutputSize}×{OutputSize}: input {x.Shape} is not a square multiple of {OutputSize} (only the identity and kernel = stride pooling are supported; choose an input size whose final map is {OutputSize}·k)");
        return F.AvgPool2d(x, h / OutputSize);
    }
}

public sealed class Flatten(int startAxis = 1) : Module
{
    public override Variable Forward(Variable x) => F.Flatten(x, startAxis);
}

public sealed class Dropout(double p, Rng rng) : Module
{
    public double P { get; } = p;
    /// <summary>The mask generator (its state goes into training checkpoints).</summary>
    public Rng Rng { get; } = rng;
    public override Variable Forward(Variable x) => F.Dropout(x, P, Training, Rng);
}

/// <summary>Children named "0", "1", ... applied in order.</summary>
public sealed class Sequential : Module
{
    private readonly List<Module> _layers = new();

    public Sequential(params Module[] layers)
    {
        foreach (var layer in layers) Add(layer);
    }

    public Sequential Add(Module layer)
    {
        Register(_layers.Count.ToString(System.Globalization.CultureInfo.InvariantCulture), layer);
        _layers.Add(layer);
        return this;
    }

    public IReadOnlyList<Module> Layers => _layers;

    public override Variable Forward(Variable x)
    {
        for (int i = 0; i < _layers.Count; i++)
        {
            // A convolution, the batch norm after it and a ReLU after that run as one (folded in pure inference; see
            // Conv2d.Forward(x, bn, relu)).
            if (_layers[i] is Conv2d conv && i + 1 < _layers.Count && _layers[i + 1] is BatchNorm2d bn)
            {
                bool relu = i + 2 < _layers.Count && _layers[i + 2] is ReLU;
                x = conv.Forward(x, bn, relu);
                i += relu ? 2 : 1;
            }
            else x = _layers[i].Forward(x);
        }
        return x;
    }
}
