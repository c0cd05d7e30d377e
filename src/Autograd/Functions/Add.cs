// Element-wise a + b with broadcasting (also the residual add). d/da = dOut, d/db = dOut (summed back to each
// input's shape by the engine).
namespace Standalone.Autograd;

public static partial class F
{
    public static Variable Add(Variable a, Variable b) => new AddNode(negateB: false).Run(a, b);

    /// <summary>a − b.</summary>
    public static Variable Sub(Variable a, Variable b) => new AddNode(negateB: true).Run(a, b);

    private sealed class AddNode(bool negateB) : Node
    {
        public override TapeOp Op => new BroadcastOp(negateB ? "sub" : "add");

        public Variable Run(Variable a, Variable b) => Record(negateB ? a.Data.Sub(b.Data) : a.Data.Add(b.Data), a, b);

        protected internal override void Backward(Tensor dOut, GradSink sink)
        {
            if (NeedsGrad(0)) sink.Add(0, dOut.Share());
            if (NeedsGrad(1)) sink.Add(1, negateB ? dOut.Neg() : dOut.Share());
        }
    }
}
