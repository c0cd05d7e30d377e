// Slice along one axis (start, length, step): a strided view forward; backward scatters dOut into a zero tensor of
// the input's shape at the same positions.
namespace Standalone.Autograd;

public static partial class F
{
    public static Variable Slice(Variable x, int axis, int start, int length, int step = 1) => new SliceNode(axis, start, length, step).Run(x);

    private sealed class SliceNode(int axis, int start, int length, int step) : Node
    {
        public override TapeOp Op => new SliceOp(axis, start, length, step);

        private Shape _inputShape;

        public Variable Run(Variable x)
        {
            _inputShape = x.Shape;
            return Record(x.Data.Slice(axis, start, length, step), x);
        }

        protected internal override void Backward(Tensor dOut, GradSink sink)
        {
            var dx = Tensor.Zeros(_inputShape, dOut.DType, dOut.Backend);
            using (var window = dx.Slice(axis, start, length, step)) window.CopyFrom(dOut);
            sink.Add(0, dx);
        }
    }
}
