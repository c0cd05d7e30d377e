// Element-wise operators as small structs, in the manner of System.Numerics.Tensors: one struct per operator with a
// scalar Invoke and a Vector256 Invoke side by side. The generic loops in CpuBackend.Elementwise are instantiated
// per operator struct, so the JIT compiles a tight loop for each; the op enum is switched on once per call.
using System.Numerics;
using System.Runtime.Intrinsics;

namespace Standalone.Backends.Cpu;

internal interface IUnaryKernel<T> where T : unmanaged
{
    /// <summary>False for ops without a vector form (the loop then stays scalar).</summary>
    bool Vectorized { get; }
    T Invoke(T x);
    Vector256<T> Invoke(Vector256<T> x);
}

internal interface IBinaryKernel<T> where T : unmanaged
{
    bool Vectorized { get; }
    T Invoke(T a, T b);
    Vector256<T> Invoke(Vector256<T> a, Vector256<T> b);
}

/// <summary>Generic wrappers over the float/double-only vector math of System.Runtime.Intrinsics.</summary>
internal static class VMath
{
    public static Vector256<T> Exp<T>(Vector256<T> x) where T : unmanaged =>
        typeof(T) == typeof(float) ? Vector256.Exp(x.AsSingle()).As<float, T>() : Vector256.Exp(x.AsDouble()).As<double, T>();

    public static Vector256<T> Log<T>(Vector256<T> x) where T : unmanaged =>
        typeof(T) == typeof(float) ? Vector256.Log(x.AsSingle()).As<float, T>() : Vector256.Log(x.AsDouble()).As<double, T>();
}

internal static class UnaryKernels<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public readonly struct Neg : IUnaryKernel<T> { public bool Vectorized => true; public T Invoke(T x) => -x; public Vector256<T> Invoke(Vector256<T> x) => -x; }
    public readonly struct Abs : IUnaryKernel<T> { public bool Vectorized => true; public T Invoke(T x) => T.Abs(x); public Vector256<T> Invoke(Vector256<T> x) => Vector256.Abs(x); }
    public readonly struct Exp : IUnaryKernel<T> { public bool Vectorized => true; public T Invoke(T x) => T.Exp(x); public Vector256<T> Invoke(Vector256<T> x) => VMath.Exp(x); }
    public readonly struct Log : IUnaryKernel<T> { public bool Vectorized => true; public T Invoke(T x) => T.Log(x); public Vector256<T> Invoke(Vector256<T> x) => VMath.Log(x); }
    public readonly struct Sqrt : IUnaryKernel<T> { public bool Vectorized => true; public T Invoke(T x) => T.Sqrt(x); public Vector256<T> Invoke(Vector256<T> x) => Vector256.Sqrt(x); }
    public readonly struct Rsqrt : IUnaryKernel<T> { public bool Vectorized => true; public T Invoke(T x) => T.One / T.Sqrt(x); public Vector256<T> Invoke(Vector256<T> x) => Vector256<T>.One / Vector256.Sqrt(x); }
    public readonly struct Square : IUnaryKernel<T> { public bool Vectorized => true; public T Invoke(T x) => x * x; public Vector256<T> Invoke(Vector256<T> x) => x * x; }
    public readonly struct Reciprocal : IUnaryKernel<T> { public bool Vectorized => true; public T Invoke(T x) => T.One / x; public Vector256<T> Invoke(Vector256<T> x) => Vector256<T>.One / x; }

    public readonly struct Relu : IUnaryKernel<T>
    {
        public bool Vectorized => true;
        public T Invoke(T x) => x > T.Zero ? x : T.Zero;
        public Vector256<T> Invoke(Vector256<T> x) => Vector256.ConditionalSelect(Vector256.GreaterThan(x, Vector256<T>.Zero), x, Vector256<T>.Zero);
    }

    /// <summary>x·alpha + beta.</summary>
    public readonly struct Affine(T alpha, T beta) : IUnaryKernel<T>
    {
        private readonly Vector256<T> _alpha = Vector256.Create(alpha), _beta = Vector256.Create(beta);
        public bool Vectorized => true;
        public T Invoke(T x) => x * alpha + beta;
        public Vector256<T> Invoke(Vector256<T> x) => x * _alpha + _beta;
    }

    /// <summary>min(max(x, low), high).</summary>
    public readonly struct Clamp(T low, T high) : IUnaryKernel<T>
    {
        public bool Vectorized => true;
        public T Invoke(T x) => T.Min(T.Max(x, low), high);
        public Vector256<T> Invoke(Vector256<T> x) => Vector256.Min(Vector256.Max(x, Vector256.Create(low)), Vector256.Create(high));
    }

    /// <summary>1 where x > threshold, else 0.</summary>
    public readonly struct GreaterThan(T threshold) : IUnaryKernel<T>
    {
        public bool Vectorized => true;
        public T Invoke(T x) => x > threshold ? T.One : T.Zero;
        public Vector256<T> Invoke(Vector256<T> x) => Vector256.ConditionalSelect(Vector256.GreaterThan(x, Vector256.Create(threshold)), Vector256<T>.One, Vector256<T>.Zero);
    }

    /// <summary>−1, 0 or 1 (NaN stays NaN; −0 gives 0): LRP's stabilisers call it on every activation.</summary>
    public readonly struct Sign : IUnaryKernel<T>
    {
        public bool Vectorized => true;
        public T Invoke(T x) => T.IsNaN(x) ? x : T.CreateTruncating(T.Sign(x));
        public Vector256<T> Invoke(Vector256<T> x)
        {
            var sign = Vector256.ConditionalSelect(Vector256.GreaterThan(x, Vector256<T>.Zero), Vector256<T>.One, Vector256<T>.Zero)
                - Vector256.ConditionalSelect(Vector256.LessThan(x, Vector256<T>.Zero), Vector256<T>.One, Vector256<T>.Zero);
            return Vector256.ConditionalSelect(Vector256.Equals(x, x), sign, x);
        }
    }

    /// <summary>x + α·sign(x) for x ≠ 0, +∞ for x = 0 (NaN stays NaN).</summary>
    public readonly struct Stabilize(T alpha) : IUnaryKernel<T>
    {
        public bool Vectorized => true;
        public T Invoke(T x) => x == T.Zero ? T.PositiveInfinity : x + alpha * T.CreateTruncating(T.Sign(T.IsNaN(x) ? T.Zero : x));
        public Vector256<T> Invoke(Vector256<T> x)
        {
            var a = Vector256.Create(alpha);
            var shifted = Vector256.ConditionalSelect(Vector256.GreaterThan(x, Vector256<T>.Zero), x + a, x)
                - Vector256.ConditionalSelect(Vector256.LessThan(x, Vector256<T>.Zero), a, Vector256<T>.Zero);
            return Vector256.ConditionalSelect(Vector256.Equals(x, Vector256<T>.Zero), Vector256.Create(T.PositiveInfinity), shifted);
        }
    }

    /// <summary>Ops computed one element at a time (rare in training loops): tanh, sigmoid, pow.</summary>
    public readonly struct ScalarOnly(UnaryOp op, T alpha) : IUnaryKernel<T>
    {
        public bool Vectorized => false;
        public T Invoke(T x) => op switch
        {
            UnaryOp.Tanh => T.Tanh(x),
            UnaryOp.Sigmoid => T.One / (T.One + T.Exp(-x)),
            UnaryOp.Pow => T.Pow(x, alpha),
            _ => throw new NotSupportedException($"unary op {op}"),
        };
        public Vector256<T> Invoke(Vector256<T> x) => throw new NotSupportedException($"unary op {op} has no vector form");
    }
}

