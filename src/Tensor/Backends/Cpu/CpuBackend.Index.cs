// Index primitives: one column per row (GatherColumns / ScatterAddColumns — cross-entropy's pick and its gradient)
// and index_select along any axis. Indices are Int64 and checked; an out-of-range index throws an ArgumentException
// that names the position, the index and the valid range (the index data lives on the device, so only the backend
// can see it).
using System.Numerics;

namespace Standalone.Backends.Cpu;

public sealed partial class CpuBackend
{
    private const long IndexParallelThreshold = 1 << 15;

    public void GatherColumns(in TensorView x, in TensorView index, in TensorView y)
    {
        switch (x.DType)
        {
            case DType.Float32: GatherColumnsTyped<float>(x, index, y); break;
            case DType.Float64: GatherColumnsTyped<double>(x, index, y); break;
            default: throw Unsupported("gather columns", x.DType);
        }
    }

    public void ScatterAddColumns(in TensorView x, in TensorView index, in TensorView values)
    {
        switch (x.DType)
        {
            case DType.Float32: ScatterAddColumnsTyped<float>(x, index, values); break;
            case DType.Float64: ScatterAddColumnsTyped<double>(x, index, values); break;
            default: throw Unsupported("scatter-add columns", x.DType);
        }
    }

    private static void GatherColumnsTyped<T>(in TensorView x, in TensorView index, in TensorView y) where T : unmanaged
    {
        var xs = Arr<T>(x);
        var ys = Arr<T>(y);
        var ids = Arr<long>(index);
        int rows = x.Shape[0], cols = x.Shape[1];
        long indexStride = VectorStride(index), yStride = VectorStride(y);
        for (int r = 0; r < rows; r++)
        {
            long column = CheckColumn("gather columns", ids[index.Offset + r * indexStride], r, cols);
            ys[y.Offset + r * yStride] = xs[x.Offset + (long)r * cols + column];
        }
    }

    private static void ScatterAddColumnsTyped<T>(in TensorView x, in TensorView index, in TensorView values)
        where T : unmanaged, IAdditionOperators<T, T, T>
    {
        var xs = Arr<T>(x);
        var vs = Arr<T>(values);
        var ids = Arr<long>(index);
        int rows = x.Shape[0], cols = x.Shape[1];
        long indexStride = VectorStride(index), valueStride = VectorStride(values);
        // Check every index before touching x, so a bad one leaves x unchanged.
        for (int r = 0; r < rows; r++) CheckColumn("scatter-add columns", ids[index.Offset + r * indexStride], r, cols);
        for (int r = 0; r < rows; r++)
        {
            ref T target = ref xs[x.Offset + (long)r * cols + ids[index.Offset + r * indexStride]];
            target += vs[values.Offset + r * valueStride];
        }
    }

    private static long CheckColumn(string op, long column, int row, int cols) =>
        (ulong)column < (ulong)cols ? column
            : throw new ArgumentException($"cpu {op}: row {row} has index {column}, out of range for {cols} columns (expected 0 ≤ index < {cols})");

    /// <summary>Element stride of a rank-1 view (a length-1 view may carry any stride).</summary>
    private static long VectorStride(in TensorView v) => v.Rank == 0 || v.Shape[0] <= 1 ? 1 : v.Strides[0];

    public void IndexSelect(in TensorView x, int axis, in TensorView index, in TensorView y)
    {
        switch (x.DType)
        {
            case DType.Float32: IndexSelectTyped<float>(x, axis, index, y); break;
            case DType.Float64: IndexSelectTyped<double>(x, axis, index, y); break;
            case DType.Int32: IndexSelectTyped<int>(x, axis, index, y); break;
            case DType.Int64: IndexSelectTyped<long>(x, axis, index, y); break;
        }
    }

    // x viewed as [outer, axisSize, inner] and y as [outer, count, inner]: y[o, k, :] = x[o, index[k], :].
    private static void IndexSelectTyped<T>(in TensorView x, int axis, in TensorView index, in TensorView y) where T : unmanaged
    {
        var xs = Arr<T>(x);
        var ys = Arr<T>(y);
        var ids = Arr<long>(index);
        axis = x.Shape.Normalize(axis);
        int axisSize = x.Shape[axis];
        int count = y.Shape[axis];
        long outer = 1, inner = 1;
        for (int i = 0; i < axis; i++) outer *= x.Shape[i];
        for (int i = axis + 1; i < x.Rank; i++) inner *= x.Shape[i];
        long indexOffset = index.Offset, indexStride = VectorStride(index);
        for (int k = 0; k < count; k++)
        {
            long i = ids[indexOffset + k * indexStride];
            if ((ulong)i >= (ulong)axisSize)
                throw new ArgumentException($"cpu index select: position {k} has index {i}, out of range for axis {axis} of size {axisSize} in shape {x.Shape} (expected 0 ≤ index < {axisSize})");
        }
        long xOffset = x.Offset, yOffset = y.Offset;
        long rows = outer * count;
        CpuParallel.ForRange(rows, Math.Max(1, IndexParallelThreshold / Math.Max(1, inner)), (r0, r1) =>
        {
            for (long r = r0; r < r1; r++)
            {
                long o = r / count, k = r % count;
                long source = xOffset + (o * axisSize + ids[indexOffset + k * indexStride]) * inner;
                xs.AsSpan((int)source, (int)inner).CopyTo(ys.AsSpan((int)(yOffset + r * inner), (int)inner));
            }
        });
    }
}
