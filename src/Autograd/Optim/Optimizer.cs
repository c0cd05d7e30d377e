// Base of the optimizers: the parameter list and per-parameter state, addressable by name ("momentum_buffer",
// "exp_avg", ...) so that pruning can slice a parameter's state along with the parameter itself.
namespace Standalone.Autograd.Optim;

public abstract class Optimizer
{
    private readonly Dictionary<Variable, Dictionary<string, Tensor>> _state = new(ReferenceEqualityComparer.Instance);

    protected Optimizer(IEnumerable<Variable> parameters, double learningRate)
    {
        Parameters = parameters.ToList();
        foreach (var p in Parameters)
            if (!p.RequiresGrad) throw new ArgumentException($"optimizer: parameter {p.Name ?? p.ToString()} does not require gradients");
        LearningRate = learningRate;
    }

    public IReadOnlyList<Variable> Parameters { get; }

    /// <summary>The learning rate of the next step (schedules set it before each step).</summary>
    public double LearningRate { get; set; }

    /// <summary>
    /// Parameters the next steps leave exactly as they are — no gradient step, no weight decay, no momentum or
    /// moment update (fine-tuning only a new classifier on a frozen, pretrained backbone).
    /// </summary>
    public ISet<Variable> Frozen { get; } = new HashSet<Variable>(ReferenceEqualityComparer.Instance);

    /// <summary>Number of steps taken (restored by checkpoints: AdamW's bias correction depends on it).</summary>
    public long StepCount { get; set; }

    /// <summary>The named state tensors of one parameter (empty before its first step).</summary>
    public IReadOnlyDictionary<string, Tensor> StateOf(Variable parameter) =>
        _state.TryGetValue(parameter, out var s) ? s : new Dictionary<string, Tensor>();

    /// <summary>Replaces (or sets) one state tensor of a parameter, disposing the old one (used by pruning and resume).</summary>
    public void SetState(Variable parameter, string name, Tensor value)
    {
        if (value.Shape != parameter.Shape)
            throw new ArgumentException($"optimizer state '{name}' of {parameter.Name}: shape {value.Shape} must equal the parameter's {parameter.Shape}");
        if (!_state.TryGetValue(parameter, out var s)) _state[parameter] = s = new Dictionary<string, Tensor>();
        if (s.TryGetValue(name, out var old) && !ReferenceEquals(old, value)) old.Dispose();
        s[name] = TensorScope.Keep(value);
    }

    /// <summary>A state tensor, created as zeros (outside any scope) the first time it is asked for.</summary>
    protected Tensor State(Variable parameter, string name)
    {
        if (!_state.TryGetValue(parameter, out var s)) _state[parameter] = s = new Dictionary<string, Tensor>();
        if (!s.TryGetValue(name, out var t))
        {
            using (TensorScope.Suspend()) t = Tensor.ZerosLike(parameter.Data);
            s[name] = t;
        }
        return t;
    }

    /// <summary>Applies one update to every parameter that has a gradient and is not frozen.</summary>
    public void Step()
    {
        using (Grad.Disabled())
        using (TensorScope.Begin())
        {
            StepCount++;
            foreach (var p in Parameters)
                if (p.Grad != null && !Frozen.Contains(p)) Update(p, p.Grad);
        }
    }

    protected abstract void Update(Variable parameter, Tensor grad);

    /// <summary>Zeroes every parameter's gradient (keeping the buffers).</summary>
    public void ZeroGrad()
    {
        foreach (var p in Parameters) p.ZeroGrad();
    }
}
