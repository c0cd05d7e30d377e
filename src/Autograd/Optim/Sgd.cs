// Stochastic gradient descent with momentum, Nesterov momentum and (coupled) weight decay — PyTorch's torch.optim.SGD
// with dampening 0:
//   g = ∇ + wd·p;  buf = μ·buf + g (buf = g on the first step);  g = g + μ·buf (Nesterov) or buf;  p −= lr·g
namespace Standalone.Autograd.Optim;

public sealed class Sgd(IEnumerable<Variable> parameters, double learningRate, double momentum = 0, double weightDecay = 0, bool nesterov = false)
    : Optimizer(parameters, learningRate)
{
    public double Momentum { get; } = momentum;
    public double WeightDecay { get; } = weightDecay;
    public bool Nesterov { get; } = nesterov;

    protected override void Update(Variable parameter, Tensor grad)
    {
        var p = parameter.Data;
        var g = WeightDecay != 0 ? grad.Add(p.Affine(WeightDecay, 0)) : grad.Share();
        if (Momentum != 0)
        {
            bool first = !StateOf(parameter).ContainsKey("momentum_buffer");
            var buffer = State(parameter, "momentum_buffer");
            if (first) buffer.CopyFrom(g);
            else buffer.MulInPlace(Momentum).AddInPlace(g);
            if (Nesterov) g.AddInPlace(buffer, Momentum);
            else g = buffer.Share();
        }
        p.AddInPlace(g, -LearningRate);
    }
}
