// Network primitives on tensors (no autograd here): convolution, pooling, per-channel statistics and affine maps,
// column gather/scatter. Each validates shapes once and names what it expected.
using Standalone.Backends;
using Standalone.Diagnostics;

namespace Standalone;

public sealed partial class Tensor
{
    public static Shape Conv2dOutputShape(Shape x, Shape weight, in Conv2dParams p, string op = "conv2d")
    {
        if (x.Rank != 4) throw new ArgumentException($"{op}: input must be [N, C, H, W], got {x}");
        if (weight.Rank != 4) throw new ArgumentException($"{op}: weight must be [Cout, Cin/groups, kH, kW], got {weight}");
        if (p.Groups < 1 || x[1] % p.Groups != 0 || weight[0] % p.Groups != 0)
            throw new ArgumentException($"{op}: groups={p.Groups} must divide input channels {x[1]} and output channels {weight[0]}");
        if (weight[1] * p.Groups != x[1])
            throw new ArgumentException($"{op}: input {x} has {x[1]} channels; weight {weight} with groups={p.Groups} expects {weight[1] * p.Groups}");
        if (p.StrideH < 1 || p.StrideW < 1 || p.DilationH < 1 || p.DilationW < 1 || p.PadH < 0 || p.PadW < 0)
            throw new ArgumentException($"{op}: invalid geometry {p} (strides and dilations ≥ 1, padding ≥ 0)");
        int oh = p.OutputH(x[2], weight[2]);
        int ow = p.OutputW(x[3], weight[3]);
        if (oh < 1 || ow < 1)
            throw new ArgumentException($"{op}: input {x} is too small for kernel {weight[2]}×{weight[3]} with {p} (output would be {oh}×{ow})");
        return new Shape(x[0], weight[0], oh, ow);
    }

    /// <summary>
    /// The convolution (+ bias) (+ residual, which must have the output's shape), through max(0, ·) when
    /// <paramref name="relu"/> — all applied as the output is written where the backend can (a residual block's closing
    /// convolution, shortcut sum and ReLU in inference). Equal to the separate ops: ((conv + bias) + residual) rounds alike.
    /// </summary>
    public static Tensor Conv2d(Tensor x, Tensor weight, Tensor? bias, in Conv2dParams p, bool relu = false, Tensor? residual = null)
    {
        x.CheckBinary(weight, "conv2d");
        var shape = Conv2dOutputShape(x.Shape, weight.Shape, p);
        if (bias != null && (bias.Rank != 1 || bias.Shape[0] != weight.Shape[0]))
            throw new ArgumentException($"conv2d: bias must be [{weight.Shape[0]}], got {bias.Shape}");
        if (residual != null)
        {
            x.CheckBinary(residual, "conv2d");
            if (residual.Shape != shape) throw new ArgumentException($"conv2d: residual must have the output's shape {shape}, got {residual.Shape}");
        }
        var y = Empty(shape, x.DType, x.Backend);
        using var xc = x.Contiguous();
        using var wc = weight.Contiguous();
        using var bc = bias?.Contiguous();
        using var rc = residual?.Contiguous();
        using (OpProfiler.Measure("conv2d_forward", x.Backend)) x.Backend.Conv2dForward(xc.View, wc.View, bc?.View, y.View, p, relu, rc?.View);
        return y;
    }

    public static Tensor Conv2dBackwardInput(Tensor dy, Tensor weight, Shape inputShape, in Conv2dParams p)
    {
        var dx = Empty(inputShape, dy.DType, dy.Backend);
        using var dyc = dy.Contiguous();
        using var wc = weight.Contiguous();
        using (OpProfiler.Measure("conv2d_backward_input", dy.Backend)) dy.Backend.Conv2dBackwardInput(dyc.View, wc.View, dx.View, p);
        return dx;
    }

    /// <summary>Returns (dWeight, dBias or null).</summary>
    public static (Tensor DWeight, Tensor? DBias) Conv2dBackwardWeight(Tensor dy, Tensor x, Shape weightShape, bool withBias, in Conv2dParams p)
    {
        var dw = Empty(weightShape, dy.DType, dy.Backend);
        var db = withBias ? Empty(new Shape(weightShape[0]), dy.DType, dy.Backend) : null;
        using var dyc = dy.Contiguous();
        using var xc = x.Contiguous();
        using (OpProfiler.Measure("conv2d_backward_weight", dy.Backend)) dy.Backend.Conv2dBackwardWeight(dyc.View, xc.View, dw.View, db?.View, p);
        return (dw, db);
    }

