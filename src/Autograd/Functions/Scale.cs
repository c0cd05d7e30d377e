// y = x · scale + shift for constants. dx = dOut · scale.
namespace Standalone.Autograd;

public static partial class F
{
    public static Variable Scale(Variable x, double scale, double shift = 0) => new ScaleNode(scale, shift).Run(x);

    private sealed class ScaleNode(double scale, double shift) : Node
    {
        public override TapeOp Op => new ElementwiseOp("scale", scale, shift);

        public Variable Run(Variable x) => Record(x.Data.Affine(scale, shift), x);

        protected internal override void Backward(Tensor dOut, GradSink sink) => sink.Add(0, dOut.Affine(scale, 0));
    }
}
