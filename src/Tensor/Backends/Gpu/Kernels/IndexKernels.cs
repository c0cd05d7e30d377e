// Index primitives with Int64 indices, with the CPU backend's semantics (CpuBackend.Index.cs):
// - GatherColumns: y[r] = x[r, index[r]] for a contiguous x [rows, cols]; one work item per row;
// - ScatterAddColumns: x[r, index[r]] += values[r]; one work item per row, and row r only ever touches row r of x, so
//   no two items write the same element and no atomics are needed;
// - IndexSelect4 / 8: y = x.index_select(axis, index) for 4-byte (float, int32) and 8-byte (int64) elements, with x
//   seen as [outer, axisSize, inner] and y as [outer, count, inner]; one work item per element of y.
// The index vectors are rank 1 with any stride. Check runs first and raises a flag for an index out of range; the host
// reads it and throws before any kernel reads through a bad index (so a rejected scatter-add leaves x as it was).
using ILGPU;

namespace Standalone.Backends.Gpu.Kernels;

internal static class IndexKernels
{
    /// <summary>bad[0] = 1 when some index[i·stride], i &lt; count, lies outside [0, limit).</summary>
    public static void Check(ArrayView<long> index, long stride, long count, long limit, ArrayView<int> bad)
    {
        long i = Item.Global0;
        if (i >= count) return;
        long v = index[i * stride];
        if (v < 0 || v >= limit) bad[0] = 1;
    }

    public static void GatherColumns(ArrayView<float> x, long cols, ArrayView<long> index, long indexStride, ArrayView<float> y, long yStride, long rows)
    {
        long r = Item.Global0;
        if (r >= rows) return;
        y[r * yStride] = x[r * cols + index[r * indexStride]];
    }

    public static void ScatterAddColumns(ArrayView<float> x, long cols, ArrayView<long> index, long indexStride, ArrayView<float> values, long valuesStride, long rows)
    {
        long r = Item.Global0;
        if (r >= rows) return;
        x[r * cols + index[r * indexStride]] += values[r * valuesStride];
    }

    /// <summary>y[o, k, j] = x[o, index[k], j], element i of y = (o·count + k)·inner + j.</summary>
    public static void IndexSelect4(ArrayView<int> x, long axisSize, ArrayView<long> index, long indexStride, ArrayView<int> y, long count, long inner, long total)
    {
        long i = Item.Global0;
        if (i >= total) return;
        long j = i % inner, rest = i / inner;
        long k = rest % count, o = rest / count;
        y[i] = x[(o * axisSize + index[k * indexStride]) * inner + j];
    }

    public static void IndexSelect8(ArrayView<long> x, long axisSize, ArrayView<long> index, long indexStride, ArrayView<long> y, long count, long inner, long total)
    {
        long i = Item.Global0;
        if (i >= total) return;
        long j = i % inner, rest = i / inner;
        long k = rest % count, o = rest / count;
        y[i] = x[(o * axisSize + index[k * indexStride]) * inner + j];
    }
}
