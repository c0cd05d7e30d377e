// Reshape / flatten: a view forward, and the gradient reshaped back to the input's shape.
namespace Standalone.Autograd;

public static partial class F
{
    public static Variable Reshape(Variable x, params int[] shape) => new ReshapeNode(x.Shape).Run(x, x.Data.Reshape(shape));

    /// <summary>Flattens dimensions startAxis.. into one (torch.flatten(x, 1) by default).</summary>
    public static Variable Flatten(Variable x, int startAxis = 1) => new ReshapeNode(x.Shape).Run(x, x.Data.Flatten(startAxis));

    private sealed class ReshapeNode(Shape inputShape) : Node
    {
        public override TapeOp Op => new ReshapeOp(inputShape, Output.Shape);

        public Variable Run(Variable x, Tensor y) => Record(y, x);

        protected internal override void Backward(Tensor dOut, GradSink sink) => sink.Add(0, dOut.Reshape(inputShape));
    }
}
