// Sum and mean over axes. dx = dOut broadcast back over the reduced axes (÷ count for the mean).
namespace Standalone.Autograd;

public static partial class F
{
    public static Variable Sum(Variable x, int[]? axes = null, bool keepDims = false) => new SumNode().Run(x, axes, keepDims, mean: false);
    public static Variable Mean(Variable x, int[]? axes = null, bool keepDims = false) => new SumNode().Run(x, axes, keepDims, mean: true);

    private sealed class SumNode : Node
    {
        public override TapeOp Op => new OtherOp(_scale == 1 ? "sum" : "mean");

        private Shape _inputShape;
        private Shape _keptShape;
        private double _scale = 1;

        public Variable Run(Variable x, int[]? axes, bool keepDims, bool mean)
        {
            _inputShape = x.Shape;
            var y = mean ? x.Data.Mean(axes, keepDims) : x.Data.Sum(axes, keepDims);
            Span<int> d = stackalloc int[x.Shape.Rank];
            int mask = x.Data.AxisMask(axes);
            for (int i = 0; i < d.Length; i++) d[i] = (mask & (1 << i)) != 0 ? 1 : x.Shape[i];
            _keptShape = new Shape(d);
            if (mean) _scale = (double)_keptShape.Numel / x.Shape.Numel;
            return Record(y, x);
        }

        protected internal override void Backward(Tensor dOut, GradSink sink)
        {
            using var kept = dOut.Reshape(_keptShape);
            using var expanded = kept.Expand(_inputShape);
            sink.Add(0, expanded.Affine(_scale, 0));
        }
    }
}