internal static class BinaryKernels<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public readonly struct Add : IBinaryKernel<T> { public bool Vectorized => true; public T Invoke(T a, T b) => a + b; public Vector256<T> Invoke(Vector256<T> a, Vector256<T> b) => a + b; }
    public readonly struct Sub : IBinaryKernel<T> { public bool Vectorized => true; public T Invoke(T a, T b) => a - b; public Vector256<T> Invoke(Vector256<T> a, Vector256<T> b) => a - b; }
    public readonly struct Mul : IBinaryKernel<T> { public bool Vectorized => true; public T Invoke(T a, T b) => a * b; public Vector256<T> Invoke(Vector256<T> a, Vector256<T> b) => a * b; }
    public readonly struct Div : IBinaryKernel<T> { public bool Vectorized => true; public T Invoke(T a, T b) => a / b; public Vector256<T> Invoke(Vector256<T> a, Vector256<T> b) => a / b; }

    /// <summary>max(a, b), propagating NaN from a.</summary>
    public readonly struct Max : IBinaryKernel<T>
    {
        public bool Vectorized => true;
        public T Invoke(T a, T b) => T.IsNaN(a) || a > b ? a : b;
        public Vector256<T> Invoke(Vector256<T> a, Vector256<T> b) => Vector256.ConditionalSelect(Vector256.GreaterThan(a, b) | ~Vector256.Equals(a, a), a, b);
    }

    public readonly struct Min : IBinaryKernel<T>
    {
        public bool Vectorized => true;
        public T Invoke(T a, T b) => T.IsNaN(a) || a < b ? a : b;
        public Vector256<T> Invoke(Vector256<T> a, Vector256<T> b) => Vector256.ConditionalSelect(Vector256.LessThan(a, b) | ~Vector256.Equals(a, a), a, b);
    }

    /// <summary>max(0, a + b), NaN → 0 as Relu: a residual sum and its ReLU in one pass.</summary>
    public readonly struct AddRelu : IBinaryKernel<T>
    {
        public bool Vectorized => true;
        public T Invoke(T a, T b) { T s = a + b; return s > T.Zero ? s : T.Zero; }
        public Vector256<T> Invoke(Vector256<T> a, Vector256<T> b)
        {
            var s = a + b;
            return Vector256.ConditionalSelect(Vector256.GreaterThan(s, Vector256<T>.Zero), s, Vector256<T>.Zero);
        }
    }

    /// <summary>a where b > 0, else 0 (ReLU backward: a = dY, b = the ReLU output).</summary>
    public readonly struct ReluBackward : IBinaryKernel<T>
    {
        public bool Vectorized => true;
        public T Invoke(T a, T b) => b > T.Zero ? a : T.Zero;
        public Vector256<T> Invoke(Vector256<T> a, Vector256<T> b) => Vector256.ConditionalSelect(Vector256.GreaterThan(b, Vector256<T>.Zero), a, Vector256<T>.Zero);
    }

    public readonly struct Equal : IBinaryKernel<T>
    {
        public bool Vectorized => true;
        public T Invoke(T a, T b) => a == b ? T.One : T.Zero;
        public Vector256<T> Invoke(Vector256<T> a, Vector256<T> b) => Vector256.ConditionalSelect(Vector256.Equals(a, b), Vector256<T>.One, Vector256<T>.Zero);
    }

    public readonly struct Pow : IBinaryKernel<T>
    {
        public bool Vectorized => false;
        public T Invoke(T a, T b) => T.Pow(a, b);
        public Vector256<T> Invoke(Vector256<T> a, Vector256<T> b) => throw new NotSupportedException("pow has no vector form");
    }
}
