// y = max(x, 0). dx = dOut where y > 0 (the output is saved: y > 0 ⇔ x > 0).
using Standalone.Backends;

namespace Standalone.Autograd;

public static partial class F
{
    public static Variable Relu(Variable x) => new ReluNode().Run(x);

    private sealed class ReluNode : Node
    {
        public override TapeOp Op => new ElementwiseOp("relu");

        private Tensor? _y;

        public Variable Run(Variable x)
        {
            var y = x.Data.Relu();
            _y = y.Share();
            return Record(y, x);
        }

        protected internal override void Backward(Tensor dOut, GradSink sink) => sink.Add(0, dOut.Apply(BinaryOp.ReluBackward, _y!));

        protected override void ReleaseSaved() => _y?.Dispose();
    }
}
