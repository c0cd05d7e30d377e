// Module: a piece of a network with named children, parameters and buffers, and a training/evaluation mode.
// Names compose with dots exactly as PyTorch's state_dict keys ("layer1.0.conv1.weight"), so weights move in and out.
using Standalone.Autograd;

namespace Standalone.Models.Nn;

public abstract class Module
{
    private readonly List<(string Name, Module Module)> _children = new();
    private readonly List<(string Name, Variable Parameter)> _parameters = new();
    private readonly List<(string Name, Tensor Buffer)> _buffers = new();

    public bool Training { get; private set; } = true;

    public abstract Variable Forward(Variable x);

    public Variable this[Variable x] => Forward(x);

    /// <summary>
    /// Hands a result of a parameter-free module to a <see cref="ModelTrace"/> being recorded, which otherwise sees
    /// only ops and parameters (pruning must find, e.g., the zero-pad shortcut whose padding it cuts).
    /// </summary>
    protected Variable Report(Variable output)
    {
        ModelTrace.Note(this, output);
        return output;
    }

    protected T Register<T>(string name, T child) where T : Module
    {
        CheckName(name);
        _children.Add((name, child));
        return child;
    }

    protected Variable RegisterParameter(string name, Tensor value)
    {
        CheckName(name);
        var p = Variable.Parameter(value, name);
        _parameters.Add((name, p));
        return p;
    }

    protected Tensor RegisterBuffer(string name, Tensor value)
    {
        CheckName(name);
        _buffers.Add((name, value));
        return value;
    }

    /// <summary>The buffer registered under name (on this module, not its children).</summary>
    protected Tensor Buffer(string name)
    {
        foreach (var (n, b) in _buffers)
            if (n == name) return b;
        throw new KeyNotFoundException($"{GetType().Name} has no buffer '{name}'");
    }

    /// <summary>
    /// Swaps the value of one of this module's own buffers (same dtype and rank), disposing the old tensor. Pruning
    /// uses it to cut batch-norm statistics to the kept channels.
    /// </summary>
    public void ReplaceBuffer(string name, Tensor value)
    {
        int i = _buffers.FindIndex(b => b.Name == name);
        if (i < 0) throw new KeyNotFoundException($"{GetType().Name} has no buffer '{name}'");
        var old = _buffers[i].Buffer;
        if (old.DType != value.DType || old.Rank != value.Rank)
            throw new ArgumentException($"{GetType().Name}.{name}: a replacement must keep dtype {old.DType} and rank {old.Rank}, got {value.DType} {value.Shape}");
        if (ReferenceEquals(old, value)) return;
        _buffers[i] = (name, value);
        old.Dispose();
    }

    private void CheckName(string name)
    {
        if (string.IsNullOrEmpty(name) || name.Contains('.')) throw new ArgumentException($"module member name '{name}' must be non-empty and contain no '.'");
        if (_children.Any(c => c.Name == name) || _parameters.Any(p => p.Name == name) || _buffers.Any(b => b.Name == name))
            throw new ArgumentException($"module member '{name}' is registered twice");
    }

    public IReadOnlyList<(string Name, Module Module)> Children => _children;

    /// <summary>This module and every descendant, with dotted names ("" for this one), depth first.</summary>
    public IEnumerable<(string Name, Module Module)> NamedModules(string prefix = "")
    {
        yield return (prefix, this);
        foreach (var (name, child) in _children)
            foreach (var m in child.NamedModules(Join(prefix, name))) yield return m;
    }

    /// <summary>Parameters in PyTorch order (own first, then children's), with state-dict names.</summary>
    public IEnumerable<(string Name, Variable Parameter)> NamedParameters(string prefix = "")
    {
        foreach (var (name, p) in _parameters) yield return (Join(prefix, name), p);
        foreach (var (name, child) in _children)
            foreach (var p in child.NamedParameters(Join(prefix, name))) yield return p;
    }

    public IEnumerable<Variable> Parameters() => NamedParameters().Select(p => p.Parameter);

