// Permute / transpose: a view forward (no copy); the gradient is permuted back by the inverse order.
namespace Standalone.Autograd;

public static partial class F
{
    public static Variable Permute(Variable x, params int[] order) => new PermuteNode().Run(x, order);

    public static Variable Transpose(Variable x, int axis0, int axis1)
    {
        var order = Enumerable.Range(0, x.Shape.Rank).ToArray();
        int a = x.Shape.Normalize(axis0), b = x.Shape.Normalize(axis1);
        (order[a], order[b]) = (order[b], order[a]);
        return Permute(x, order);
    }

    private sealed class PermuteNode : Node
    {
        public override TapeOp Op => new PermuteOp(_order);

        private int[] _inverse = [];
        private int[] _order = [];

        public Variable Run(Variable x, int[] order)
        {
            var y = x.Data.Permute(order);
            _order = order.Select(x.Shape.Normalize).ToArray();
            _inverse = new int[order.Length];
            for (int i = 0; i < order.Length; i++) _inverse[x.Shape.Normalize(order[i])] = i;
            return Record(y, x);
        }

        protected internal override void Backward(Tensor dOut, GradSink sink) => sink.Add(0, dOut.Permute(_inverse));
    }
}
