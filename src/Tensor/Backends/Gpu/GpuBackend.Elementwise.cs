// Copy, fill, unary and binary primitives (Kernels/elementwise.c). Contiguous operands use the *_contig kernels;
// views (strided, broadcast) pass their layout and take the *_view kernels.
using System.Runtime.InteropServices;

namespace Standalone.Backends.Gpu;

public abstract unsafe partial class GpuBackend
{
    private const string ElementwiseFile = "elementwise.c";

    public void Copy(in TensorView src, in TensorView dst)
    {
        if (src.Numel == 0) return;
        int size = src.DType.Size();
        if (src.IsContiguous && dst.IsContiguous && TryCopyBytes(src.Buffer, src.Offset * size, dst.Buffer, dst.Offset * size, src.Numel * size)) return;
        Kernel(ElementwiseFile, size == 4 ? "copy_4" : "copy_8").View(src).View(dst).Arg(src.Numel).Run1D(src.Numel);
    }

    public void Fill(in TensorView dst, double value)
    {
        if (dst.Numel == 0) return;
        if (dst.IsContiguous)
        {
            Span<byte> pattern = stackalloc byte[8];
            int size = dst.DType.Size();
            switch (dst.DType)
            {
                case DType.Float32: MemoryMarshal.Write(pattern, (float)value); break;
                case DType.Int32: MemoryMarshal.Write(pattern, checked((int)value)); break;
                default: MemoryMarshal.Write(pattern, checked((long)value)); break;
            }
            if (TryFillBytes(dst.Buffer, dst.Offset * size, dst.Numel * size, pattern[..size])) return;
        }
        switch (dst.DType)
        {
            case DType.Float32: Kernel(ElementwiseFile, "fill_f32").View(dst).Arg((float)value).Arg(dst.Numel).Run1D(dst.Numel); break;
            case DType.Int32: Kernel(ElementwiseFile, "fill_i32").View(dst).Arg(checked((int)value)).Arg(dst.Numel).Run1D(dst.Numel); break;
            default: Kernel(ElementwiseFile, "fill_i64").View(dst).Arg(checked((long)value)).Arg(dst.Numel).Run1D(dst.Numel); break;
        }
    }

    public void Unary(UnaryOp op, in TensorView x, in TensorView y, double alpha = 0, double beta = 0)
    {
        if (op == UnaryOp.Copy) { Copy(x, y); return; }
        RequireFloat32($"unary {op}", x.DType);
        if (y.Numel == 0) return;
        if (x.IsContiguous)
            Kernel(ElementwiseFile, "unary_contig").Arg((int)op).Buffer(x).Arg(x.Offset).Buffer(y).Arg(y.Offset).Arg(y.Numel).Arg((float)alpha).Arg((float)beta).Run1D(y.Numel);
        else
            Kernel(ElementwiseFile, "unary_view").Arg((int)op).View(x).Buffer(y).Arg(y.Offset).Arg(y.Numel).Arg((float)alpha).Arg((float)beta).Run1D(y.Numel);
    }

    public void Binary(BinaryOp op, in TensorView a, in TensorView b, in TensorView y)
    {
        RequireFloat32($"binary {op}", a.DType);
        if (y.Numel == 0) return;
        if (a.IsContiguous && b.IsContiguous && a.Shape == y.Shape && b.Shape == y.Shape)
            Kernel(ElementwiseFile, "binary_contig").Arg((int)op).Buffer(a).Arg(a.Offset).Buffer(b).Arg(b.Offset).Buffer(y).Arg(y.Offset).Arg(y.Numel).Run1D(y.Numel);
        else
            Kernel(ElementwiseFile, "binary_view").Arg((int)op).View(a).View(b).Buffer(y).Arg(y.Offset).Arg(y.Numel).Run1D(y.Numel);
    }
}
