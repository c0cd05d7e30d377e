// Copy, fill, unary and binary element-wise primitives. Contiguous rows take the Vector256 path of the kernel
// struct; strided or broadcast rows fall back to scalar loops.
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Standalone.Backends.Cpu;

public sealed partial class CpuBackend
{
    public void Copy(in TensorView src, in TensorView dst)
    {
        switch (src.DType)
        {
            case DType.Float32: CopyTyped<float>(src, dst); break;
            case DType.Float64: CopyTyped<double>(src, dst); break;
            case DType.Int32: CopyTyped<int>(src, dst); break;
            case DType.Int64: CopyTyped<long>(src, dst); break;
        }
    }

    private static void CopyTyped<T>(in TensorView src, in TensorView dst) where T : unmanaged
    {
        var s = Arr<T>(src);
        var d = Arr<T>(dst);
        StridedLoop.Run(dst.Shape, dst.Strides, dst.Offset, src.Strides, src.Offset, default, 0, (di, si, _, n, ds, ss, _) =>
        {
            if (ds == 1 && ss == 1) { s.AsSpan((int)si, n).CopyTo(d.AsSpan((int)di, n)); return; }
            for (int i = 0; i < n; i++) d[di + i * ds] = s[si + i * ss];
        });
    }

    public void Fill(in TensorView dst, double value)
    {
        switch (dst.DType)
        {
            case DType.Float32: FillTyped(dst, (float)value); break;
            case DType.Float64: FillTyped(dst, value); break;
            case DType.Int32: FillTyped(dst, checked((int)value)); break;
            case DType.Int64: FillTyped(dst, checked((long)value)); break;
        }
    }

    private static void FillTyped<T>(in TensorView dst, T value) where T : unmanaged
    {
        var d = Arr<T>(dst);
        StridedLoop.Run(dst.Shape, dst.Strides, dst.Offset, default, 0, default, 0, (di, _, _, n, ds, _, _) =>
        {
            if (ds == 1) { d.AsSpan((int)di, n).Fill(value); return; }
            for (int i = 0; i < n; i++) d[di + i * ds] = value;
        });
    }

    public void Unary(UnaryOp op, in TensorView x, in TensorView y, double alpha = 0, double beta = 0)
    {
        if (op == UnaryOp.Copy) { Copy(x, y); return; }
        switch (x.DType)
        {
            case DType.Float32: Unary<float>(op, x, y, (float)alpha, (float)beta); break;
            case DType.Float64: Unary<double>(op, x, y, alpha, beta); break;
            default: throw Unsupported($"unary {op}", x.DType);
        }
    }

    public void Binary(BinaryOp op, in TensorView a, in TensorView b, in TensorView y)
    {
        switch (a.DType)
        {
            case DType.Float32: Binary<float>(op, a, b, y); break;
            case DType.Float64: Binary<double>(op, a, b, y); break;
            default: throw Unsupported($"binary {op}", a.DType);
        }
    }

    // One switch per call picks the operator struct; Map is then compiled separately for each.
    private static void Unary<T>(UnaryOp op, in TensorView x, in TensorView y, T alpha, T beta) where T : unmanaged, IFloatingPointIeee754<T>
    {
        switch (op)
        {
            case UnaryOp.Neg: Map<T, UnaryKernels<T>.Neg>(default, x, y); break;
            case UnaryOp.Abs: Map<T, UnaryKernels<T>.Abs>(default, x, y); break;
            case UnaryOp.Exp: Map<T, UnaryKernels<T>.Exp>(default, x, y); break;
            case UnaryOp.Log: Map<T, UnaryKernels<T>.Log>(default, x, y); break;
            case UnaryOp.Sqrt: Map<T, UnaryKernels<T>.Sqrt>(default, x, y); break;
            case UnaryOp.Rsqrt: Map<T, UnaryKernels<T>.Rsqrt>(default, x, y); break;
            case UnaryOp.Square: Map<T, UnaryKernels<T>.Square>(default, x, y); break;
            case UnaryOp.Reciprocal: Map<T, UnaryKernels<T>.Reciprocal>(default, x, y); break;
            case UnaryOp.Relu: Map<T, UnaryKernels<T>.Relu>(default, x, y); break;
            case UnaryOp.Affine: Map<T, UnaryKernels<T>.Affine>(new(alpha, beta), x, y); break;
            case UnaryOp.Clamp: Map<T, UnaryKernels<T>.Clamp>(new(alpha, beta), x, y); break;
            case UnaryOp.GreaterThan: Map<T, UnaryKernels<T>.GreaterThan>(new(alpha), x, y); break;
            case UnaryOp.Sign: Map<T, UnaryKernels<T>.Sign>(default, x, y); break;
            case UnaryOp.Stabilize: Map<T, UnaryKernels<T>.Stabilize>(new(alpha), x, y); break;
            case UnaryOp.Tanh or UnaryOp.Sigmoid or UnaryOp.Pow: Map<T, UnaryKernels<T>.ScalarOnly>(new(op, alpha), x, y); break;
            default: throw new NotSupportedException($"cpu: unary op {op}");
        }
    }

