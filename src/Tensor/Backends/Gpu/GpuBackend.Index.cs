// GatherColumns, ScatterAddColumns and IndexSelect (Kernels/IndexKernels.cs), with Int64 indices.
//
// The index data lives on the device, so only the backend can check it, and a kernel must never read or write through
// a bad index. Each primitive first runs IndexKernels.Check, which raises a flag for an index out of range, and reads the flag
// back — a 4-byte blocking read, so each call waits for the work queued before it (cross-entropy's two calls per step
// pay this). A raised flag throws the CPU backend's ArgumentException, naming the position, the index and the valid
// range, before the real kernel is queued: a rejected scatter-add leaves x unchanged.
using Standalone.Backends.Gpu.Kernels;
using F32 = ILGPU.ArrayView<float>;
using I32 = ILGPU.ArrayView<int>;
using I64 = ILGPU.ArrayView<long>;

namespace Standalone.Backends.Gpu;

public sealed partial class GpuBackend
{

    public void GatherColumns(in TensorView x, in TensorView index, in TensorView y)
    {
        RequireFloat32("gather columns", x.DType);
        long rows = x.Shape[0], cols = x.Shape[1];
        if (FirstOutOfRange(index, rows, cols) is (var row, var column))
            throw new ArgumentException($"{Device} gather columns: row {row} has index {column}, out of range for {cols} columns (expected 0 ≤ index < {cols})");
        if (rows == 0) return;
        Load<F32, long, I64, long, F32, long, long>(IndexKernels.GatherColumns)(_stream, Config1D("gather columns", rows),
            View<float>(x), cols, View<long>(index), VectorStride(index), View<float>(y), VectorStride(y), rows);
    }

    public void ScatterAddColumns(in TensorView x, in TensorView index, in TensorView values)
    {
        RequireFloat32("scatter-add columns", x.DType);
        long rows = x.Shape[0], cols = x.Shape[1];
        if (FirstOutOfRange(index, rows, cols) is (var row, var column))
            throw new ArgumentException($"{Device} scatter-add columns: row {row} has index {column}, out of range for {cols} columns (expected 0 ≤ index < {cols})");
        if (rows == 0) return;
        Load<F32, long, I64, long, F32, long, long>(IndexKernels.ScatterAddColumns)(_stream, Config1D("scatter-add columns", rows),
            View<float>(x), cols, View<long>(index), VectorStride(index), View<float>(values), VectorStride(values), rows);
    }

    public void IndexSelect(in TensorView x, int axis, in TensorView index, in TensorView y)
    {
        axis = x.Shape.Normalize(axis);
        long axisSize = x.Shape[axis], count = y.Shape[axis], inner = 1;
        for (int i = axis + 1; i < x.Rank; i++) inner *= x.Shape[i];
        if (FirstOutOfRange(index, count, axisSize) is (var position, var value))
            throw new ArgumentException($"{Device} index select: position {position} has index {value}, out of range for axis {axis} of size {axisSize} in shape {x.Shape} (expected 0 ≤ index < {axisSize})");
        // Elements are only moved, so 4-byte kernels serve Float32 and Int32 alike (GPU backends refuse Float64).
        if (y.Numel == 0) return;
        var config = Config1D("index select", y.Numel);
        if (x.DType.Size() == 4)
            Load<I32, long, I64, long, I32, long, long, long>(IndexKernels.IndexSelect4)(_stream, config,
                View<int>(x), axisSize, View<long>(index), VectorStride(index), View<int>(y), count, inner, y.Numel);
        else
            Load<I64, long, I64, long, I64, long, long, long>(IndexKernels.IndexSelect8)(_stream, config,
                View<long>(x), axisSize, View<long>(index), VectorStride(index), View<long>(y), count, inner, y.Numel);
    }

    /// <summary>The first (position, index) of the first <paramref name="count"/> entries outside [0, limit), or null when all are in range.</summary>
    private (long Position, long Value)? FirstOutOfRange(in TensorView index, long count, long limit)
    {
        if (count == 0) return null;
        long stride = VectorStride(index);
        var flag = Allocate(DType.Int32, 1);
        try
        {
            Fill(new TensorView(flag, new Shape(1), new Shape(1).ContiguousStrides(), 0), 0);
            Load<I64, long, long, long, I32>(IndexKernels.Check)(_stream, Config1D("index check", count),
                View<long>(index), stride, count, limit, View<int>(flag));
            Span<int> bad = stackalloc int[1];
            Download(flag, 0, bad);
            if (bad[0] == 0) return null;
        }
        finally { flag.Release(); }
        // Rare: read the indices back to name the first bad one, as the CPU backend does.
        var values = new long[(count - 1) * stride + 1];
        Download<long>(index.Buffer, index.Offset, values);
        for (long i = 0; i < count; i++)
            if ((ulong)values[i * stride] >= (ulong)limit) return (i, values[i * stride]);
        throw new InvalidOperationException($"{Device}: the index check flagged an index out of [0, {limit}) that the host cannot find");
    }

    /// <summary>Element stride of a rank-1 view (a length-1 view may carry any stride).</summary>
    private static long VectorStride(in TensorView v) => v.Rank == 0 || v.Shape[0] <= 1 ? 1 : v.Strides[0];
}
