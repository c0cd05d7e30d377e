// Log-softmax over the last axis of [N, C]: y = x − max − log Σ exp(x − max).
// dx = dy − softmax · Σ_c dy  with softmax = exp(y).
namespace Standalone.Autograd;

public static partial class F
{
    public static Variable LogSoftmax(Variable x) => new LogSoftmaxNode().Run(x);

    /// <summary>Row-wise log-softmax of a [N, C] tensor (no tape).</summary>
    internal static Tensor LogSoftmaxRows(Tensor x)
    {
        if (x.Rank != 2) throw new ArgumentException($"log_softmax: expected [N, classes] logits, got {x.Shape}");
        using var max = x.Max(1, keepDims: true);
        var shifted = x.Sub(max);
        using var exp = shifted.Exp();
        using var sum = exp.Sum(1, keepDims: true);
        using var logSum = sum.Log();
        return shifted.ApplyInPlace(Standalone.Backends.BinaryOp.Sub, logSum);
    }

    private sealed class LogSoftmaxNode : Node
    {
        public override TapeOp Op => new OtherOp("log_softmax");

        private Tensor? _y;

        public Variable Run(Variable x)
        {
            var y = LogSoftmaxRows(x.Data);
            _y = y.Share();
            return Record(y, x);
        }

        protected internal override void Backward(Tensor dOut, GradSink sink)
        {
            using var softmax = _y!.Exp();
            using var total = dOut.Sum(1, keepDims: true);
            using var weighted = softmax.Mul(total);
            sink.Add(0, dOut.Sub(weighted));
        }

        protected override void ReleaseSaved() => _y?.Dispose();
    }
}
