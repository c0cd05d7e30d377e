// Max and average 2-D pooling, forward and backward (Kernels/pool.c), over contiguous NCHW tensors. The semantics are
// the CPU backend's: max pooling records the winner's flat index h·W + w within its input plane (Int32), average
// pooling divides by KH·KW (count_include_pad). Backward overwrites dx: each input element gathers from the windows
// covering it, so overlapping windows need no atomics.
using System.Runtime.InteropServices;

namespace Standalone.Backends.Gpu;

public abstract partial class GpuBackend
{
    private const string PoolFile = "pool.c";

    /// <summary>pool_t in pool.c, field for field: input and output sizes, then the window.</summary>
    [StructLayout(LayoutKind.Sequential)]
    private struct PoolGeometry
    {
        public int H, W, OH, OW;
        public int KH, KW, SH, SW, PH, PW;

        public static PoolGeometry Of(in TensorView input, in TensorView output, in Pool2dParams p) => new()
        {
            H = input.Shape[2], W = input.Shape[3], OH = output.Shape[2], OW = output.Shape[3],
            KH = p.KernelH, KW = p.KernelW, SH = p.StrideH, SW = p.StrideW, PH = p.PadH, PW = p.PadW,
        };
    }

    public void Pool2dForward(PoolKind kind, in TensorView x, in TensorView y, TensorView? indices, in Pool2dParams p)
    {
        RequireFloat32($"{kind} pool2d forward", x.DType);
        var g = PoolGeometry.Of(x, y, p);
        long count = y.Numel;
        if (kind == PoolKind.Average)
        {
            Kernel(PoolFile, "avg_pool2d_forward").Buffer(x).Arg(x.Offset).Buffer(y).Arg(y.Offset).Arg(g).Arg(count).Run1D(count);
            return;
        }
        // Without indices the kernel is told not to write them; y's buffer only fills the argument slot.
        var argmax = indices ?? y;
        Kernel(PoolFile, "max_pool2d_forward").Buffer(x).Arg(x.Offset).Buffer(y).Arg(y.Offset)
            .Buffer(argmax).Arg(argmax.Offset).Arg(indices.HasValue ? 1 : 0).Arg(g).Arg(count).Run1D(count);
    }

    public void Pool2dBackward(PoolKind kind, in TensorView dy, TensorView? indices, in TensorView dx, in Pool2dParams p)
    {
        RequireFloat32($"{kind} pool2d backward", dy.DType);
        var g = PoolGeometry.Of(dx, dy, p);
        long count = dx.Numel;
        if (kind == PoolKind.Average)
        {
            Kernel(PoolFile, "avg_pool2d_backward").Buffer(dy).Arg(dy.Offset).Buffer(dx).Arg(dx.Offset).Arg(g).Arg(count).Run1D(count);
            return;
        }
        if (indices is not { } argmax)
            throw new ArgumentException($"{Device}: max pool2d backward needs the argmax indices written by the forward pass", nameof(indices));
        Kernel(PoolFile, "max_pool2d_backward").Buffer(dy).Arg(dy.Offset).Buffer(argmax).Arg(argmax.Offset)
            .Buffer(dx).Arg(dx.Offset).Arg(g).Arg(count).Run1D(count);
    }
}
