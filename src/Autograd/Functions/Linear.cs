// Fully connected layer y = x·Wᵀ + b with x [N, in], W [out, in], b [out] (PyTorch layout).
// dx = dy·W, dW = dyᵀ·x, db = Σ_n dy.
namespace Standalone.Autograd;

public static partial class F
{
    public static Variable Linear(Variable x, Variable weight, Variable? bias = null) => new LinearNode().Run(x, weight, bias);

    private sealed class LinearNode : Node
    {
        public override TapeOp Op => new LinearOp();

        private Tensor? _x, _w;

        public Variable Run(Variable x, Variable weight, Variable? bias)
        {
            if (x.Shape.Rank != 2 || weight.Shape.Rank != 2 || x.Shape[1] != weight.Shape[1])
                throw new ArgumentException($"linear: input must be [N, {(weight.Shape.Rank == 2 ? weight.Shape[1] : -1)}] for weight {weight.Shape}, got {x.Shape}");
            if (bias != null && (bias.Shape.Rank != 1 || bias.Shape[0] != weight.Shape[0]))
                throw new ArgumentException($"linear: bias must be [{weight.Shape[0]}], got {bias.Shape}");
            var y = Tensor.MatMul(x.Data, weight.Data, transB: true);
            if (bias != null) y.ApplyInPlace(Standalone.Backends.BinaryOp.Add, bias.Data);
            _x = x.Data.Share();
            _w = weight.Data.Share();
            return Record(y, x, weight, bias);
        }

        protected internal override void Backward(Tensor dOut, GradSink sink)
        {
            if (NeedsGrad(0)) sink.Add(0, Tensor.MatMul(dOut, _w!));
            if (NeedsGrad(1)) sink.Add(1, Tensor.MatMul(dOut, _x!, transA: true));
            if (NeedsGrad(2)) sink.Add(2, dOut.Sum(0));
        }

        protected override void ReleaseSaved() { _x?.Dispose(); _w?.Dispose(); }
    }
}
