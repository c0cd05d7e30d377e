// Constant padding: padding[i] = (before, after) for the trailing dimensions. Backward takes the interior of dOut.
namespace Standalone.Autograd;

public static partial class F
{
    public static Variable Pad(Variable x, (int Before, int After)[] padding, double value = 0) => new PadNode(padding).Run(x, value);

    private sealed class PadNode((int Before, int After)[] padding) : Node
    {
        public override TapeOp Op => new PadOp(padding, _value);

        private Shape _inputShape;
        private double _value;

        public Variable Run(Variable x, double value)
        {
            _inputShape = x.Shape;
            _value = value;
            return Record(x.Data.Pad(padding, value), x);
        }

        protected internal override void Backward(Tensor dOut, GradSink sink)
        {
            int lead = _inputShape.Rank - padding.Length;
            var interior = dOut.Share();
            for (int i = lead; i < _inputShape.Rank; i++)
            {
                var next = interior.Slice(i, padding[i - lead].Before, _inputShape[i]);
                interior.Dispose();
                interior = next;
            }
            sink.Add(0, interior);
        }
    }
}
