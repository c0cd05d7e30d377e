// The per-channel primitives behind batch normalisation (Kernels/norm.c) over contiguous [N, C, S] tensors:
// ChannelMeanVar and ChannelGradSums share one pair of launches (per-chunk sums, then a per-channel finish), and
// ChannelAffine is one work item per element. A channel's N·S elements are split into chunks so that a few channels of
// many elements (ResNet's first stage: 16 channels of 128·32·32) still spread over the whole device.
namespace Standalone.Backends.Gpu;

public abstract partial class GpuBackend
{
    private const string NormFile = "norm.c";
    // The modes of channel_sums / channel_sums_finish.
    private const int SumsMeanVar = 0, SumsGrad = 1;

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

    // The gate modes of norm.c: none, open where values > 0, open where values·scale[c] + shift[c] > 0.
    private const int GateNone = 0, GatePositive = 1, GateAffine = 2;

    /// <summary>Appends a gate's arguments (mode, values, scale, shift); a missing tensor's slot is filled with x.</summary>
    private static Launch GateArguments(Launch kernel, ReluGateView? gate, in TensorView x)
    {
        int mode = gate is not { } g ? GateNone : g.Scale.HasValue ? GateAffine : GatePositive;
        var values = gate?.Values ?? x;
        var scale = gate?.Scale ?? x;
        var shift = gate?.Shift ?? x;
        return kernel.Arg(mode).Buffer(values.Buffer).Arg(values.Offset).Buffer(scale.Buffer).Arg(scale.Offset).Buffer(shift.Buffer).Arg(shift.Offset);
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
            var sums = Kernel(NormFile, "channel_sums").Arg(mode).Buffer(x).Arg(x.Offset).Buffer(dy).Arg(dy.Offset).Buffer(center).Arg(center.Offset);
            GateArguments(sums, gate, x).Arg(gated.HasValue ? 1 : 0).Buffer(gatedOut).Arg(gatedOut.Offset)
                .Arg(n).Arg(channels).Arg(s).Arg(chunkLength).Arg((int)chunks).Buffer(partial).Run([channels * chunks * local], [local]);
            int finishLocal = GroupSize(chunks);
            Kernel(NormFile, "channel_sums_finish").Arg(mode).Buffer(partial).Arg((int)chunks).Buffer(x).Arg(x.Offset).Arg(s).Arg(length)
                .Buffer(first).Arg(first.Offset).Buffer(second).Arg(second.Offset).Run([channels * finishLocal], [finishLocal]);
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
        // Work groups span a run of positions and, when S is short, several rows.
        int across = GroupSize(s);
        int down = GroupSize(MaxReductionGroup) / across;
        // A missing x2 / scale2 is flagged off; x / scale fill the argument slots.
        var second = x2 ?? x;
        var secondScale = scale2 ?? scale;
        var affine = Kernel(NormFile, "channel_affine").Buffer(x).Arg(x.Offset).Buffer(scale).Arg(scale.Offset).Buffer(shift).Arg(shift.Offset)
            .Buffer(second).Arg(second.Offset).Buffer(secondScale).Arg(secondScale.Offset).Arg(x2.HasValue ? 1 : 0).Arg(scale2.HasValue ? 1 : 0).Arg(relu ? 1 : 0);
        GateArguments(affine, gate, x)
            .Buffer(y).Arg(y.Offset).Arg(channels).Arg(s).Arg(rows).Run([RoundUp(s, across), RoundUp(rows, down)], [across, down]);
    }
}
