// Unary element-wise functions whose derivative is a function of the input or output:
//   exp: dx = dOut·y     log: dx = dOut/x     sqrt: dx = dOut/(2y)     square: dx = 2·dOut·x
//   tanh: dx = dOut·(1−y²)   sigmoid: dx = dOut·y·(1−y)   abs: dx = dOut·sign(x)
namespace Standalone.Autograd;

public static partial class F
{
    public static Variable Exp(Variable x) => new PointwiseNode(Standalone.Backends.UnaryOp.Exp).Run(x);
    public static Variable Log(Variable x) => new PointwiseNode(Standalone.Backends.UnaryOp.Log).Run(x);
    public static Variable Sqrt(Variable x) => new PointwiseNode(Standalone.Backends.UnaryOp.Sqrt).Run(x);
    public static Variable Square(Variable x) => new PointwiseNode(Standalone.Backends.UnaryOp.Square).Run(x);
    public static Variable Tanh(Variable x) => new PointwiseNode(Standalone.Backends.UnaryOp.Tanh).Run(x);
    public static Variable Sigmoid(Variable x) => new PointwiseNode(Standalone.Backends.UnaryOp.Sigmoid).Run(x);
    public static Variable Abs(Variable x) => new PointwiseNode(Standalone.Backends.UnaryOp.Abs).Run(x);

    private sealed class PointwiseNode(Standalone.Backends.UnaryOp op) : Node
    {
        public override TapeOp Op => new ElementwiseOp(op.ToString().ToLowerInvariant());

        private Tensor? _x, _y;

        public Variable Run(Variable x)
        {
            var y = x.Data.Apply(op);
            _x = x.Data.Share();
            _y = y.Share();
            return Record(y, x);
        }

        protected internal override void Backward(Tensor dOut, GradSink sink)
        {
            Tensor local = op switch
            {
                Standalone.Backends.UnaryOp.Exp => _y!.Share(),
                Standalone.Backends.UnaryOp.Log => _x!.Reciprocal(),
                Standalone.Backends.UnaryOp.Sqrt => _y!.Reciprocal().MulInPlace(0.5),
                Standalone.Backends.UnaryOp.Square => _x!.Affine(2, 0),
                Standalone.Backends.UnaryOp.Tanh => _y!.Square().ApplyInPlace(Standalone.Backends.UnaryOp.Affine, -1, 1),
                Standalone.Backends.UnaryOp.Sigmoid => SigmoidDerivative(_y!),
                Standalone.Backends.UnaryOp.Abs => _x!.Sign(),
                _ => throw new NotSupportedException($"no derivative for {op}"),
            };
            using (local) sink.Add(0, dOut.Mul(local));
        }

        private static Tensor SigmoidDerivative(Tensor y)
        {
            using var oneMinus = y.Affine(-1, 1);
            return y.Mul(oneMinus);
        }

        protected override void ReleaseSaved() { _x?.Dispose(); _y?.Dispose(); }
    }
}
