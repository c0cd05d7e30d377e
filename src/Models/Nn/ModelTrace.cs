// One recorded forward pass of a model, as a graph a tool can walk: the tape's nodes in forward order, which node
// consumes each variable, and which module owns each parameter. Pruning derives its channel dependency groups from
// it, LRP applies its rules along it backwards, the ONNX exporter writes one ONNX node per tape node. Nothing here
// matches names: the structure is what the ops did, and modules are found by parameter identity.
using Standalone.Autograd;

namespace Standalone.Models.Nn;

public sealed class ModelTrace : IDisposable
{
    private readonly Dictionary<Variable, List<Node>> _consumers = new(ReferenceEqualityComparer.Instance);
    private readonly Dictionary<Variable, (Module Module, string Name)> _owners = new(ReferenceEqualityComparer.Instance);
    [ThreadStatic] private static List<(Module, Variable)>? _reported;

    private ModelTrace(Module model, Variable input, Variable output, List<Node> nodes)
    {
        Model = model;
        Input = input;
        Output = output;
        Nodes = nodes;
        foreach (var node in nodes)
            foreach (var v in node.Inputs)
            {
                if (!_consumers.TryGetValue(v, out var list)) _consumers[v] = list = new List<Node>();
                list.Add(node);
            }
        foreach (var (name, module) in model.NamedModules())
            foreach (var (parameterName, parameter) in module.NamedParameters(name))
                if (module.Children.Count == 0 || !_owners.ContainsKey(parameter))
                    _owners[parameter] = (module, parameterName);
    }

    public Module Model { get; }
    public Variable Input { get; }
    public Variable Output { get; }
    /// <summary>Every node between the input and the output, inputs before the nodes that consume them.</summary>
    public IReadOnlyList<Node> Nodes { get; }

    /// <summary>
    /// Runs <paramref name="model"/> once on <paramref name="input"/> with the tape on, in evaluation mode (batch
    /// norm on running statistics, no dropout) unless <paramref name="training"/>; the model's mode is restored.
    /// The tape records an op only when an input needs a gradient, so ops on the input before the first parameter
    /// (a flatten, a scale) are left out unless <paramref name="inputRequiresGrad"/> — which a tool that must see
    /// every op (the ONNX exporter) sets.
    /// </summary>
    public static ModelTrace Record(Module model, Tensor input, bool training = false, bool inputRequiresGrad = false)
    {
        if (!Grad.IsEnabled) throw new InvalidOperationException("model trace: the tape is disabled (inside Grad.Disabled()), so there is nothing to record");
        bool wasTraining = model.Training;
        model.Train(training);
        try
        {
            var x = new Variable(input, inputRequiresGrad);
            var reported = _reported = new List<(Module, Variable)>();
            Variable y;
            try
            {
                y = model.Forward(x);
            }
            finally
            {
                _reported = null;
            }
            if (y.Creator == null)
                throw new InvalidOperationException("model trace: the output was not recorded on the tape (does the model have parameters that require gradients?)");
            var trace = new ModelTrace(model, x, y, TopologicalOrder(y.Creator));
            foreach (var (module, output) in reported) trace._moduleOutputs[module] = output;
            return trace;
        }
        finally
        {
            model.Train(wasTraining);
        }
    }

    /// <summary>Whether a trace is being recorded on this thread (layers then run unfused, each its own op).</summary>
    public static bool IsRecording => _reported != null;

    /// <summary>Called by Module.Report while a trace is being recorded on this thread (otherwise a no-op).</summary>
    internal static void Note(Module module, Variable output) => _reported?.Add((module, output));

    private readonly Dictionary<Module, Variable> _moduleOutputs = new(ReferenceEqualityComparer.Instance);

    /// <summary>The output of a module that reported it during the recorded pass (see Module.Report), or null.</summary>
    public Variable? OutputOf(Module module) => _moduleOutputs.TryGetValue(module, out var v) ? v : null;

    /// <summary>The nodes that take <paramref name="v"/> as an input.</summary>
    public IReadOnlyList<Node> Consumers(Variable v) => _consumers.TryGetValue(v, out var list) ? list : [];

    /// <summary>The innermost module that registered <paramref name="parameter"/>, and the parameter's state-dict name.</summary>
    public (Module Module, string Name)? Owner(Variable parameter) => _owners.TryGetValue(parameter, out var o) ? o : null;

    /// <summary>Whether v is a parameter of the model (a leaf the model registered) rather than an activation.</summary>
    public bool IsParameter(Variable v) => _owners.ContainsKey(v);

    private static List<Node> TopologicalOrder(Node root)
    {
        var order = new List<Node>();
        var visited = new HashSet<Node>(ReferenceEqualityComparer.Instance) { root };
        var stack = new Stack<(Node Node, int Next)>();
        stack.Push((root, 0));
        while (stack.Count > 0)
        {
            var (node, next) = stack.Pop();
            var inputs = node.Inputs;
            if (next < inputs.Count)
            {
                stack.Push((node, next + 1));
                if (inputs[next].Creator is { } child && visited.Add(child)) stack.Push((child, 0));
            }
            else order.Add(node);
        }
        return order;
    }

    public void Dispose()
    {
        foreach (var node in Nodes) node.Release();
    }
}
