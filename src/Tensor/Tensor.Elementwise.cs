// Element-wise math with NumPy broadcasting, scalar forms and in-place forms (used by optimizers).
using Standalone.Backends;
using Standalone.Diagnostics;

namespace Standalone;

public sealed partial class Tensor
{
    public Tensor Apply(UnaryOp op, double alpha = 0, double beta = 0)
    {
        RequireFloat(UnaryNames[(int)op]);
        var y = Empty(Shape, DType, Backend);
        using (OpProfiler.Measure(UnaryNames[(int)op], Backend)) Backend.Unary(op, View, y.View, alpha, beta);
        return y;
    }

    /// <summary>Applies a unary op in place (this must be contiguous or at least non-overlapping).</summary>
    public Tensor ApplyInPlace(UnaryOp op, double alpha = 0, double beta = 0)
    {
        RequireFloat(UnaryNames[(int)op]);
        using (OpProfiler.Measure(UnaryNames[(int)op], Backend)) Backend.Unary(op, View, View, alpha, beta);
        return this;
    }

    public Tensor Apply(BinaryOp op, Tensor other)
    {
        string name = BinaryNames[(int)op];
        CheckBinary(other, name);
        var shape = Shape.Broadcast(Shape, other.Shape, name);
        var y = Empty(shape, DType, Backend);
        using var a = Shape == shape ? Share() : Expand(shape);
        using var b = other.Shape == shape ? other.Share() : other.Expand(shape);
        using (OpProfiler.Measure(BinaryNames[(int)op], Backend)) Backend.Binary(op, a.View, b.View, y.View);
        return y;
    }

    /// <summary>this = this ∘ other (other broadcast to this shape).</summary>
    public Tensor ApplyInPlace(BinaryOp op, Tensor other)
    {
        string name = BinaryNames[(int)op];
        CheckBinary(other, name);
        var shape = Shape.Broadcast(Shape, other.Shape, name);
        if (shape != Shape) throw new ArgumentException($"{name}_: result shape {shape} differs from the in-place target {Shape}");
        using var b = other.Shape == Shape ? other.Share() : other.Expand(Shape);
        using (OpProfiler.Measure(BinaryNames[(int)op], Backend)) Backend.Binary(op, View, b.View, View);
        return this;
    }

    private static readonly string[] UnaryNames = Enum.GetNames<UnaryOp>().Select(n => "unary_" + n.ToLowerInvariant()).ToArray();
    private static readonly string[] BinaryNames = Enum.GetNames<BinaryOp>().Select(n => "binary_" + n.ToLowerInvariant()).ToArray();

    private void CheckBinary(Tensor other, string op)
    {
        CheckSameDevice(other, op);
        if (other.DType != DType) throw new ArgumentException($"{op}: dtypes differ ({DType} and {other.DType})");
        RequireFloat(op);
    }

    private void RequireFloat(string op)
    {
        if (!DType.IsFloat()) throw new ArgumentException($"{op}: needs a floating-point tensor, got {DType}");
    }

    public Tensor Add(Tensor other) => Apply(BinaryOp.Add, other);
    public Tensor Sub(Tensor other) => Apply(BinaryOp.Sub, other);
    public Tensor Mul(Tensor other) => Apply(BinaryOp.Mul, other);
    public Tensor Div(Tensor other) => Apply(BinaryOp.Div, other);
    public Tensor Maximum(Tensor other) => Apply(BinaryOp.Max, other);
    public Tensor Minimum(Tensor other) => Apply(BinaryOp.Min, other);

    public Tensor Neg() => Apply(UnaryOp.Neg);
    public Tensor Abs() => Apply(UnaryOp.Abs);
    public Tensor Sign() => Apply(UnaryOp.Sign);
    public Tensor Exp() => Apply(UnaryOp.Exp);
    public Tensor Log() => Apply(UnaryOp.Log);
    public Tensor Sqrt() => Apply(UnaryOp.Sqrt);
    public Tensor Rsqrt() => Apply(UnaryOp.Rsqrt);
    public Tensor Square() => Apply(UnaryOp.Square);
    public Tensor Reciprocal() => Apply(UnaryOp.Reciprocal);
    public Tensor Relu() => Apply(UnaryOp.Relu);
    public Tensor Tanh() => Apply(UnaryOp.Tanh);
    public Tensor Sigmoid() => Apply(UnaryOp.Sigmoid);
    public Tensor Pow(double exponent) => Apply(UnaryOp.Pow, exponent);
    public Tensor Clamp(double min, double max) => Apply(UnaryOp.Clamp, min, max);
    /// <summary>x·scale + shift.</summary>
    public Tensor Affine(double scale, double shift) => Apply(UnaryOp.Affine, scale, shift);

    public static Tensor operator +(Tensor a, Tensor b) => a.Add(b);
    public static Tensor operator -(Tensor a, Tensor b) => a.Sub(b);
    public static Tensor operator *(Tensor a, Tensor b) => a.Mul(b);
    public static Tensor operator /(Tensor a, Tensor b) => a.Div(b);
    public static Tensor operator -(Tensor a) => a.Neg();
    public static Tensor operator +(Tensor a, double s) => a.Affine(1, s);
    public static Tensor operator -(Tensor a, double s) => a.Affine(1, -s);
    public static Tensor operator *(Tensor a, double s) => a.Affine(s, 0);
    public static Tensor operator *(double s, Tensor a) => a.Affine(s, 0);
    public static Tensor operator /(Tensor a, double s) => a.Affine(1 / s, 0);

    /// <summary>this += alpha·other (other broadcast to this shape).</summary>
    public Tensor AddInPlace(Tensor other, double alpha = 1)
    {
        if (alpha == 1) return ApplyInPlace(BinaryOp.Add, other);
        using var scaled = other.Affine(alpha, 0);
        return ApplyInPlace(BinaryOp.Add, scaled);
    }

    public Tensor MulInPlace(double factor) => ApplyInPlace(UnaryOp.Affine, factor, 0);
    public Tensor MulInPlace(Tensor other) => ApplyInPlace(BinaryOp.Mul, other);

    public Tensor Fill(double value)
    {
        Backend.Fill(View, value);
        return this;
    }

    public Tensor Zero() => Fill(0);
}
