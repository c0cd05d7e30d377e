// The per-channel primitives behind batch normalisation (Kernels/NormKernels.cs) over contiguous [N, C, S] tensors:
// ChannelMeanVar and ChannelGradSums share one pair of launches (per-chunk sums, then a per-channel finish), and
// ChannelAffine is one work item per element. A channel's N·S elements are split into chunks so that a few channels of
// many elements (ResNet's first stage: 16 channels of 128·32·32) still spread over the whole device.
using Standalone.Backends.Gpu.Kernels;
using F32 = ILGPU.ArrayView<float>;

namespace Standalone.Backends.Gpu;

public sealed partial class GpuBackend
{
    private const int SumsMeanVar = ChannelSumsShape.MeanVar, SumsGrad = ChannelSumsShape.Grad;

    public void ChannelMeanVar(in TensorView x, in TensorView mean, in TensorView variance)
    {
        RequireFloat32("channel mean/var", x.DType);
        ChannelSums(SumsMeanVar, x, dy: x, center: x, mean, variance, null, null); // dy and center are unused: x fills their slots
    }

    public void ChannelGradSums(in TensorView dy, in TensorView x, in TensorView center, in TensorView sumDy, in TensorView sumDyX,
        ReluGateView? gate = null, TensorView? gated = null)
    {
        RequireFloat32("channel grad sums", dy.DType);
        ChannelSums(SumsGrad, x, dy, center, sumDy, sumDyX, gate, gated);
    }

    /// <summary>A gate's mode and its values, scale and shift views; a missing tensor's slot is filled with x.</summary>
    private static (int Mode, F32 Values, F32 Scale, F32 Shift) GateArguments(ReluGateView? gate, in TensorView x)
    {
        int mode = gate is not { } g ? NormKernels.GateNone : g.Scale.HasValue ? NormKernels.GateAffine : NormKernels.GatePositive;
        return (mode, View<float>(gate?.Values ?? x), View<float>(gate?.Scale ?? x), View<float>(gate?.Shift ?? x));
    }

    /// <summary>The two per-channel results of <paramref name="mode"/> into first[c] and second[c].</summary>
    private void ChannelSums(int mode, in TensorView x, in TensorView dy, in TensorView center, in TensorView first, in TensorView second,
        ReluGateView? gate, TensorView? gated)
    {
        long n = x.Shape[0], s = x.Shape[2];
        int channels = x.Shape[1];
        long length = n * s;
        if (channels == 0) return;
        if (length == 0)
        {
            // As on the CPU: the statistics of nothing are 0/0, the sums of nothing 0.
            double empty = mode == SumsMeanVar ? double.NaN : 0;
            Fill(first, empty);
            Fill(second, empty);
            return;
        }
        long chunks = Math.Clamp(Math.Min(Ceiling(length, MaxReductionGroup * ItemWork), Ceiling(TargetGroups, channels)), 1, MaxReductionGroup);
        long chunkLength = Ceiling(length, chunks);
        chunks = Ceiling(length, chunkLength);
        int local = GroupSize(chunkLength);
        var partial = Allocate(DType.Float32, 2 * channels * chunks);
        try
        {
            var gatedOut = gated ?? x;
            var (gateMode, gateValues, gateScale, gateShift) = GateArguments(gate, x);
            var shape = new ChannelSumsShape
            {
                Mode = mode, Gate = gateMode, HasGated = gated.HasValue ? 1 : 0, Channels = channels, Chunks = (int)chunks,
                N = n, S = s, ChunkLength = chunkLength,
            };
            Load<F32, F32, F32, F32, F32, F32, F32, F32, ChannelSumsShape>(NormKernels.Sums)(_stream, Config("channel sums", channels * chunks * local, 1, 1, local),
                View<float>(x), View<float>(dy), View<float>(center), gateValues, gateScale, gateShift, View<float>(gatedOut), View<float>(partial), shape);
            int finishLocal = GroupSize(chunks);
            Load<F32, F32, F32, F32, ChannelSumsShape>(NormKernels.SumsFinish)(_stream, Config("channel sums", channels * finishLocal, 1, 1, finishLocal),
                View<float>(partial), View<float>(x), View<float>(first), View<float>(second), shape);
        }
        finally { partial.Release(); } // the in-order queue runs both launches before any later use of the pooled buffer
    }

    public void ChannelAffine(in TensorView x, in TensorView scale, in TensorView shift, in TensorView y, TensorView? x2 = null, TensorView? scale2 = null,
        bool relu = false, ReluGateView? gate = null)
    {
        RequireFloat32("channel affine", x.DType);
        if (y.Numel == 0) return;
        int channels = x.Shape[1];
        long s = x.Shape[2];
        int rows = x.Shape[0] * channels;
        // Work groups span a run of positions and, when S is short, several rows (RowsConfig).
        // A missing x2 / scale2 is flagged off; x / scale fill the argument slots.
        var (gateMode, gateValues, gateScale, gateShift) = GateArguments(gate, x);
        var shape = new ChannelAffineShape
        {
            HasX2 = x2.HasValue ? 1 : 0, HasScale2 = scale2.HasValue ? 1 : 0, Relu = relu ? 1 : 0, Gate = gateMode, Channels = channels, Rows = rows, S = s,
        };
        Load<F32, F32, F32, F32, F32, F32, F32, F32, F32, ChannelAffineShape>(NormKernels.Affine)(_stream,
            RowsConfig("channel affine", s, rows),
            View<float>(x), View<float>(scale), View<float>(shift), View<float>(x2 ?? x), View<float>(scale2 ?? scale),
            gateValues, gateScale, gateShift, View<float>(y), shape);
    }
}
