// y = x · scale + shift for constants. dx = dOut · scale.
namespace Standalone.Autograd;

public static partial class F
{
    public static Variable Scale(Variable x, double scale, double shift = 0) => new ScaleNode(scale).Run(x, shift);

    private sealed class ScaleNode(double scale) : Node
    {
        public override TapeOp Op => new ElementwiseOp("scale", scale);

        public Variable Run(Variable x, double shift) => Record(x.Data.Affine(scale, shift), x);

        protected internal override void Backward(Tensor dOut, GradSink sink) => sink.Add(0, dOut.Affine(scale, 0));
    }
}
