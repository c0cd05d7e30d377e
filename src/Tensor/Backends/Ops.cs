// Operations are data (docs/architecture.md, "Habits"): enums name the element-wise and reduction ops, and each backend
// finds its kernel by name. Adding an op means one enum value and one kernel per backend, no new methods.
namespace Standalone.Backends;

/// <summary>y = f(x; alpha, beta). Parameters are ignored by ops that do not use them.</summary>
public enum UnaryOp
{
    Copy,
    Neg,
    Abs,
    Sign,
    Exp,
    Log,
    Sqrt,
    Rsqrt,
    Square,
    Reciprocal,
    Relu,
    Tanh,
    Sigmoid,
    /// <summary>x * alpha + beta.</summary>
    Affine,
    /// <summary>x ^ alpha.</summary>
    Pow,
    /// <summary>min(max(x, alpha), beta).</summary>
    Clamp,
    /// <summary>1 where x > alpha, else 0.</summary>
    GreaterThan,
    /// <summary>x + alpha·sign(x), and +∞ where x = 0: LRP's stabilised denominator, so that r / it is 0 where nothing flowed.</summary>
    Stabilize,
}

/// <summary>y = f(a, b) with NumPy broadcasting.</summary>
public enum BinaryOp
{
    Add,
    Sub,
    Mul,
    Div,
    Max,
    Min,
    Pow,
    /// <summary>a where b > 0, else 0 — the ReLU backward with a = dY and b = the ReLU input (or output).</summary>
    ReluBackward,
    /// <summary>1 where a == b, else 0.</summary>
    Equal,
    /// <summary>max(0, a + b) (NaN → 0, as Relu) — a residual sum and its ReLU in one pass, for inference.</summary>
    AddRelu,
}

public enum ReduceOp { Sum, Max, Min }

public enum PoolKind { Max, Average }
