// Adaptive average pooling to 1×1 (global average): y[n,c] = mean over h,w of x[n,c,h,w], shape [N, C, 1, 1].
// dx = dy / (H·W) broadcast over the plane.
namespace Standalone.Autograd;

public static partial class F
{
    public static Variable GlobalAvgPool2d(Variable x) => new GlobalAvgPoolNode().Run(x);

    private sealed class GlobalAvgPoolNode : Node
    {
        public override TapeOp Op => new GlobalAvgPoolOp();

        private Shape _inputShape;

        public Variable Run(Variable x)
        {
            if (x.Shape.Rank != 4) throw new ArgumentException($"adaptive_avg_pool2d: input must be [N, C, H, W], got {x.Shape}");
            _inputShape = x.Shape;
            return Record(x.Data.Mean([2, 3], keepDims: true), x);
        }

        protected internal override void Backward(Tensor dOut, GradSink sink)
        {
            using var expanded = dOut.Expand(_inputShape);
            sink.Add(0, expanded.Affine(1.0 / (_inputShape[2] * _inputShape[3]), 0));
        }
    }
}
