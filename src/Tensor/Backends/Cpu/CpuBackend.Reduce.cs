// Sum / Max / Min over a set of axes, and the row-wise ArgMax.
//
// Reduce first merges neighbouring dimensions that are both reduced or both kept (size-1 dimensions vanish), so any
// request becomes an alternating list such as [kept C, reduced HW] or [reduced N, kept C, reduced HW]. Two loops
// then cover every case, both reading x in contiguous runs along the innermost merged dimension:
// - innermost reduced (NCHW over 0,2,3): each output element folds the runs at every combination of the outer
//   reduced dimensions, each run reduced with TensorPrimitives;
// - innermost kept (sum over the batch of [N, F]): each output row accumulates whole x runs element-wise.
// Outputs are independent, so the work splits across threads by output; a full reduction to one value splits the
// input into chunks instead and folds the chunk results.
using System.Numerics;
using System.Numerics.Tensors;

namespace Standalone.Backends.Cpu;

public sealed partial class CpuBackend
{
    private const long ReduceParallelThreshold = 1 << 15;

    public void Reduce(ReduceOp op, in TensorView x, int reduceMask, in TensorView y)
    {
        switch (x.DType)
        {
            case DType.Float32: ReduceTyped<float>(op, x, reduceMask, y); break;
            case DType.Float64: ReduceTyped<double>(op, x, reduceMask, y); break;
            default: throw Unsupported($"reduce {op}", x.DType);
        }
    }

    /// <summary>x after merging: Rank dims, each reduced or kept, with x's contiguous strides.</summary>
    private struct ReduceLayout
    {
        public Dims8 Size;
        public Strides8 Stride;
        public int Rank;
        public int ReducedMask;

        public readonly bool IsReduced(int i) => (ReducedMask >> i & 1) != 0;
    }

    private static ReduceLayout MergeReduceDims(in Shape shape, int reduceMask)
    {
        var l = new ReduceLayout();
        for (int i = 0; i < shape.Rank; i++)
        {
            int n = shape[i];
            if (n == 1) continue;
            bool reduced = (reduceMask >> i & 1) != 0;
            if (l.Rank > 0 && l.IsReduced(l.Rank - 1) == reduced) { l.Size[l.Rank - 1] *= n; continue; }
            l.Size[l.Rank] = n;
            if (reduced) l.ReducedMask |= 1 << l.Rank;
            l.Rank++;
        }
        long stride = 1;
        for (int i = l.Rank - 1; i >= 0; i--) { l.Stride[i] = stride; stride *= l.Size[i]; }
        return l;
    }

    private static void ReduceTyped<T>(ReduceOp op, in TensorView x, int reduceMask, in TensorView y)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var xs = Arr<T>(x);
        var ys = Arr<T>(y);
        long xOffset = x.Offset, yOffset = y.Offset;
        int yCount = (int)y.Numel;
        if (x.Numel == 0)
        {
            ys.AsSpan((int)yOffset, yCount).Fill(ReduceIdentity<T>(op));
            return;
        }
        var l = MergeReduceDims(x.Shape, reduceMask);
        if (l.ReducedMask == 0)
        {
            xs.AsSpan((int)xOffset, yCount).CopyTo(ys.AsSpan((int)yOffset, yCount));
            return;
        }
        if (l.Rank == 1)
        {
            ys[yOffset] = ReduceAll(op, xs, xOffset, l.Size[0]);
            return;
        }

        int inner = l.Rank - 1;
        int runLength = l.Size[inner];
        long work = x.Numel;
        if (l.IsReduced(inner))
        {
            // One output per combination of kept dims; y's order is the kept dims' row-major order.
            long minChunk = Math.Max(1, ReduceParallelThreshold * yCount / work);
            if (work < ReduceParallelThreshold) minChunk = yCount;
            if (l.Rank == 2)
            {
                // [rows, run] — global pooling, row sums: output j is the run at j·runLength, no odometer needed.
                CpuParallel.ForRange(yCount, minChunk, (start, end) =>
                {
                    for (long j = start; j < end; j++) ys[yOffset + j] = ReduceRun(op, xs.AsSpan((int)(xOffset + j * runLength), runLength));
                });
                return;
            }
            CpuParallel.ForRange(yCount, minChunk, (start, end) =>
            {
                for (long j = start; j < end; j++)
                {
                    long xBase = xOffset + KeptOffset(l, j);
                    ys[yOffset + j] = ReduceOuterRuns(op, xs, xBase, l, runLength);
                }
            });
            return;
        }

