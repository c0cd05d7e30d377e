// Reductions over axes: sum, mean, max, min, argmax.
using Standalone.Backends;
using Standalone.Diagnostics;

namespace Standalone;

public sealed partial class Tensor
{
    /// <summary>Sum over the given axes (all when none); reduced axes are kept as size 1 when keepDims.</summary>
    public Tensor Sum(ReadOnlySpan<int> axes, bool keepDims = false) => Reduce(ReduceOp.Sum, AxisMask(axes), keepDims);
    public Tensor Max(ReadOnlySpan<int> axes, bool keepDims = false) => Reduce(ReduceOp.Max, AxisMask(axes), keepDims);
    public Tensor Min(ReadOnlySpan<int> axes, bool keepDims = false) => Reduce(ReduceOp.Min, AxisMask(axes), keepDims);

    public Tensor Mean(ReadOnlySpan<int> axes, bool keepDims = false)
    {
        var sum = Sum(axes, keepDims);
        long count = Numel / Math.Max(1, sum.Numel);
        sum.MulInPlace(1.0 / count);
        return sum;
    }

    public Tensor Sum() => Sum([]);
    public Tensor Mean() => Mean([]);
    public Tensor Max() => Max([]);
    public Tensor Min() => Min([]);
    public Tensor Sum(int axis, bool keepDims = false) => Sum([axis], keepDims);
    public Tensor Mean(int axis, bool keepDims = false) => Mean([axis], keepDims);
    public Tensor Max(int axis, bool keepDims = false) => Max([axis], keepDims);
    public Tensor Min(int axis, bool keepDims = false) => Min([axis], keepDims);

    /// <summary>Bit i set for every reduced axis; no axes means all of them.</summary>
    public int AxisMask(ReadOnlySpan<int> axes)
    {
        if (axes.Length == 0) return (1 << Rank) - 1;
        int mask = 0;
        foreach (int axis in axes) mask |= 1 << Shape.Normalize(axis);
        return mask;
    }

    private static readonly string[] ReduceNames = Enum.GetNames<ReduceOp>().Select(n => "reduce_" + n.ToLowerInvariant()).ToArray();

    private Tensor Reduce(ReduceOp op, int mask, bool keepDims)
    {
        string name = ReduceNames[(int)op];
        RequireFloat(name);
        if (Numel == 0) throw new ArgumentException($"{name}: cannot reduce an empty tensor {Shape}");

        Span<int> kept = stackalloc int[Rank];
        Span<int> squeezed = stackalloc int[Rank];
        int squeezedRank = 0;
        for (int i = 0; i < Rank; i++)
        {
            bool reduced = (mask & (1 << i)) != 0;
            kept[i] = reduced ? 1 : Shape[i];
            if (!reduced) squeezed[squeezedRank++] = Shape[i];
        }
        var keptShape = new Shape(kept);
        var y = Empty(keptShape, DType, Backend);
        using (var x = Contiguous())
        using (OpProfiler.Measure(ReduceNames[(int)op], Backend)) Backend.Reduce(op, x.View, mask, y.View);
        if (keepDims) return y;
        using (y) return y.Reshape(new Shape(squeezed[..squeezedRank]));
    }

    /// <summary>Index of the (first) maximum along an axis, as Int64, with that axis removed.</summary>
    public Tensor ArgMax(int axis = -1)
    {
        RequireFloat("argmax");
        int a = Shape.Normalize(axis);
        // Move the axis last, keeping the others in order, so rows are contiguous runs along it.
        var order = new int[Rank];
        for (int i = 0, j = 0; i < Rank; i++) if (i != a) order[j++] = i;
        order[Rank - 1] = a;
        using var moved = Permute(order);
        using var rows = moved.Contiguous();
        int cols = Shape[a];
        using var matrix = rows.Reshape((int)(Numel / cols), cols);
        var result = Empty(new Shape((int)(Numel / cols)), DType.Int64, Backend);
        Backend.ArgMax(matrix.View, result.View);
        Span<int> outDims = stackalloc int[Rank - 1];
        for (int i = 0; i < Rank - 1; i++) outDims[i] = moved.Shape[i];
        using (result) return result.Reshape(new Shape(outDims));
    }
}
