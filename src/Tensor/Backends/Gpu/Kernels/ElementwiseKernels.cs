// Copy, fill, unary and binary element-wise kernels. The op numbers are the host's UnaryOp / BinaryOp enum values
// (Ops.cs); a work item handles one output element. Contiguous operands take the *Contiguous kernels (the host passes
// views that start at the operand's offset); any view (strided, broadcast with stride 0) takes the *View kernels,
// which map the output position through KernelView.At.
using ILGPU;

namespace Standalone.Backends.Gpu.Kernels;

internal static class ElementwiseKernels
{
    private static float SignOf(float x) => Item.IsNaN(x) ? x : x > 0f ? 1f : x < 0f ? -1f : 0f;

    public static float UnaryOp(int op, float x, float alpha, float beta)
    {
        switch (op)
        {
            case (int)Backends.UnaryOp.Neg: return -x;
            case (int)Backends.UnaryOp.Abs: return MathF.Abs(x);
            case (int)Backends.UnaryOp.Sign: return SignOf(x);
            case (int)Backends.UnaryOp.Exp: return MathF.Exp(x);
            case (int)Backends.UnaryOp.Log: return MathF.Log(x);
            case (int)Backends.UnaryOp.Sqrt: return MathF.Sqrt(x);
            case (int)Backends.UnaryOp.Rsqrt: return 1f / MathF.Sqrt(x);
            case (int)Backends.UnaryOp.Square: return x * x;
            case (int)Backends.UnaryOp.Reciprocal: return 1f / x;
            case (int)Backends.UnaryOp.Relu: return x > 0f ? x : 0f;
            case (int)Backends.UnaryOp.Tanh: return MathF.Tanh(x);
            case (int)Backends.UnaryOp.Sigmoid: return 1f / (1f + MathF.Exp(-x));
            case (int)Backends.UnaryOp.Affine: return x * alpha + beta;
            case (int)Backends.UnaryOp.Pow: return MathF.Pow(x, alpha);
            case (int)Backends.UnaryOp.Clamp: return MathF.Min(MathF.Max(x, alpha), beta);
            case (int)Backends.UnaryOp.GreaterThan: return x > alpha ? 1f : 0f;
            case (int)Backends.UnaryOp.Stabilize: return x == 0f ? float.PositiveInfinity : x + alpha * (Item.IsNaN(x) ? 0f : SignOf(x));
            default: return x;
        }
    }

    public static float BinaryOp(int op, float a, float b)
    {
        switch (op)
        {
            case (int)Backends.BinaryOp.Add: return a + b;
            case (int)Backends.BinaryOp.Sub: return a - b;
            case (int)Backends.BinaryOp.Mul: return a * b;
            case (int)Backends.BinaryOp.Div: return a / b;
            case (int)Backends.BinaryOp.Max: return Item.IsNaN(a) || a > b ? a : b;
            case (int)Backends.BinaryOp.Min: return Item.IsNaN(a) || a < b ? a : b;
            case (int)Backends.BinaryOp.Pow: return MathF.Pow(a, b);
            case (int)Backends.BinaryOp.ReluBackward: return b > 0f ? a : 0f;
            case (int)Backends.BinaryOp.Equal: return a == b ? 1f : 0f;
            case (int)Backends.BinaryOp.AddRelu: { float s = a + b; return s > 0f ? s : 0f; }
            default: return a;
        }
    }

    public static void FillF32(ArrayView<float> y, KernelView v, float value, long n)
    {
        long i = Item.Global0;
        if (i < n) y[v.At(i)] = value;
    }

    public static void FillI32(ArrayView<int> y, KernelView v, int value, long n)
    {
        long i = Item.Global0;
        if (i < n) y[v.At(i)] = value;
    }

    public static void FillI64(ArrayView<long> y, KernelView v, long value, long n)
    {
        long i = Item.Global0;
        if (i < n) y[v.At(i)] = value;
    }

    /// <summary>Copies 4-byte elements (float or int32) between any two views of the same shape.</summary>
    public static void Copy4(ArrayView<int> x, KernelView xv, ArrayView<int> y, KernelView yv, long n)
    {
        long i = Item.Global0;
        if (i < n) y[yv.At(i)] = x[xv.At(i)];
    }

    /// <summary>Copies 8-byte elements (int64) between any two views of the same shape.</summary>
    public static void Copy8(ArrayView<long> x, KernelView xv, ArrayView<long> y, KernelView yv, long n)
    {
        long i = Item.Global0;
        if (i < n) y[yv.At(i)] = x[xv.At(i)];
    }

    public static void UnaryContiguous(int op, ArrayView<float> x, ArrayView<float> y, long n, float alpha, float beta)
    {
        long i = Item.Global0;
        if (i < n) y[i] = UnaryOp(op, x[i], alpha, beta);
    }

    public static void UnaryView(int op, ArrayView<float> x, KernelView xv, ArrayView<float> y, long n, float alpha, float beta)
    {
        long i = Item.Global0;
        if (i < n) y[i] = UnaryOp(op, x[xv.At(i)], alpha, beta);
    }

    public static void BinaryContiguous(int op, ArrayView<float> a, ArrayView<float> b, ArrayView<float> y, long n)
    {
        long i = Item.Global0;
        if (i < n) y[i] = BinaryOp(op, a[i], b[i]);
    }

    public static void BinaryView(int op, ArrayView<float> a, KernelView av, ArrayView<float> b, KernelView bv, ArrayView<float> y, long n)
    {
        long i = Item.Global0;
        if (i < n) y[i] = BinaryOp(op, a[av.At(i)], b[bv.At(i)]);
    }
}
