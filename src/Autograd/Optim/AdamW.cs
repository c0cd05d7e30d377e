// AdamW (Loshchilov & Hutter; torch.optim.AdamW): decoupled weight decay p −= lr·wd·p, then
//   m = β1·m + (1−β1)·g;  v = β2·v + (1−β2)·g²;  p −= lr · (m/(1−β1ᵗ)) / (√(v/(1−β2ᵗ)) + ε)
using Standalone.Backends;

namespace Standalone.Autograd.Optim;

public sealed class AdamW(IEnumerable<Variable> parameters, double learningRate = 1e-3, double beta1 = 0.9, double beta2 = 0.999,
    double eps = 1e-8, double weightDecay = 1e-2) : Optimizer(parameters, learningRate)
{
    protected override void Update(Variable parameter, Tensor grad)
    {
        var p = parameter.Data;
        if (weightDecay != 0) p.MulInPlace(1 - LearningRate * weightDecay);
        var m = State(parameter, "exp_avg");
        var v = State(parameter, "exp_avg_sq");
        m.MulInPlace(beta1).AddInPlace(grad, 1 - beta1);
        using (var g2 = grad.Square()) v.MulInPlace(beta2).AddInPlace(g2, 1 - beta2);
        double bias1 = 1 - Math.Pow(beta1, StepCount), bias2 = 1 - Math.Pow(beta2, StepCount);
        // denominator = √v / √bias2 + ε ; step = lr/bias1 · m / denominator
        var denominator = v.Sqrt().ApplyInPlace(UnaryOp.Affine, 1 / Math.Sqrt(bias2), eps);
        var update = m.Div(denominator);
        p.AddInPlace(update, -LearningRate / bias1);
    }
}