    private static void Binary<T>(BinaryOp op, in TensorView a, in TensorView b, in TensorView y) where T : unmanaged, IFloatingPointIeee754<T>
    {
        switch (op)
        {
            case BinaryOp.Add: Map<T, BinaryKernels<T>.Add>(default, a, b, y); break;
            case BinaryOp.Sub: Map<T, BinaryKernels<T>.Sub>(default, a, b, y); break;
            case BinaryOp.Mul: Map<T, BinaryKernels<T>.Mul>(default, a, b, y); break;
            case BinaryOp.Div: Map<T, BinaryKernels<T>.Div>(default, a, b, y); break;
            case BinaryOp.Max: Map<T, BinaryKernels<T>.Max>(default, a, b, y); break;
            case BinaryOp.Min: Map<T, BinaryKernels<T>.Min>(default, a, b, y); break;
            case BinaryOp.Pow: Map<T, BinaryKernels<T>.Pow>(default, a, b, y); break;
            case BinaryOp.ReluBackward: Map<T, BinaryKernels<T>.ReluBackward>(default, a, b, y); break;
            case BinaryOp.Equal: Map<T, BinaryKernels<T>.Equal>(default, a, b, y); break;
            case BinaryOp.AddRelu: Map<T, BinaryKernels<T>.AddRelu>(default, a, b, y); break;
            default: throw new NotSupportedException($"cpu: binary op {op}");
        }
    }

    private static void Map<T, TKernel>(TKernel kernel, in TensorView x, in TensorView y)
        where T : unmanaged where TKernel : struct, IUnaryKernel<T>
    {
        var xs = Arr<T>(x);
        var ys = Arr<T>(y);
        StridedLoop.Run(y.Shape, y.Strides, y.Offset, x.Strides, x.Offset, default, 0, (yi, xi, _, n, sy, sx, _) =>
        {
            int i = 0;
            if (sy == 1 && sx == 1 && kernel.Vectorized)
            {
                ref T xr = ref At(xs, xi);
                ref T yr = ref At(ys, yi);
                for (; i <= n - Vector256<T>.Count; i += Vector256<T>.Count)
                    kernel.Invoke(Vector256.LoadUnsafe(ref xr, (nuint)i)).StoreUnsafe(ref yr, (nuint)i);
            }
            for (; i < n; i++) ys[yi + i * sy] = kernel.Invoke(xs[xi + i * sx]);
        });
    }

    private static void Map<T, TKernel>(TKernel kernel, in TensorView a, in TensorView b, in TensorView y)
        where T : unmanaged where TKernel : struct, IBinaryKernel<T>
    {
        var aa = Arr<T>(a);
        var bb = Arr<T>(b);
        var yy = Arr<T>(y);
        StridedLoop.Run(y.Shape, y.Strides, y.Offset, a.Strides, a.Offset, b.Strides, b.Offset, (yi, ai, bi, n, sy, sa, sb) =>
        {
            int i = 0;
            int w = Vector256<T>.Count;
            if (kernel.Vectorized && sy == 1 && (sa is 0 or 1) && (sb is 0 or 1))
            {
                ref T ar = ref At(aa, ai);
                ref T br = ref At(bb, bi);
                ref T yr = ref At(yy, yi);
                if (sa == 1 && sb == 1)
                    for (; i <= n - w; i += w)
                        kernel.Invoke(Vector256.LoadUnsafe(ref ar, (nuint)i), Vector256.LoadUnsafe(ref br, (nuint)i)).StoreUnsafe(ref yr, (nuint)i);
                else if (sa == 1)
                {
                    var bv = Vector256.Create(br);
                    for (; i <= n - w; i += w) kernel.Invoke(Vector256.LoadUnsafe(ref ar, (nuint)i), bv).StoreUnsafe(ref yr, (nuint)i);
                }
                else if (sb == 1)
                {
                    var av = Vector256.Create(ar);
                    for (; i <= n - w; i += w) kernel.Invoke(av, Vector256.LoadUnsafe(ref br, (nuint)i)).StoreUnsafe(ref yr, (nuint)i);
                }
            }
            for (; i < n; i++) yy[yi + i * sy] = kernel.Invoke(aa[ai + i * sa], bb[bi + i * sb]);
        });
    }
}
