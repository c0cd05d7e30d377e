// Element-wise a / b with broadcasting. d/da = dOut / b, d/db = −dOut · a / b².
namespace Standalone.Autograd;

public static partial class F
{
    public static Variable Div(Variable a, Variable b) => new DivNode().Run(a, b);

    private sealed class DivNode : Node
    {
        public override TapeOp Op => new BroadcastOp("div");

        private Tensor? _a, _b;

        public Variable Run(Variable a, Variable b)
        {
            _a = a.Data.Share();
            _b = b.Data.Share();
            return Record(a.Data.Div(b.Data), a, b);
        }

        protected internal override void Backward(Tensor dOut, GradSink sink)
        {
            if (NeedsGrad(0)) sink.Add(0, dOut.Div(_b!));
            if (NeedsGrad(1))
            {
                using var quotient = _a!.Div(_b!);
                using var scaled = dOut.Mul(quotient);
                using var negated = scaled.Neg();
                sink.Add(1, negated.Div(_b!));
            }
        }

        protected override void ReleaseSaved() { _a?.Dispose(); _b?.Dispose(); }
    }
}
