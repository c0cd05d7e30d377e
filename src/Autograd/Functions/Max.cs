// Maximum over axes. The gradient goes to the positions that attain the maximum, split evenly among ties
// (as torch.amax does): dx = dOut · [x == max] / count(x == max).
using Standalone.Backends;

namespace Standalone.Autograd;

public static partial class F
{
    public static Variable Max(Variable x, int[]? axes = null, bool keepDims = false) => new MaxNode().Run(x, axes, keepDims);

    private sealed class MaxNode : Node
    {
        public override TapeOp Op => new OtherOp("max");

        private Tensor? _x, _maxKept;
        private int[]? _axes;

        public Variable Run(Variable x, int[]? axes, bool keepDims)
        {
            _axes = axes;
            _x = x.Data.Share();
            _maxKept = x.Data.Max(axes, keepDims: true);
            var y = keepDims ? _maxKept.Share() : x.Data.Max(axes, keepDims: false);
            return Record(y, x);
        }

        protected internal override void Backward(Tensor dOut, GradSink sink)
        {
            using var mask = _x!.Apply(BinaryOp.Equal, _maxKept!);
            using var count = mask.Sum(_axes, keepDims: true);
            using var kept = dOut.Reshape(_maxKept!.Shape);
            using var share = kept.Div(count);
            sink.Add(0, mask.Mul(share));
        }

        protected override void ReleaseSaved() { _x?.Dispose(); _maxKept?.Dispose(); }
    }
}
