// Matrix product C = A·B ([M,K]·[K,N], or batched). dA = dC·Bᵀ, dB = Aᵀ·dC.
namespace Standalone.Autograd;

public static partial class F
{
    public static Variable MatMul(Variable a, Variable b) => new MatMulNode().Run(a, b);

    private sealed class MatMulNode : Node
    {
        public override TapeOp Op => new OtherOp("matmul");

        private Tensor? _a, _b;

        public Variable Run(Variable a, Variable b)
        {
            if (a.Shape.Rank != b.Shape.Rank)
                throw new ArgumentException($"matmul: operands must have equal rank for autograd, got {a.Shape} and {b.Shape}");
            _a = a.Data.Share();
            _b = b.Data.Share();
            return Record(Tensor.MatMul(a.Data, b.Data), a, b);
        }

        protected internal override void Backward(Tensor dOut, GradSink sink)
        {
            if (NeedsGrad(0)) sink.Add(0, Tensor.MatMul(dOut, _b!, transB: true));
            if (NeedsGrad(1)) sink.Add(1, Tensor.MatMul(_a!, dOut, transA: true));
        }

        protected override void ReleaseSaved() { _a?.Dispose(); _b?.Dispose(); }
    }
}