    /// <summary>Pooling forward; for max pooling also returns the Int32 argmax indices needed by backward.</summary>
    public static (Tensor Y, Tensor? Indices) Pool2d(PoolKind kind, Tensor x, in Pool2dParams p)
    {
        if (x.Rank != 4) throw new ArgumentException($"{kind.ToString().ToLowerInvariant()}_pool2d: input must be [N, C, H, W], got {x.Shape}");
        x.RequireFloat("pool2d");
        if (p.KernelH < 1 || p.KernelW < 1 || p.StrideH < 1 || p.StrideW < 1 || p.PadH < 0 || p.PadW < 0 || p.PadH * 2 > p.KernelH || p.PadW * 2 > p.KernelW)
            throw new ArgumentException($"pool2d: invalid geometry {p} (padding must be at most half the kernel)");
        int oh = p.OutputH(x.Shape[2]), ow = p.OutputW(x.Shape[3]);
        if (oh < 1 || ow < 1) throw new ArgumentException($"pool2d: input {x.Shape} is too small for {p}");
        var y = Empty(new Shape(x.Shape[0], x.Shape[1], oh, ow), x.DType, x.Backend);
        var indices = kind == PoolKind.Max ? Empty(y.Shape, DType.Int32, x.Backend) : null;
        using var xc = x.Contiguous();
        using (OpProfiler.Measure("pool2d_forward", x.Backend)) x.Backend.Pool2dForward(kind, xc.View, y.View, indices?.View, p);
        return (y, indices);
    }

    public static Tensor Pool2dBackward(PoolKind kind, Tensor dy, Tensor? indices, Shape inputShape, in Pool2dParams p)
    {
        var dx = Empty(inputShape, dy.DType, dy.Backend);
        using var dyc = dy.Contiguous();
        using (OpProfiler.Measure("pool2d_backward", dy.Backend)) dy.Backend.Pool2dBackward(kind, dyc.View, indices?.View, dx.View, p);
        return dx;
    }

    /// <summary>Views a tensor [N, C, ...] as contiguous [N, C, S] for the per-channel primitives.</summary>
    public Tensor AsChannels(string op)
    {
        if (Rank < 2) throw new ArgumentException($"{op}: input must be [N, C, ...], got {Shape}");
        int s = (int)(Numel / ((long)Shape[0] * Shape[1]));
        return Reshape(Shape[0], Shape[1], s);
    }

    /// <summary>Per-channel mean and biased variance over every axis except 1.</summary>
    public (Tensor Mean, Tensor Variance) ChannelMeanVar()
    {
        RequireFloat("channel_mean_var");
        using var x = AsChannels("channel_mean_var");
        var mean = Empty(new Shape(Shape[1]), DType, Backend);
        var variance = Empty(new Shape(Shape[1]), DType, Backend);
        using (OpProfiler.Measure("channel_mean_var", Backend)) Backend.ChannelMeanVar(x.View, mean.View, variance.View);
        return (mean, variance);
    }

    /// <summary>
    /// y[n,c,...] = x·scale[c] + shift[c] (+ x2·scale2[c], or + x2 without scale2), through max(0, ·) when relu; with a
    /// gate, x counts as 0 where the gate is closed.
    /// </summary>
    public static Tensor ChannelAffine(Tensor x, Tensor scale, Tensor shift, Tensor? x2 = null, Tensor? scale2 = null, bool relu = false,
        ReluGate? gate = null)
    {
        int c = x.Shape[1];
        CheckChannelVector(scale, c, "channel_affine");
        CheckChannelVector(shift, c, "channel_affine");
        if (scale2 != null) CheckChannelVector(scale2, c, "channel_affine");
        if (x2 != null && x2.Shape != x.Shape) throw new ArgumentException($"channel_affine: second input {x2.Shape} must match {x.Shape}");
        var y = Empty(x.Shape, x.DType, x.Backend);
        using var xv = x.AsChannels("channel_affine");
        using var yv = y.Reshape(xv.Shape);
        using var x2v = x2?.AsChannels("channel_affine");
        using var gatev = gate?.AsChannels(x, "channel_affine");
        using (OpProfiler.Measure("channel_affine", x.Backend))
            x.Backend.ChannelAffine(xv.View, scale.View, shift.View, yv.View, x2v?.View, scale2?.View, relu, gatev?.View);
        return y;
    }

