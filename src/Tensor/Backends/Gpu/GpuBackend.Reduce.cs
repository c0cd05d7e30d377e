// Reduce (Sum / Max / Min over axes) and the row-wise ArgMax (Kernels/ReduceKernels.cs).
//
// Reduce merges neighbouring dims that are both reduced or both kept, as the CPU backend does, and hands the kernels
// x as outputs × reduction positions: `kept` places each output, the reduction is a sequence of runs (the innermost
// reduced dim) placed by `outer` (the other reduced dims). The layout picks the kernel:
// - innermost dim reduced, and the reduction longer than ShortReduction: Groups, a work group per output whose
//   items read along the run (NCHW over [0, 2, 3], row sums, a full sum);
// - otherwise Items, a work item per output (a sum over the batch of [N, F]; many short reductions).
// A reduction too long for the outputs alone to fill the device (batch statistics: C outputs of N·H·W elements; a full
// sum) is split into chunks; each launch then writes partials [outputs, chunks], which a second, smaller reduction of
// the same kind folds into y.
using Standalone.Backends.Gpu.Kernels;
using F32 = ILGPU.ArrayView<float>;
using I64 = ILGPU.ArrayView<long>;

namespace Standalone.Backends.Gpu;

public sealed partial class GpuBackend
{
    /// <summary>The largest work group of the reduction kernels (the size of their shared-memory trees).</summary>
    private const int MaxReductionGroup = ReduceKernels.MaxGroup;
    /// <summary>Reductions this short run in reduce_items even when the innermost dim is reduced.</summary>
    private const long ShortReduction = 16;
    /// <summary>Elements a work item folds at least, before a reduction is split into more chunks.</summary>
    private const long ItemWork = 32;

    /// <summary>
    /// Work groups that keep the whole device busy: a few per compute unit on a GPU; on a CPU-like device (the
    /// simulator), where every group costs a thread hand-off per work item, two per core.
    /// </summary>
    private long TargetGroups => Limits.IsGpu ? Math.Max(64, 4L * Limits.ComputeUnits) : Math.Max(1, 2L * Limits.ComputeUnits);

    /// <summary>x as the kernels see it: output j and reduction position k (see ReduceKernels.cs).</summary>
    private readonly record struct ReduceLayout(KernelView Kept, KernelView Outer, long Run, long RunStride, long Outputs, long Length, bool InnermostReduced);

    public void Reduce(ReduceOp op, in TensorView x, int reduceMask, in TensorView y)
    {
        RequireFloat32($"reduce {op}", x.DType);
        if (y.Numel == 0) return;
        if (x.Numel == 0)
        {
            Fill(y, op switch { ReduceOp.Sum => 0, ReduceOp.Max => double.NegativeInfinity, _ => double.PositiveInfinity });
            return;
        }
        var layout = DescribeReduction(x, reduceMask);
        if (layout.Length == 1)
        {
            Copy(x, y); // only size-1 dims are reduced: y is x
            return;
        }
        ReduceInto(op, x.Buffer, layout, y.Buffer, y.Offset);
    }

    /// <summary>Merges x's dims (size-1 dims vanish) into alternating kept / reduced runs and describes them.</summary>
    private static ReduceLayout DescribeReduction(in TensorView x, int reduceMask)
    {
        Span<long> size = stackalloc long[Shape.MaxRank];
        Span<bool> reduced = stackalloc bool[Shape.MaxRank];
        int rank = 0;
        for (int i = 0; i < x.Rank; i++)
        {
            int n = x.Shape[i];
            if (n == 1) continue;
            bool r = (reduceMask >> i & 1) != 0;
            if (rank > 0 && reduced[rank - 1] == r) { size[rank - 1] *= n; continue; }
            size[rank] = n;
            reduced[rank++] = r;
        }
        Span<long> stride = stackalloc long[Shape.MaxRank];
        long s = 1;
        for (int i = rank - 1; i >= 0; i--) { stride[i] = s; s *= size[i]; }

        Span<long> keptSize = stackalloc long[Shape.MaxRank], keptStride = stackalloc long[Shape.MaxRank];
        Span<long> outerSize = stackalloc long[Shape.MaxRank], outerStride = stackalloc long[Shape.MaxRank];
        int keptRank = 0, outerRank = 0, last = -1;
        long outputs = 1, length = 1;
        for (int i = 0; i < rank; i++)
        {
            if (!reduced[i])
            {
                keptSize[keptRank] = size[i];
                keptStride[keptRank++] = stride[i];
                outputs *= size[i];
                continue;
            }
            length *= size[i];
            if (last >= 0)
            {
                outerSize[outerRank] = size[last];
                outerStride[outerRank++] = stride[last];
            }
            last = i;
        }
        return new ReduceLayout(
            Layout(keptSize[..keptRank], keptStride[..keptRank], x.Offset),
            Layout(outerSize[..outerRank], outerStride[..outerRank], 0),
            Run: last >= 0 ? size[last] : 1,
            RunStride: last >= 0 ? stride[last] : 1,
            outputs, length,
            InnermostReduced: rank > 0 && reduced[rank - 1]);
    }

