// Copy, fill, unary and binary primitives (Kernels/ElementwiseKernels.cs). Contiguous operands use the *Contiguous
// kernels; views (strided, broadcast) pass their layout and take the *View kernels. Contiguous copies go to the copy
// engine, zero fills to a memset.
using ILGPU.Runtime;
using Standalone.Backends.Gpu.Kernels;
using F32 = ILGPU.ArrayView<float>;
using I32 = ILGPU.ArrayView<int>;
using I64 = ILGPU.ArrayView<long>;

namespace Standalone.Backends.Gpu;

public sealed partial class GpuBackend
{
    public void Copy(in TensorView src, in TensorView dst)
    {
        if (src.Numel == 0) return;
        int size = src.DType.Size();
        if (src.IsContiguous && dst.IsContiguous)
        {
            CopyBytes(src.Buffer, src.Offset * size, dst.Buffer, dst.Offset * size, src.Numel * size);
            return;
        }
        var config = Config1D("copy", src.Numel);
        if (size == 4)
            Load<I32, KernelView, I32, KernelView, long>(ElementwiseKernels.Copy4)(
                _stream, config, View<int>(src.Buffer), KernelView.Of(src), View<int>(dst.Buffer), KernelView.Of(dst), src.Numel);
        else
            Load<I64, KernelView, I64, KernelView, long>(ElementwiseKernels.Copy8)(
                _stream, config, View<long>(src.Buffer), KernelView.Of(src), View<long>(dst.Buffer), KernelView.Of(dst), src.Numel);
    }

    public void Fill(in TensorView dst, double value)
    {
        if (dst.Numel == 0) return;
        int size = dst.DType.Size();
        if (value == 0 && !double.IsNegative(value) && dst.IsContiguous)
        {
            ((GpuBuffer)dst.Buffer).Memory.View.BaseView.SubView(dst.Offset * size, dst.Numel * size).MemSetToZero(_stream);
            return;
        }
        var config = Config1D("fill", dst.Numel);
        switch (dst.DType)
        {
            case DType.Float32:
                Load<F32, KernelView, float, long>(ElementwiseKernels.FillF32)(_stream, config, View<float>(dst.Buffer), KernelView.Of(dst), (float)value, dst.Numel);
                break;
            case DType.Int32:
                Load<I32, KernelView, int, long>(ElementwiseKernels.FillI32)(_stream, config, View<int>(dst.Buffer), KernelView.Of(dst), checked((int)value), dst.Numel);
                break;
            default:
                Load<I64, KernelView, long, long>(ElementwiseKernels.FillI64)(_stream, config, View<long>(dst.Buffer), KernelView.Of(dst), checked((long)value), dst.Numel);
                break;
        }
    }

    public void Unary(UnaryOp op, in TensorView x, in TensorView y, double alpha = 0, double beta = 0)
    {
        if (op == UnaryOp.Copy) { Copy(x, y); return; }
        RequireFloat32($"unary {op}", x.DType);
        if (y.Numel == 0) return;
        var config = Config1D("unary", y.Numel);
        if (x.IsContiguous)
            Load<int, F32, F32, long, float, float>(ElementwiseKernels.UnaryContiguous)(
                _stream, config, (int)op, View<float>(x), View<float>(y), y.Numel, (float)alpha, (float)beta);
        else
            Load<int, F32, KernelView, F32, long, float, float>(ElementwiseKernels.UnaryView)(
                _stream, config, (int)op, View<float>(x.Buffer), KernelView.Of(x), View<float>(y), y.Numel, (float)alpha, (float)beta);
    }

    public void Binary(BinaryOp op, in TensorView a, in TensorView b, in TensorView y)
    {
        RequireFloat32($"binary {op}", a.DType);
        if (y.Numel == 0) return;
        var config = Config1D("binary", y.Numel);
        if (a.IsContiguous && b.IsContiguous && a.Shape == y.Shape && b.Shape == y.Shape)
            Load<int, F32, F32, F32, long>(ElementwiseKernels.BinaryContiguous)(
                _stream, config, (int)op, View<float>(a), View<float>(b), View<float>(y), y.Numel);
        else
            Load<int, F32, KernelView, F32, KernelView, F32, long>(ElementwiseKernels.BinaryView)(
                _stream, config, (int)op, View<float>(a.Buffer), KernelView.Of(a), View<float>(b.Buffer), KernelView.Of(b), View<float>(y), y.Numel);
    }
}
