// What a tape node computed, in a form that tools walking a recorded forward pass can read: pruning builds its
// channel dependency graph from these (which channels an op ties together), LRP applies one relevance rule per kind.
// Inputs are in the order the op took them (conv: x, weight[, bias]; batch norm: x, weight, bias; add: a, b).
using Standalone.Backends;

namespace Standalone.Autograd;

public abstract record TapeOp(string Name)
{
    public override string ToString() => Name;
}

/// <summary>y = conv2d(x, weight) + bias.</summary>
public sealed record Conv2dOp(Conv2dParams Geometry) : TapeOp("conv2d");

/// <summary>y = x·weightᵀ + bias.</summary>
public sealed record LinearOp() : TapeOp("linear");

/// <summary>Batch norm over [N, C, H, W] with per-channel weight and bias (training: batch statistics).</summary>
public sealed record BatchNormOp(bool Training, double Eps) : TapeOp("batch_norm");

/// <summary>
/// relu(batch_norm(x) (+ residual)) as one op (F.BatchNorm2dRelu): what a training step records when no ModelTrace
/// watches, so the tools that walk a trace (pruning's graph, LRP, ONNX) never meet it.
/// </summary>
public sealed record BatchNormReluOp(bool Training, double Eps, bool Residual) : TapeOp("batch_norm_relu");

public sealed record Pool2dOp(PoolKind Kind, Pool2dParams Geometry) : TapeOp(Kind == PoolKind.Max ? "max_pool2d" : "avg_pool2d");

/// <summary>Mean over H and W: [N, C, H, W] → [N, C, 1, 1].</summary>
public sealed record GlobalAvgPoolOp() : TapeOp("global_avg_pool2d");

/// <summary>One input, same shape out, element by element: relu, dropout, scale (x·Factor + Shift), exp, log, ...</summary>
public sealed record ElementwiseOp(string Kind, double Factor = 1, double Shift = 0) : TapeOp(Kind);

/// <summary>Two inputs broadcast against each other: add, sub, mul, div.</summary>
public sealed record BroadcastOp(string Kind) : TapeOp(Kind);

/// <summary>Constant padding of the trailing dimensions (Padding[i] applies to axis rank − Padding.Count + i).</summary>
public sealed record PadOp(IReadOnlyList<(int Before, int After)> Padding, double Value) : TapeOp("pad");

public sealed record SliceOp(int Axis, int Start, int Length, int Step) : TapeOp("slice");

public sealed record ReshapeOp(Shape From, Shape To) : TapeOp("reshape");

public sealed record PermuteOp(IReadOnlyList<int> Order) : TapeOp("permute");

/// <summary>Ops no tape walker needs to see inside (reductions, matmul, softmax, losses).</summary>
public sealed record OtherOp(string Kind) : TapeOp(Kind);
