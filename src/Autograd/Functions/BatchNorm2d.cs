// Batch normalisation over [N, C, ...] per channel c, with M = N·H·W values per channel.
// Training: μ, σ² (biased) from the batch, x̂ = (x − μ)·r with r = 1/√(σ² + ε), y = γ·x̂ + β; the running averages
// move by `momentum` towards μ and the unbiased σ²·M/(M−1) (PyTorch semantics).
//   dβ = Σ dy,  dγ = Σ dy·x̂,  dx = γ·r·(dy − dβ/M − x̂·dγ/M)
//      = dy·(γr) + x·(−γr³·Σdy(x−μ)/M) + (−γr·dβ/M + μ·γr³·Σdy(x−μ)/M)   — one fused per-channel pass.
// Evaluation: μ, σ² are the running statistics (constants): dx = dy·γr, dγ = Σ dy·(x − μ)·r, dβ = Σ dy.
// Fused (BatchNorm2dRelu): z = relu(y (+ residual)) is written by the same pass as y. Backward gates the gradient,
// g = dz·[z > 0], inside its two passes (the sums, then dx) rather than in a pass of its own. The gate reads z itself,
// so it opens exactly where the forward's output was positive on every device, whatever its compiler does with x·s + t
// (a GPU compiler may or may not fuse that multiply-add; recomputing it could disagree in the last bit). Keeping z costs
// no memory in practice: the next convolution keeps the same tensor as its input. With a residual, the sums pass also
// writes g, which is the residual's gradient.
namespace Standalone.Autograd;

public static partial class F
{
    /// <summary>
    /// Batch norm; in training mode updates runningMean/runningVar in place (when given). Returns y.
    /// </summary>
    public static Variable BatchNorm2d(Variable x, Variable weight, Variable bias, Tensor? runningMean, Tensor? runningVar,
        bool training, double momentum = 0.1, double eps = 1e-5) =>
        new BatchNormNode().Run(x, weight, bias, runningMean, runningVar, training, momentum, eps, null, relu: false);

    /// <summary>
    /// relu(BatchNorm2d(x) + residual) (residual optional) in one pass over the activations instead of two or three;
    /// the values and gradients equal the separate ops'. Recorded as one node (BatchNormReluOp).
    /// </summary>
    public static Variable BatchNorm2dRelu(Variable x, Variable weight, Variable bias, Tensor? runningMean, Tensor? runningVar,
        bool training, Variable? residual = null, double momentum = 0.1, double eps = 1e-5)
    {
        if (residual != null && residual.Shape != x.Shape)
            throw new ArgumentException($"batch_norm_relu: residual {residual.Shape} must match the input {x.Shape}");
        return new BatchNormNode().Run(x, weight, bias, runningMean, runningVar, training, momentum, eps, residual, relu: true);
    }

    private sealed class BatchNormNode : Node
    {
        public override TapeOp Op => _relu ? new BatchNormReluOp(_training, _eps, _residual) : new BatchNormOp(_training, _eps);

        private Tensor? _x, _mean, _rstd, _gamma, _z;
        private long _count;
        private bool _training, _relu, _residual;
        private double _eps;

        public Variable Run(Variable x, Variable weight, Variable bias, Tensor? runningMean, Tensor? runningVar, bool training, double momentum, double eps,
            Variable? residual, bool relu)
        {
            int c = x.Shape.Rank >= 2 ? x.Shape[1] : -1;
            if (x.Shape.Rank < 2 || weight.Shape != new Shape(c) || bias.Shape != new Shape(c))
                throw new ArgumentException($"batch_norm: input {x.Shape} needs weight and bias of shape [{c}], got {weight.Shape} and {bias.Shape}");
            _count = x.Shape.Numel / c;
            Tensor mean, variance;
            if (training)
            {
                if (_count < 2) throw new ArgumentException($"batch_norm: training needs more than one value per channel, got input {x.Shape}");
                (mean, variance) = x.Data.ChannelMeanVar();
                if (runningMean != null && runningVar != null)
                {
                    using (Grad.Disabled())
                    {
                        runningMean.MulInPlace(1 - momentum).AddInPlace(mean, momentum);
                        runningVar.MulInPlace(1 - momentum).AddInPlace(variance, momentum * _count / (_count - 1));
                    }
                }
            }
            else
            {
                if (runningMean == null || runningVar == null) throw new ArgumentException("batch_norm: evaluation mode needs running statistics");
                mean = runningMean.Share();
                variance = runningVar.Share();
            }
            using (variance)
            {
                _rstd = variance.Affine(1, eps).ApplyInPlace(Standalone.Backends.UnaryOp.Rsqrt);
            }
            _mean = mean;
            var scale = weight.Data.Mul(_rstd);
            using var meanScale = mean.Mul(scale);
            var shift = bias.Data.Sub(meanScale);
            var y = Tensor.ChannelAffine(x.Data, scale, shift, residual?.Data, null, relu);
            _x = x.Data.Share();
            _gamma = weight.Data.Share();
            _training = training;
            _eps = eps;
            (_relu, _residual) = (relu, residual != null);
            if (relu) _z = y.Share();
            scale.Dispose();
            shift.Dispose();
            return Record(y, x, weight, bias, residual);
        }

        protected internal override void Backward(Tensor dOut, GradSink sink)
        {
            // g, the gradient of batch_norm(x) (+ residual), is dOut through the ReLU's gate (dOut itself without a ReLU).
            ReluGate? gate = _relu ? new ReluGate(_z!) : null;
            var (sumDy, sumDyXc, gated) = Tensor.ChannelGradSums(dOut, _x!, _mean!, gate, writeGated: _residual);
            using (sumDyXc)
            {
                if (NeedsGrad(1)) sink.Add(1, sumDyXc.Mul(_rstd!));
                if (NeedsGrad(0)) sink.Add(0, gated != null ? InputGradient(gated, null, sumDy, sumDyXc) : InputGradient(dOut, gate, sumDy, sumDyXc));
            }
            if (NeedsGrad(2)) sink.Add(2, sumDy); else sumDy.Dispose();
            // Handed on last: the sink may add another gradient into it in place.
            if (gated != null && NeedsGrad(3)) sink.Add(3, gated);
            else gated?.Dispose();
        }

        /// <summary>dx from dy = dOut through the gate (the gate already applied when null).</summary>
        private Tensor InputGradient(Tensor dOut, ReluGate? gate, Tensor sumDy, Tensor sumDyXc)
        {
            using var gr = _gamma!.Mul(_rstd!);
            if (!_training)
            {
                using var zero = Tensor.ZerosLike(gr);
                return Tensor.ChannelAffine(dOut, gr, zero, gate: gate);
            }
            double invM = 1.0 / _count;
            // k2 = −γ r³ Σdy(x−μ) / M ;  k3 = −γ r Σdy / M − μ·k2
            using var r2 = _rstd!.Square();
            using var grr = gr.Mul(r2);
            using var k2 = grr.Mul(sumDyXc).MulInPlace(-invM);
            using var grDy = gr.Mul(sumDy).MulInPlace(-invM);
            using var muK2 = _mean!.Mul(k2);
            using var k3 = grDy.Sub(muK2);
            return Tensor.ChannelAffine(dOut, gr, k3, _x, k2, gate: gate);
        }

        protected override void ReleaseSaved()
        {
            _x?.Dispose(); _mean?.Dispose(); _rstd?.Dispose(); _gamma?.Dispose(); _z?.Dispose();
        }
    }
}
