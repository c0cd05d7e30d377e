// Element-wise operators as small structs, in the manner of System.Numerics.Tensors: a scalar Invoke and a
// Vector256 Invoke side by side. The loops that drive them (strides, tails, threads) live once in CpuBackend.Elementwise.
using System.Numerics;
using System.Runtime.Intrinsics;

namespace Standalone.Backends.Cpu;

internal interface IUnaryKernel<T> where T : unmanaged
{
    bool Vectorized { get; }
    T Invoke(T x);
    Vector256<T> Invoke(Vector256<T> x);
}

internal interface IBinaryKernel<T> where T : unmanaged
{
    T Invoke(T a, T b);
    Vector256<T> Invoke(Vector256<T> a, Vector256<T> b);
}

/// <summary>Generic wrappers over the float/double-only vector math of System.Runtime.Intrinsics.</summary>
internal static class VMath
{
    public static Vector256<T> Exp<T>(Vector256<T> x) where T : unmanaged
    {
        if (typeof(T) == typeof(float)) return Vector256.Exp(x.AsSingle()).As<float, T>();
        return Vector256.Exp(x.AsDouble()).As<double, T>();
    }

    public static Vector256<T> Log<T>(Vector256<T> x) where T : unmanaged
    {
        if (typeof(T) == typeof(float)) return Vector256.Log(x.AsSingle()).As<float, T>();
        return Vector256.Log(x.AsDouble()).As<double, T>();
    }
}

internal readonly struct UnaryKernel<T>(UnaryOp op, T alpha, T beta) : IUnaryKernel<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public bool Vectorized => op is not (UnaryOp.Tanh or UnaryOp.Sigmoid or UnaryOp.Pow or UnaryOp.Sign);

    public T Invoke(T x) => op switch
    {
        UnaryOp.Copy => x,
        UnaryOp.Neg => -x,
        UnaryOp.Abs => T.Abs(x),
        UnaryOp.Sign => T.IsNaN(x) ? x : T.CreateTruncating(T.Sign(x)),
        UnaryOp.Exp => T.Exp(x),
        UnaryOp.Log => T.Log(x),
        UnaryOp.Sqrt => T.Sqrt(x),
        UnaryOp.Rsqrt => T.One / T.Sqrt(x),
        UnaryOp.Square => x * x,
        UnaryOp.Reciprocal => T.One / x,
        UnaryOp.Relu => x > T.Zero ? x : T.Zero,
        UnaryOp.Tanh => T.Tanh(x),
        UnaryOp.Sigmoid => T.One / (T.One + T.Exp(-x)),
        UnaryOp.Affine => x * alpha + beta,
        UnaryOp.Pow => T.Pow(x, alpha),
        UnaryOp.Clamp => T.Min(T.Max(x, alpha), beta),
        UnaryOp.GreaterThan => x > alpha ? T.One : T.Zero,
        _ => throw new NotSupportedException($"unary op {op}"),
    };

    public Vector256<T> Invoke(Vector256<T> x) => op switch
    {
        UnaryOp.Copy => x,
        UnaryOp.Neg => -x,
        UnaryOp.Abs => Vector256.Abs(x),
        UnaryOp.Exp => VMath.Exp(x),
        UnaryOp.Log => VMath.Log(x),
        UnaryOp.Sqrt => Vector256.Sqrt(x),
        UnaryOp.Rsqrt => Vector256<T>.One / Vector256.Sqrt(x),
        UnaryOp.Square => x * x,
        UnaryOp.Reciprocal => Vector256<T>.One / x,
        UnaryOp.Relu => Vector256.ConditionalSelect(Vector256.GreaterThan(x, Vector256<T>.Zero), x, Vector256<T>.Zero),
        UnaryOp.Affine => x * Vector256.Create(alpha) + Vector256.Create(beta),
        UnaryOp.Clamp => Vector256.Min(Vector256.Max(x, Vector256.Create(alpha)), Vector256.Create(beta)),
        UnaryOp.GreaterThan => Vector256.ConditionalSelect(Vector256.GreaterThan(x, Vector256.Create(alpha)), Vector256<T>.One, Vector256<T>.Zero),
        _ => throw new NotSupportedException($"unary op {op} has no vector form"),
    };
}

internal readonly struct BinaryKernel<T>(BinaryOp op) : IBinaryKernel<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public T Invoke(T a, T b) => op switch
    {
        BinaryOp.Add => a + b,
        BinaryOp.Sub => a - b,
        BinaryOp.Mul => a * b,
        BinaryOp.Div => a / b,
        BinaryOp.Max => T.IsNaN(a) || a > b ? a : b,
        BinaryOp.Min => T.IsNaN(a) || a < b ? a : b,
        BinaryOp.Pow => T.Pow(a, b),
        BinaryOp.ReluBackward => b > T.Zero ? a : T.Zero,
        BinaryOp.Equal => a == b ? T.One : T.Zero,
        _ => throw new NotSupportedException($"binary op {op}"),
    };

    public Vector256<T> Invoke(Vector256<T> a, Vector256<T> b) => op switch
    {
        BinaryOp.Add => a + b,
        BinaryOp.Sub => a - b,
        BinaryOp.Mul => a * b,
        BinaryOp.Div => a / b,
        BinaryOp.Max => Vector256.ConditionalSelect(Vector256.GreaterThan(a, b) | ~Vector256.Equals(a, a), a, b),
        BinaryOp.Min => Vector256.ConditionalSelect(Vector256.LessThan(a, b) | ~Vector256.Equals(a, a), a, b),
        BinaryOp.ReluBackward => Vector256.ConditionalSelect(Vector256.GreaterThan(b, Vector256<T>.Zero), a, Vector256<T>.Zero),
        BinaryOp.Equal => Vector256.ConditionalSelect(Vector256.Equals(a, b), Vector256<T>.One, Vector256<T>.Zero),
        _ => Scalar(a, b),
    };

    private Vector256<T> Scalar(Vector256<T> a, Vector256<T> b)
    {
        Span<T> r = stackalloc T[Vector256<T>.Count];
        for (int i = 0; i < r.Length; i++) r[i] = Invoke(a[i], b[i]);
        return Vector256.Create<T>(r);
    }
}
