// Inverted dropout: in training, y = x · m / (1 − p) with m ~ Bernoulli(1 − p) drawn from the given generator;
// identity in evaluation. dx = dy · m / (1 − p).
namespace Standalone.Autograd;

public static partial class F
{
    public static Variable Dropout(Variable x, double p, bool training, Rng rng)
    {
        if (p is < 0 or >= 1) throw new ArgumentOutOfRangeException(nameof(p), $"dropout: probability {p} must be in [0, 1)");
        if (!training || p == 0) return x;
        return new DropoutNode().Run(x, p, rng);
    }

    private sealed class DropoutNode : Node
    {
        public override TapeOp Op => new ElementwiseOp("dropout");

        private Tensor? _mask;

        public Variable Run(Variable x, double p, Rng rng)
        {
            _mask = Tensor.Bernoulli(x.Shape, 1 - p, rng, x.DType, x.Data.Backend).MulInPlace(1 / (1 - p));
            return Record(x.Data.Mul(_mask), x);
        }

        protected internal override void Backward(Tensor dOut, GradSink sink) => sink.Add(0, dOut.Mul(_mask!));

        protected override void ReleaseSaved() => _mask?.Dispose();
    }
}