    /// <summary>A layout of the given dims; no dims is a single element.</summary>
    private static KernelView Layout(ReadOnlySpan<long> shape, ReadOnlySpan<long> strides, long offset) => KernelView.Of(shape, strides, offset);

    /// <summary>Reduces the layout l of buffer x into y[yOffset + j] for every output j, in chunks when l is long.</summary>
    private void ReduceInto(ReduceOp op, DeviceBuffer x, in ReduceLayout l, DeviceBuffer y, long yOffset)
    {
        bool perItem = !l.InnermostReduced || l.Length <= ShortReduction;
        long chunks = perItem
            ? Math.Min(Ceiling(l.Length, ItemWork), Math.Max(1, TargetGroups * MaxReductionGroup / l.Outputs))
            : Math.Min(Ceiling(l.Length, MaxReductionGroup * ItemWork), Math.Max(1, TargetGroups / l.Outputs));
        long chunkLength = Ceiling(l.Length, chunks);
        chunks = Ceiling(l.Length, chunkLength);
        var partial = chunks > 1 ? Allocate(DType.Float32, l.Outputs * chunks) : null;
        try
        {
            ReduceLaunch(op, x, l, perItem, chunkLength, chunks, partial ?? y, partial == null ? yOffset : 0);
            if (partial == null) return;
            // The partials are [outputs, chunks]: reduce each row. The in-order queue runs this after the launch above,
            // and the buffer goes back to the pool only after both are enqueued.
            Span<long> rows = [l.Outputs], rowStride = [chunks];
            var second = new ReduceLayout(Layout(rows, rowStride, 0), Layout([], [], 0), Run: chunks, RunStride: 1, l.Outputs, chunks, InnermostReduced: true);
            ReduceInto(op, partial, second, y, yOffset);
        }
        finally { partial?.Release(); }
    }

    /// <summary>One launch: output j's chunk c goes to target[targetOffset + j·chunks + c].</summary>
    private void ReduceLaunch(ReduceOp op, DeviceBuffer x, in ReduceLayout l, bool perItem, long chunkLength, long chunks, DeviceBuffer target, long targetOffset)
    {
        var shape = new ReduceShape
        {
            Kept = l.Kept, Outer = l.Outer, Run = l.Run, RunStride = l.RunStride, Length = l.Length, ChunkLength = chunkLength,
            Outputs = l.Outputs, Op = (int)op, Chunks = (int)chunks,
        };
        if (perItem)
            Load<F32, ReduceShape, F32>(ReduceKernels.Items)(_stream, Config1D("reduce", l.Outputs * chunks), View<float>(x), shape, View<float>(target, targetOffset));
        else
        {
            int local = GroupSize(chunkLength);
            Load<F32, ReduceShape, F32>(ReduceKernels.Groups)(_stream, Config("reduce", l.Outputs * chunks * local, 1, 1, local), View<float>(x), shape, View<float>(target, targetOffset));
        }
    }

    private static long Ceiling(long value, long divisor) => (value + divisor - 1) / divisor;

    /// <summary>The work-group size for folding <paramref name="work"/> elements: a power of two, at most the tree size and what the device allows.</summary>
    private int GroupSize(long work)
    {
        int limit = (int)Math.Min(MaxReductionGroup, Math.Max(1, (long)Limits.MaxWorkGroupSize));
        int size = 1;
        while (size < work && size * 2 <= limit) size *= 2;
        return size;
    }

    public void ArgMax(in TensorView x, in TensorView y)
    {
        RequireFloat32("argmax", x.DType);
        long rows = x.Shape[0], cols = x.Shape[1];
        if (rows == 0) return;
        int local = GroupSize(cols);
        Load<F32, long, I64>(ReduceKernels.ArgMaxRows)(_stream, Config("argmax", rows * local, 1, 1, local), View<float>(x), cols, View<long>(y));
    }
}
