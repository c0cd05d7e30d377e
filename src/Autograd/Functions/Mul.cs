// Element-wise a · b with broadcasting. d/da = dOut · b, d/db = dOut · a.
namespace Standalone.Autograd;

public static partial class F
{
    public static Variable Mul(Variable a, Variable b) => new MulNode().Run(a, b);

    private sealed class MulNode : Node
    {
        public override TapeOp Op => new BroadcastOp("mul");

        private Tensor? _a, _b;

        public Variable Run(Variable a, Variable b)
        {
            _a = a.Data.Share();
            _b = b.Data.Share();
            return Record(a.Data.Mul(b.Data), a, b);
        }

        protected internal override void Backward(Tensor dOut, GradSink sink)
        {
            if (NeedsGrad(0)) sink.Add(0, dOut.Mul(_b!));
            if (NeedsGrad(1)) sink.Add(1, dOut.Mul(_a!));
        }

        protected override void ReleaseSaved() { _a?.Dispose(); _b?.Dispose(); }
    }
}