        // Innermost kept: y is [rows, runLength]; split by rows, or by columns when there are too few rows.
        int rows = yCount / runLength;
        if (rows >= CpuParallel.ThreadCount || work < ReduceParallelThreshold)
        {
            long minChunk = work < ReduceParallelThreshold ? rows : Math.Max(1, ReduceParallelThreshold * rows / work);
            CpuParallel.ForRange(rows, minChunk, (start, end) =>
            {
                for (long r = start; r < end; r++)
                    AccumulateRuns(op, xs, xOffset + KeptOffset(l, r * runLength), l, ys.AsSpan((int)(yOffset + r * runLength), runLength));
            });
            return;
        }
        for (int r = 0; r < rows; r++)
        {
            long xBase = xOffset + KeptOffset(l, (long)r * runLength);
            long yRow = yOffset + (long)r * runLength;
            CpuParallel.ForRange(runLength, Math.Max(64, ReduceParallelThreshold * runLength / work), (start, end) =>
                AccumulateRuns(op, xs, xBase + start, l, ys.AsSpan((int)(yRow + start), (int)(end - start))));
        }
    }

    /// <summary>x offset of the kept-dims position that is element yIndex of y (row-major over the kept dims).</summary>
    private static long KeptOffset(in ReduceLayout l, long yIndex)
    {
        long offset = 0;
        for (int i = l.Rank - 1; i >= 0; i--)
        {
            if (l.IsReduced(i)) continue;
            long index = yIndex % l.Size[i];
            yIndex /= l.Size[i];
            offset += index * l.Stride[i];
        }
        return offset;
    }

    /// <summary>Folds the contiguous innermost runs at every combination of the outer reduced dims into one value.</summary>
    private static T ReduceOuterRuns<T>(ReduceOp op, T[] xs, long xBase, in ReduceLayout l, int runLength)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        Span<int> index = stackalloc int[Shape.MaxRank];
        T acc = ReduceIdentity<T>(op);
        long offset = xBase;
        do acc = Combine(op, acc, ReduceRun(op, xs.AsSpan((int)offset, runLength)));
        while (NextReducedRun(l, index, ref offset));
        return acc;
    }

    /// <summary>destination[i] = fold over every reduced-dims combination c of x[xBase + c + i].</summary>
    private static void AccumulateRuns<T>(ReduceOp op, T[] xs, long xBase, in ReduceLayout l, Span<T> destination)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        Span<int> index = stackalloc int[Shape.MaxRank];
        long offset = xBase;
        xs.AsSpan((int)offset, destination.Length).CopyTo(destination);
        while (NextReducedRun(l, index, ref offset))
        {
            var run = xs.AsSpan((int)offset, destination.Length);
            switch (op)
            {
                case ReduceOp.Sum: TensorPrimitives.Add(destination, run, destination); break;
                case ReduceOp.Max: TensorPrimitives.Max(destination, run, destination); break;
                default: TensorPrimitives.Min(destination, run, destination); break;
            }
        }
    }

    /// <summary>
    /// Odometer over the reduced dims outside the innermost one: advances offset to the next combination's run and
    /// returns false (offset back at the first) once all have been visited. index starts zeroed.
    /// </summary>
    private static bool NextReducedRun(in ReduceLayout l, Span<int> index, ref long offset)
    {
        for (int d = l.Rank - 2; d >= 0; d--)
        {
            if (!l.IsReduced(d)) continue;
            offset += l.Stride[d];
            if (++index[d] < l.Size[d]) return true;
            offset -= l.Stride[d] * l.Size[d];
            index[d] = 0;
        }
        return false;
    }

    /// <summary>Reduces a contiguous block to one value, in per-thread chunks when it is large.</summary>
    private static T ReduceAll<T>(ReduceOp op, T[] xs, long offset, long length) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (length < ReduceParallelThreshold || CpuParallel.ThreadCount == 1) return ReduceRun(op, xs.AsSpan((int)offset, (int)length));
        var partials = new T[CpuParallel.ThreadCount];
        for (int i = 0; i < partials.Length; i++) partials[i] = ReduceIdentity<T>(op);
        long per = (length + partials.Length - 1) / partials.Length;
        CpuParallel.For(partials.Length, i =>
        {
            long start = i * per, end = Math.Min(length, start + per);
            if (end > start) partials[i] = ReduceRun(op, xs.AsSpan((int)(offset + start), (int)(end - start)));
        });
        return ReduceRun(op, partials.AsSpan());
    }

    private static T ReduceRun<T>(ReduceOp op, ReadOnlySpan<T> run) where T : unmanaged, IFloatingPointIeee754<T> => op switch
    {
        ReduceOp.Sum => TensorPrimitives.Sum(run),
        ReduceOp.Max => TensorPrimitives.Max(run),
        _ => TensorPrimitives.Min(run),
    };

    private static T Combine<T>(ReduceOp op, T a, T b) where T : IFloatingPointIeee754<T> => op switch
    {
        ReduceOp.Sum => a + b,
        ReduceOp.Max => T.Max(a, b),
        _ => T.Min(a, b),
    };

    private static T ReduceIdentity<T>(ReduceOp op) where T : IFloatingPointIeee754<T> => op switch
    {
        ReduceOp.Sum => T.Zero,
        ReduceOp.Max => T.NegativeInfinity,
        _ => T.PositiveInfinity,
    };

    public void ArgMax(in TensorView x, in TensorView y)
    {
        switch (x.DType)
        {
            case DType.Float32: ArgMaxTyped<float>(x, y); break;
            case DType.Float64: ArgMaxTyped<double>(x, y); break;
            default: throw Unsupported("argmax", x.DType);
        }
    }

    // First maximum of each row; a NaN counts as the maximum (PyTorch's argmax), the first NaN winning.
    private static void ArgMaxTyped<T>(in TensorView x, in TensorView y) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var xs = Arr<T>(x);
        var ys = Arr<long>(y);
        int rows = x.Shape[0], cols = x.Shape[1];
        long xOffset = x.Offset, yOffset = y.Offset;
        if (rows == 0) return;
        long minRows = Math.Max(1, ReduceParallelThreshold / Math.Max(1, cols));
        CpuParallel.ForRange(rows, minRows, (start, end) =>
        {
            for (long r = start; r < end; r++)
            {
                var row = xs.AsSpan((int)(xOffset + r * cols), cols);
                int best = 0;
                for (int c = 1; c < row.Length && !T.IsNaN(row[best]); c++)
                    if (row[c] > row[best] || T.IsNaN(row[c])) best = c;
                ys[yOffset + r] = best;
            }
        });
    }
}
