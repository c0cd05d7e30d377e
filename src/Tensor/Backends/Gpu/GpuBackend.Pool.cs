// Max and average 2-D pooling, forward and backward (Kernels/PoolKernels.cs), over contiguous NCHW tensors. The
// semantics are the CPU backend's: max pooling records the winner's flat index h·W + w within its input plane (Int32),
// average pooling divides by KH·KW (count_include_pad). Backward overwrites dx: each input element gathers from the
// windows covering it, so overlapping windows need no atomics.
using Standalone.Backends.Gpu.Kernels;
using F32 = ILGPU.ArrayView<float>;
using I32 = ILGPU.ArrayView<int>;

namespace Standalone.Backends.Gpu;

public sealed partial class GpuBackend
{
    private static PoolGeometry Geometry(in TensorView input, in TensorView output, in Pool2dParams p, long count, bool writeIndices = false) => new()
    {
        H = input.Shape[2], W = input.Shape[3], OH = output.Shape[2], OW = output.Shape[3],
        KH = p.KernelH, KW = p.KernelW, SH = p.StrideH, SW = p.StrideW, PH = p.PadH, PW = p.PadW,
        Count = count, WriteIndices = writeIndices ? 1 : 0,
    };

    public void Pool2dForward(PoolKind kind, in TensorView x, in TensorView y, TensorView? indices, in Pool2dParams p)
    {
        RequireFloat32($"{kind} pool2d forward", x.DType);
        long count = y.Numel;
        if (count == 0) return;
        var g = Geometry(x, y, p, count, indices.HasValue);
        var config = Config1D("pool2d forward", count);
        if (kind == PoolKind.Average)
        {
            Load<F32, F32, PoolGeometry>(PoolKernels.AverageForward)(_stream, config, View<float>(x), View<float>(y), g);
            return;
        }
        // Without indices the kernel is told not to write them; y's buffer only fills the argument slot.
        var argmax = indices ?? y;
        Load<F32, F32, I32, PoolGeometry>(PoolKernels.MaxForward)(_stream, config, View<float>(x), View<float>(y), View<int>(argmax), g);
    }

    public void Pool2dBackward(PoolKind kind, in TensorView dy, TensorView? indices, in TensorView dx, in Pool2dParams p)
    {
        RequireFloat32($"{kind} pool2d backward", dy.DType);
        long count = dx.Numel;
        if (count == 0) return;
        var g = Geometry(dx, dy, p, count);
        var config = Config1D("pool2d backward", count);
        if (kind == PoolKind.Average)
        {
            Load<F32, F32, PoolGeometry>(PoolKernels.AverageBackward)(_stream, config, View<float>(dy), View<float>(dx), g);
            return;
        }
        if (indices is not { } argmax)
            throw new ArgumentException($"{Device}: max pool2d backward needs the argmax indices written by the forward pass", nameof(indices));
        Load<F32, I32, F32, PoolGeometry>(PoolKernels.MaxBackward)(_stream, config, View<float>(dy), View<int>(argmax), View<float>(dx), g);
    }
}