    public IEnumerable<(string Name, Tensor Buffer)> NamedBuffers(string prefix = "")
    {
        foreach (var (name, b) in _buffers) yield return (Join(prefix, name), b);
        foreach (var (name, child) in _children)
            foreach (var b in child.NamedBuffers(Join(prefix, name))) yield return b;
    }

    /// <summary>Every parameter and buffer by state-dict key, in PyTorch's order (per module: parameters, buffers, children).</summary>
    public IReadOnlyList<(string Name, Tensor Value)> StateDict(string prefix = "")
    {
        var result = new List<(string, Tensor)>();
        CollectState(prefix, result);
        return result;
    }

    private void CollectState(string prefix, List<(string, Tensor)> into)
    {
        foreach (var (name, p) in _parameters) into.Add((Join(prefix, name), p.Data));
        foreach (var (name, b) in _buffers) into.Add((Join(prefix, name), b));
        foreach (var (name, child) in _children) child.CollectState(Join(prefix, name), into);
    }

    /// <summary>
    /// Copies values into this module's parameters and buffers by state-dict key. Strict mode requires exactly the
    /// module's keys; lenient mode loads what matches and reports the rest. Shape mismatches always throw.
    /// Returns (missing keys, unexpected keys).
    /// </summary>
    public (IReadOnlyList<string> Missing, IReadOnlyList<string> Unexpected) LoadStateDict(IReadOnlyDictionary<string, Tensor> values, bool strict = true)
    {
        var own = StateDict();
        var missing = own.Where(e => !values.ContainsKey(e.Name)).Select(e => e.Name).ToList();
        var ownNames = own.Select(e => e.Name).ToHashSet();
        var unexpected = values.Keys.Where(k => !ownNames.Contains(k)).OrderBy(k => k, StringComparer.Ordinal).ToList();
        if (strict && (missing.Count > 0 || unexpected.Count > 0))
            throw new ArgumentException("load_state_dict: " +
                (missing.Count > 0 ? $"missing keys: {string.Join(", ", missing.Take(10))}{(missing.Count > 10 ? $" (+{missing.Count - 10} more)" : "")}. " : "") +
                (unexpected.Count > 0 ? $"unexpected keys: {string.Join(", ", unexpected.Take(10))}{(unexpected.Count > 10 ? $" (+{unexpected.Count - 10} more)" : "")}." : ""));
        var mismatched = new List<string>();
        foreach (var (name, target) in own)
            if (values.TryGetValue(name, out var source) && source.Shape != target.Shape)
                mismatched.Add($"{name}: checkpoint {source.Shape}, model {target.Shape}");
        if (mismatched.Count > 0) throw new ArgumentException("load_state_dict: shape mismatch for " + string.Join("; ", mismatched));
        // Widening between float types (an F16 or F64 export) is a conversion; integers over floats (or the reverse) are a different tensor.
        foreach (var (name, target) in own)
            if (values.TryGetValue(name, out var source) && source.DType.IsFloat() != target.DType.IsFloat())
                throw new ArgumentException($"load_state_dict: '{name}' is stored as {source.DType} but the model holds it as {target.DType}");
        foreach (var (name, target) in own)
        {
            if (!values.TryGetValue(name, out var source)) continue;
            if (source.DType == target.DType && source.Backend == target.Backend) target.CopyFrom(source);
            else
            {
                // Through the host: a file's tensors live on the CPU, the model may be on another device.
                using var typed = source.DType == target.DType ? source.Share() : source.To(target.DType);
                using var moved = typed.To(target.Backend);
                target.CopyFrom(moved);
            }
        }
        foreach (var (_, m) in NamedModules()) m.OnStateLoaded();
        return (missing, unexpected);
    }

    /// <summary>Called after LoadStateDict so a module can refresh host-side copies of its buffers.</summary>
    protected virtual void OnStateLoaded() { }

    public long ParameterCount() => Parameters().Sum(p => p.Data.Numel);

    public void Train(bool training = true)
    {
        foreach (var (_, m) in NamedModules()) m.Training = training;
    }

    public void Eval() => Train(false);

    public void ZeroGrad()
    {
        foreach (var p in Parameters()) p.ZeroGrad();
    }

    private static string Join(string prefix, string name) => prefix.Length == 0 ? name : prefix + "." + name;
}
