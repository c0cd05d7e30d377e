// Max and average 2-D pooling. Max: dY goes to the argmax saved by the forward pass (winner takes all).
// Average (padding counted, PyTorch's default): dY/(kH·kW) spread over each window.
using Standalone.Backends;

namespace Standalone.Autograd;

public static partial class F
{
    public static Variable MaxPool2d(Variable x, int kernel, int stride = -1, int padding = 0) =>
        new PoolNode(PoolKind.Max, Geometry(kernel, stride, padding)).Run(x);

    public static Variable AvgPool2d(Variable x, int kernel, int stride = -1, int padding = 0) =>
        new PoolNode(PoolKind.Average, Geometry(kernel, stride, padding)).Run(x);

    private static Pool2dParams Geometry(int kernel, int stride, int padding)
    {
        int s = stride < 0 ? kernel : stride;
        return new Pool2dParams(kernel, kernel, s, s, padding, padding);
    }

    private sealed class PoolNode(PoolKind kind, Pool2dParams p) : Node
    {
        public override TapeOp Op => new Pool2dOp(kind, p);

        private Tensor? _indices;
        private Shape _inputShape;

        public Variable Run(Variable x)
        {
            _inputShape = x.Shape;
            var (y, indices) = Tensor.Pool2d(kind, x.Data, p);
            _indices = indices;
            return Record(y, x);
        }

        protected internal override void Backward(Tensor dOut, GradSink sink) =>
            sink.Add(0, Tensor.Pool2dBackward(kind, dOut, _indices, _inputShape, p));

        protected override void ReleaseSaved() => _indices?.Dispose();
    }
}