    /// <summary>A gate's tensors as [N, C, S] channels, for the backend; disposes the reshaped values.</summary>
    internal sealed class GateChannels(Tensor values, Tensor? scale, Tensor? shift) : IDisposable
    {
        public ReluGateView View => new(values.View, scale?.View, shift?.View);
        public void Dispose() => values.Dispose();
    }

    internal static void CheckChannelVector(Tensor v, int channels, string op)
    {
        if (v.Rank != 1 || v.Shape[0] != channels || !v.IsContiguous)
            throw new ArgumentException($"{op}: per-channel vectors must be contiguous [{channels}], got {v.Shape}");
    }

    /// <summary>
    /// (Σ dy, Σ dy·(x − center)) per channel. With a gate, dy counts as 0 where the gate is closed, and Gated (only
    /// when writeGated) holds that gated dy — the gradient a fused ReLU passes on.
    /// </summary>
    public static (Tensor SumDy, Tensor SumDyX, Tensor? Gated) ChannelGradSums(Tensor dy, Tensor x, Tensor center, ReluGate? gate = null,
        bool writeGated = false)
    {
        if (dy.Shape != x.Shape) throw new ArgumentException($"channel_grad_sums: dy {dy.Shape} must match x {x.Shape}");
        CheckChannelVector(center, x.Shape[1], "channel_grad_sums");
        using var dyv = dy.AsChannels("channel_grad_sums");
        using var xv = x.AsChannels("channel_grad_sums");
        using var gatev = gate?.AsChannels(x, "channel_grad_sums");
        var sumDy = Empty(new Shape(x.Shape[1]), x.DType, x.Backend);
        var sumDyX = Empty(new Shape(x.Shape[1]), x.DType, x.Backend);
        var gated = writeGated ? Empty(x.Shape, x.DType, x.Backend) : null;
        using var gatedv = gated?.Reshape(xv.Shape);
        using (OpProfiler.Measure("channel_grad_sums", x.Backend))
            x.Backend.ChannelGradSums(dyv.View, xv.View, center.View, sumDy.View, sumDyX.View, gatev?.View, gatedv?.View);
        return (sumDy, sumDyX, gated);
    }

    /// <summary>y[r] = x[r, index[r]] for x [R, C] and Int64 index [R].</summary>
    public Tensor GatherColumns(Tensor index)
    {
        CheckIndex(index, "gather_columns");
        var y = Empty(new Shape(Shape[0]), DType, Backend);
        using var x = Contiguous();
        using (OpProfiler.Measure("gather_columns", Backend)) Backend.GatherColumns(x.View, index.View, y.View);
        return y;
    }

    /// <summary>this[r, index[r]] += values[r] in place.</summary>
    public void ScatterAddColumns(Tensor index, Tensor values)
    {
        CheckIndex(index, "scatter_add_columns");
        if (!IsContiguous) throw new ArgumentException("scatter_add_columns: target must be contiguous");
        using (OpProfiler.Measure("scatter_add_columns", Backend)) Backend.ScatterAddColumns(View, index.View, values.View);
    }

    private void CheckIndex(Tensor index, string op)
    {
        if (Rank != 2) throw new ArgumentException($"{op}: expected a [rows, columns] tensor, got {Shape}");
        if (index.DType != DType.Int64 || index.Rank != 1 || index.Shape[0] != Shape[0] || !index.IsContiguous)
            throw new ArgumentException($"{op}: index must be a contiguous Int64 [{Shape[0]}], got {index.Shape} {index.DType}");
    }
}

/// <summary>
/// Where a ReLU let the gradient through (ReluGateView on the backend): open where Values·Scale[c] + Shift[c] &gt; 0,
/// or where Values &gt; 0 when Scale and Shift are absent. Values has the gated tensor's shape [N, C, ...]; the affine
/// form, given a ChannelAffine's input and its scale and shift, opens exactly where that affine's ReLU output is
/// positive, without keeping the output.
/// </summary>
public readonly record struct ReluGate(Tensor Values, Tensor? Scale = null, Tensor? Shift = null)
{
    internal Tensor.GateChannels AsChannels(Tensor gated, string op)
    {
        if (Values.Shape != gated.Shape) throw new ArgumentException($"{op}: gate values {Values.Shape} must match {gated.Shape}");
        if ((Scale == null) != (Shift == null)) throw new ArgumentException($"{op}: a gate needs both scale and shift, or neither");
        if (Scale != null) Tensor.CheckChannelVector(Scale, gated.Shape[1], op);
        if (Shift != null) Tensor.CheckChannelVector(Shift, gated.Shape[1], op);
        return new Tensor.GateChannels(Values.AsChannels(op), Scale, Shift);
    }
}
