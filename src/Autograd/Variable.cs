// A tensor that takes part in reverse-mode differentiation: its data, the gradient accumulated into it, and the
// node of the tape that produced it (null for leaves such as parameters and inputs).
namespace Standalone.Autograd;

public sealed class Variable
{
    private List<Action<Tensor>>? _hooks;

    public Variable(Tensor data, bool requiresGrad = false, string? name = null)
    {
        Data = data;
        RequiresGrad = requiresGrad;
        Name = name;
    }

    public Tensor Data { get; internal set; }

    /// <summary>
    /// The gradient of the last backward pass(es): accumulated (+=) into leaves that require gradients, and kept for
    /// intermediate variables marked with RetainGrad(). Other intermediate gradients are freed once consumed.
    /// </summary>
    public Tensor? Grad { get; set; }

    public bool RequiresGrad { get; internal set; }
    public string? Name { get; set; }
    public Node? Creator { get; internal set; }
    public bool IsLeaf => Creator == null;
    public bool RetainsGrad { get; private set; }

    public Shape Shape => Data.Shape;
    public DType DType => Data.DType;

    /// <summary>Gradient flowing into this variable during backward, not yet handed to its creator.</summary>
    internal Tensor? PendingGrad { get; set; }

    /// <summary>A leaf that accumulates gradients (a parameter).</summary>
    public static Variable Parameter(Tensor data, string? name = null) => new(data, true, name);

    /// <summary>A leaf that needs no gradient (an input, a label).</summary>
    public static Variable Constant(Tensor data) => new(data, false);

    /// <summary>Keeps this (intermediate) variable's gradient in Grad after backward, as leaves do.</summary>
    public Variable RetainGrad()
    {
        RetainsGrad = true;
        return this;
    }

    /// <summary>Calls hook with the gradient of this variable when backward computes it (the tensor is valid only during the call).</summary>
    public Variable RegisterHook(Action<Tensor> hook)
    {
        (_hooks ??= new()).Add(hook);
        return this;
    }

    internal void RunHooks(Tensor gradient)
    {
        if (_hooks == null) return;
        foreach (var hook in _hooks) hook(gradient);
    }

    /// <summary>
    /// Back-propagates from this variable. With no seed it must hold one element (a loss) and is seeded with 1;
    /// otherwise seed is the gradient of some objective with respect to this variable (same shape).
    /// </summary>
    public void Backward(Tensor? seed = null) => Engine.Backward(this, seed);

    /// <summary>
    /// Swaps in a new value of the same dtype, disposing the old one; the identity of the variable (and so the
    /// optimizer state keyed on it) is kept. Pruning uses this to cut a parameter to fewer channels. The gradient
    /// must be replaced by the caller too when its shape no longer fits (it is dropped here if it does not).
    /// </summary>
    public void ReplaceData(Tensor data)
    {
        if (data.DType != Data.DType) throw new ArgumentException($"replace data of {Name ?? "variable"}: dtype {data.DType} must stay {Data.DType}");
        if (ReferenceEquals(data, Data)) return;
        Data.Dispose();
        Data = data;
        if (Grad != null && Grad.Shape != data.Shape)
        {
            Grad.Dispose();
            Grad = null;
        }
    }

    /// <summary>Drops the accumulated gradient.</summary>
    public void ZeroGrad()
    {
        Grad?.Zero();
    }

    /// <summary>The data without the tape: a leaf sharing the same storage.</summary>
    public Variable Detach() => new(Data.Share(), false, Name);

    public override string ToString() => $"Variable{(Name != null ? " " + Name : "")} {Data}{(RequiresGrad ? " requires_grad" : "")}";

    public static Variable operator +(Variable a, Variable b) => F.Add(a, b);
    public static Variable operator -(Variable a, Variable b) => F.Sub(a, b);
    public static Variable operator *(Variable a, Variable b) => F.Mul(a, b);
    public static Variable operator /(Variable a, Variable b) => F.Div(a, b);
    public static Variable operator *(Variable a, double s) => F.Scale(a, s);
    public static Variable operator *(double s, Variable a) => F.Scale(a, s);
    public static Variable operator -(Variable a) => F.Scale(a, -1);
}
