// Cross-entropy of logits [N, C] against Int64 labels [N], with label smoothing ε (PyTorch semantics): the target
// distribution is q = (1 − ε)·onehot(y) + ε/C, loss_n = −Σ_c q_c · log_softmax(x_n)_c, reduced by mean or sum.
// dx_n = (softmax(x_n) − q) · dL/dloss_n  (÷ N for the mean).
namespace Standalone.Autograd;

public enum Reduction { Mean, Sum }

public static partial class F
{
    public static Variable CrossEntropy(Variable logits, Tensor labels, double labelSmoothing = 0, Reduction reduction = Reduction.Mean) =>
        new CrossEntropyNode(labelSmoothing, reduction).Run(logits, labels);

    private sealed class CrossEntropyNode(double smoothing, Reduction reduction) : Node
    {
        public override TapeOp Op => new OtherOp("cross_entropy");

        private Tensor? _logp, _labels;

        public Variable Run(Variable logits, Tensor labels)
        {
            if (logits.Shape.Rank != 2) throw new ArgumentException($"cross_entropy: logits must be [N, classes], got {logits.Shape}");
            if (labels.DType != DType.Int64 || labels.Shape != new Shape(logits.Shape[0]))
                throw new ArgumentException($"cross_entropy: labels must be Int64 [{logits.Shape[0]}], got {labels.Shape} {labels.DType}");
            if (smoothing is < 0 or > 1) throw new ArgumentOutOfRangeException(nameof(smoothing), $"cross_entropy: label smoothing {smoothing} must be in [0, 1]");
            int n = logits.Shape[0], classes = logits.Shape[1];
            _logp = LogSoftmaxRows(logits.Data);
            _labels = labels.Contiguous();
            using var picked = _logp.GatherColumns(_labels);
            double scale = reduction == Reduction.Mean ? 1.0 / n : 1.0;
            using var pickedTotal = picked.Sum();
            var loss = pickedTotal.Affine(-(1 - smoothing) * scale, 0);
            if (smoothing > 0)
            {
                using var all = _logp.Sum();
                loss.AddInPlace(all, -smoothing / classes * scale);
            }
            return Record(loss, logits);
        }

        protected internal override void Backward(Tensor dOut, GradSink sink)
        {
            int n = _logp!.Shape[0], classes = _logp.Shape[1];
            var grad = _logp.Exp();
            if (smoothing > 0) grad.ApplyInPlace(Standalone.Backends.UnaryOp.Affine, 1, -smoothing / classes);
            using (var minusOne = Tensor.Full(new Shape(n), -(1 - smoothing), grad.DType, grad.Backend))
                grad.ScatterAddColumns(_labels!, minusOne);
            double scale = (reduction == Reduction.Mean ? 1.0 / n : 1.0);
            using (var d = dOut.Reshape(1, 1)) grad.ApplyInPlace(Standalone.Backends.BinaryOp.Mul, d).MulInPlace(scale);
            sink.Add(0, grad);
        }

        protected override void ReleaseSaved() { _logp?.Dispose(); _labels?.Dispose(); }
    }
}
