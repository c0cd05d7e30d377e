// 2-D convolution (NCHW; weight [Cout, Cin/groups, kH, kW]; stride, padding, dilation, groups, optional bias).
// Backward: dX = conv_transpose(dY, W) (Conv2dBackwardInput), dW = Σ_n dY ⋆ X (Conv2dBackwardWeight), dB = Σ dY.
using Standalone.Backends;

namespace Standalone.Autograd;

public static partial class F
{
    public static Variable Conv2d(Variable x, Variable weight, Variable? bias = null, int stride = 1, int padding = 0, int dilation = 1, int groups = 1) =>
        Conv2d(x, weight, bias, new Conv2dParams(stride, stride, padding, padding, dilation, dilation, groups));

    public static Variable Conv2d(Variable x, Variable weight, Variable? bias, Conv2dParams p) => new Conv2dNode(p).Run(x, weight, bias);

    private sealed class Conv2dNode(Conv2dParams p) : Node
    {
        public override TapeOp Op => new Conv2dOp(p);

        private Tensor? _x, _w;

        public Variable Run(Variable x, Variable weight, Variable? bias)
        {
            var y = Tensor.Conv2d(x.Data, weight.Data, bias?.Data, p);
            _x = x.Data.Share();
            _w = weight.Data.Share();
            return Record(y, x, weight, bias);
        }

        protected internal override void Backward(Tensor dOut, GradSink sink)
        {
            if (NeedsGrad(0)) sink.Add(0, Tensor.Conv2dBackwardInput(dOut, _w!, _x!.Shape, p));
            if (NeedsGrad(1) || NeedsGrad(2))
            {
                var (dw, db) = Tensor.Conv2dBackwardWeight(dOut, _x!, _w!.Shape, NeedsGrad(2), p);
                if (NeedsGrad(1)) sink.Add(1, dw); else dw.Dispose();
                if (db != null) sink.Add(2, db);
            }
        }

        protected override void ReleaseSaved() { _x?.Dispose(); _w?.Dispose(); }
    }
}
