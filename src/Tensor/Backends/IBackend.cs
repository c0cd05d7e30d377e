// The backend contract: the narrow set of primitives every device implements (docs/architecture.md "Tensor and backends").
// Everything composite (softmax, losses, linear, optimizers) is written once above it in Tensor ops.
//
// Conventions:
// - Buffers are opaque; data moves only through Upload/Download. Work may be enqueued asynchronously;
//   Synchronize() waits for it. Download synchronizes implicitly.
// - Inputs are validated once, above the backend (Tensor), so primitives trust their arguments.
// - Outputs named "dst"/"y"/"dx"... are contiguous unless a primitive says otherwise, and are overwritten.
// - Float primitives support Float32 on every backend; the CPU backend also runs them in Float64.
namespace Standalone.Backends;

public interface IBackend
{
    Device Device { get; }
    string Name { get; }

    DeviceBuffer Allocate(DType dtype, long length);
    void Upload<T>(ReadOnlySpan<T> source, DeviceBuffer destination, long offset) where T : unmanaged;
    void Download<T>(DeviceBuffer source, long offset, Span<T> destination) where T : unmanaged;
    void Synchronize();

    /// <summary>Strided copy: dst and src have equal shapes; either may be any view (dst views never overlap themselves).</summary>
    void Copy(in TensorView src, in TensorView dst);
    void Fill(in TensorView dst, double value);

    void Unary(UnaryOp op, in TensorView x, in TensorView y, double alpha = 0, double beta = 0);
    /// <summary>a and b are views already broadcast to y's shape (stride 0 along broadcast dims); y is contiguous.</summary>
    void Binary(BinaryOp op, in TensorView a, in TensorView b, in TensorView y);
    /// <summary>Reduces a contiguous x over the axes where reduceMask bit i is set; y has x's rank with those dims = 1.</summary>
    void Reduce(ReduceOp op, in TensorView x, int reduceMask, in TensorView y);
    /// <summary>x is contiguous [rows, cols]; y (Int64) [rows] receives the index of each row's first maximum.</summary>
    void ArgMax(in TensorView x, in TensorView y);

    /// <summary>
    /// Batched C = alpha·op(A)·op(B) + beta·C over views of rank 3 ([batch, rows, cols], last stride 1, rows
    /// Strides[1] apart; batch stride may be 0 to broadcast). The views hold the stored matrices: a is [batch, M, K],
    /// or [batch, K, M] when transA; b is [batch, K, N], or [batch, N, K] when transB; c is [batch, M, N].
    /// </summary>
    void MatMul(in TensorView a, bool transA, in TensorView b, bool transB, in TensorView c, double alpha, double beta);

    /// <summary>y = conv(x, weight) (+ bias) (+ residual, shaped like y); with relu, max(0, ·) of that, applied as the
    /// output is written where the backend can (inference: a batch norm folded into the convolution, then the block's
    /// shortcut and its ReLU, in one pass). Each output rounds as ((conv + bias) + residual), as separate ops would.</summary>
    void Conv2dForward(in TensorView x, in TensorView weight, TensorView? bias, in TensorView y, in Conv2dParams p, bool relu = false,
        TensorView? residual = null);
    void Conv2dBackwardInput(in TensorView dy, in TensorView weight, in TensorView dx, in Conv2dParams p);
    /// <summary>Writes dWeight (and dBias = Σ dY over n,h,w when given).</summary>
    void Conv2dBackwardWeight(in TensorView dy, in TensorView x, in TensorView dWeight, TensorView? dBias, in Conv2dParams p);

    /// <summary>Max pool writes the argmax as a flat (h·W + w) index into each input plane (Int32).</summary>
    void Pool2dForward(PoolKind kind, in TensorView x, in TensorView y, TensorView? indices, in Pool2dParams p);
    void Pool2dBackward(PoolKind kind, in TensorView dy, TensorView? indices, in TensorView dx, in Pool2dParams p);

    /// <summary>Per-channel mean and biased variance of a contiguous [N, C, S] tensor.</summary>
    void ChannelMeanVar(in TensorView x, in TensorView mean, in TensorView variance);
    /// <summary>
    /// y[n,c,s] = x[n,c,s]·scale[c] + shift[c] (+ x2[n,c,s]·scale2[c] when x2 is given, a missing scale2 counting as 1),
    /// through max(0, ·) when relu (NaN becomes 0, as the Relu op); contiguous [N,C,S]. With a gate, x counts as 0
    /// where the gate is closed (the batch-norm backward behind a fused ReLU).
    /// </summary>
    void ChannelAffine(in TensorView x, in TensorView scale, in TensorView shift, in TensorView y, TensorView? x2 = null, TensorView? scale2 = null,
        bool relu = false, ReluGateView? gate = null);
    /// <summary>
    /// sumDy[c] = Σ dy[n,c,s]; sumDyX[c] = Σ dy[n,c,s]·(x[n,c,s] − center[c]); contiguous [N,C,S]. With a gate, dy counts
    /// as 0 where the gate is closed, and gated (when given) receives that gated dy.
    /// </summary>
    void ChannelGradSums(in TensorView dy, in TensorView x, in TensorView center, in TensorView sumDy, in TensorView sumDyX,
        ReluGateView? gate = null, TensorView? gated = null);

    /// <summary>y[r] = x[r, index[r]] for contiguous x [R, C] and Int64 index [R].</summary>
    void GatherColumns(in TensorView x, in TensorView index, in TensorView y);
    /// <summary>x[r, index[r]] += values[r].</summary>
    void ScatterAddColumns(in TensorView x, in TensorView index, in TensorView values);
    /// <summary>y = x.index_select(axis, index): contiguous x, Int64 index, contiguous y.</summary>
    void IndexSelect(in TensorView x, int axis, in TensorView index, in TensorView y);
}

/// <summary>
/// Where a ReLU let the gradient through, element by element of a contiguous [N,C,S] tensor: open where
/// values·scale[c] + shift[c] &gt; 0, or where values &gt; 0 when scale and shift are absent. The affine form recomputes
/// the test from a ChannelAffine's input with the same arithmetic, so it opens exactly where that ReLU's output is
/// positive; the plain form reads the ReLU's output itself.
/// </summary>
public readonly record struct ReluGateView(TensorView Values, TensorView? Scale = null, TensorView? Shift = null);

/// <summary>2-D convolution geometry (PyTorch semantics: zero padding, floor output size).</summary>
public readonly record struct Conv2dParams(int StrideH, int StrideW, int PadH, int PadW, int DilationH, int DilationW, int Groups)
{
    /// <summary>Output height for an input of height h and a kernel of height kh: ⌊(h + 2p − d(kh − 1) − 1)/s⌋ + 1.</summary>
    public int OutputH(int h, int kh) => (h + 2 * PadH - DilationH * (kh - 1) - 1) / StrideH + 1;
    public int OutputW(int w, int kw) => (w + 2 * PadW - DilationW * (kw - 1) - 1) / StrideW + 1;
}

/// <summary>2-D pooling geometry. Average pooling counts padded zeros (PyTorch's count_include_pad=True).</summary>
public readonly record struct Pool2dParams(int KernelH, int KernelW, int StrideH, int StrideW, int PadH, int PadW)
{
    public int OutputH(int h) => (h + 2 * PadH - KernelH) / StrideH + 1;
    public int OutputW(int w) => (w + 2 * PadW - KernelW) / StrideW + 1;
}
