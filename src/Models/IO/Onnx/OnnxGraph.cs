// The ONNX graph being built from one recorded forward pass: it names every value (the model input "input", the
// model output "logits", parameters and buffers by their state-dict keys, activations by the node that made them),
// turns each parameter, buffer or constant into one initializer the first time a node uses it, and collects the
// nodes in forward order. OnnxOps decides which ONNX nodes a tape node becomes; this class only keeps the books.
using Standalone.Autograd;
using Standalone.Models.Nn;

namespace Standalone.Models.IO.Onnx;

internal sealed class OnnxGraph
{
    private readonly ModelTrace _trace;
    private readonly Dictionary<Variable, string> _values = new(ReferenceEqualityComparer.Instance);
    private readonly Dictionary<Module, string> _moduleNames = new(ReferenceEqualityComparer.Instance);
    private readonly Dictionary<Tensor, string> _bufferNames = new(ReferenceEqualityComparer.Instance);
    private readonly Dictionary<object, string> _initializerOf = new(ReferenceEqualityComparer.Instance);
    private readonly HashSet<string> _usedNames = new(StringComparer.Ordinal) { OnnxExporter.InputName, OnnxExporter.OutputName };
    private readonly List<ProtoMessage> _nodes = [];
    private readonly List<ProtoMessage> _initializers = [];
    private readonly List<(string OpType, int Count)> _opCounts = [];

    public OnnxGraph(ModelTrace trace)
    {
        _trace = trace;
        _values[trace.Input] = OnnxExporter.InputName;
        foreach (var (name, module) in trace.Model.NamedModules())
            _moduleNames.TryAdd(module, name);
        foreach (var (name, buffer) in trace.Model.NamedBuffers())
            _bufferNames.TryAdd(buffer, name);
    }

    public ModelTrace Trace => _trace;
    public int NodeCount => _nodes.Count;
    public int InitializerCount => _initializers.Count;
    /// <summary>ONNX op types in order of first use, with how many nodes of each the graph holds.</summary>
    public IReadOnlyList<(string OpType, int Count)> OpCounts => _opCounts;

    /// <summary>
    /// The name of a value a node consumes: an activation or the input by what produced it; a parameter by its
    /// state-dict key, and a constant made inside the forward pass as "{consumer}.input{i}" — both become
    /// initializers on first use.
    /// </summary>
    public string ValueOf(Variable v, string consumer, int inputIndex)
    {
        if (_values.TryGetValue(v, out string? name)) return name;
        if (v.Creator != null)
            throw new InvalidOperationException($"ONNX export: {consumer} consumes the output of a '{v.Creator.Op.Name}' node that was not exported before it (the trace is out of order)");
        string key = _trace.Owner(v)?.Name ?? $"{consumer}.input{inputIndex}";
        name = Initializer(v.Data, key, v);
        _values[v] = name;
        return name;
    }

    /// <summary>A tensor a module keeps as a buffer (batch norm's running statistics), named by its state-dict key.</summary>
    public string Buffer(Tensor buffer, string consumer, string what)
    {
        if (!_bufferNames.TryGetValue(buffer, out string? key))
            throw new InvalidOperationException($"ONNX export: {consumer} uses a {what} that is not a buffer of the model, so it has no state-dict name");
        return Initializer(buffer, key, buffer);
    }

    /// <summary>A float32 scalar the graph needs beside the model's tensors (a scale factor, a pad value).</summary>
    public string Constant(string name, double value)
    {
        using var scalar = Tensor.Scalar(value);
        Reserve(name);
        _initializers.Add(OnnxProto.FloatTensor(name, scalar));
        return name;
    }

    /// <summary>An int64 vector input (Slice starts, Pad pads, Reshape shape).</summary>
    public string Int64Constant(string name, params long[] values)
    {
        Reserve(name);
        _initializers.Add(OnnxProto.Int64Tensor(name, values));
        return name;
    }

    private string Initializer(Tensor value, string name, object identity)
    {
        if (_initializerOf.TryGetValue(identity, out string? existing)) return existing;
        if (value.DType != DType.Float32)
            throw new NotSupportedException($"ONNX export: '{name}' is {value.DType}; the exported graph is float32 throughout (convert the model first)");
        Reserve(name);
        _initializers.Add(OnnxProto.FloatTensor(name, value));
        _initializerOf[identity] = name;
        return name;
    }

    private void Reserve(string name)
    {
        if (!_usedNames.Add(name))
            throw new InvalidOperationException($"ONNX export: the value name '{name}' is given twice (a state-dict key that collides with a generated name)");
    }

    /// <summary>How an error names a value: by its name in the graph, its state-dict key, or as a constant.</summary>
    public string Describe(Variable v) =>
        _values.TryGetValue(v, out string? name) ? name : _trace.Owner(v)?.Name ?? (v.Creator != null ? $"a '{v.Creator.Op.Name}' output" : "a constant");

    /// <summary>
    /// A unique name for the ONNX node(s) of tape node <paramref name="index"/>: the module that owns its first
    /// parameter ("layer1.0.conv1"), else "{opType}_{index}"; a module used twice gets "#2", "#3", ...
    /// </summary>
    public string NodeName(Node node, int index, string opType)
    {
        string? module = node.Inputs.Select(v => _trace.Owner(v)).FirstOrDefault(o => o != null) is { } owner
            && _moduleNames.TryGetValue(owner.Module, out string? m) && m.Length > 0 ? m : null;
        string name = module ?? $"{opType}_{index}";
        for (int repeat = 2; _usedNames.Contains(name); repeat++) name = $"{module ?? $"{opType}_{index}"}#{repeat}";
        _usedNames.Add(name);
        return name;
    }

    /// <summary>The name the output of <paramref name="node"/> goes by: "logits" for the model output, else the node's name.</summary>
    public string OutputOf(Node node, string nodeName)
    {
        string name = ReferenceEquals(node.Output, _trace.Output) ? OnnxExporter.OutputName : nodeName;
        _values[node.Output] = name;
        return name;
    }

    public void AddNode(string opType, string name, IEnumerable<string> inputs, string output, params ProtoMessage[] attributes)
    {
        _nodes.Add(OnnxProto.Node(opType, name, inputs, output, attributes));
        int at = _opCounts.FindIndex(c => c.OpType == opType);
        if (at < 0) _opCounts.Add((opType, 1));
        else _opCounts[at] = (opType, _opCounts[at].Count + 1);
    }

    /// <summary>The ModelProto: opset 13, input [batch, C, H, W], output [batch, ...], the nodes and initializers.</summary>
    public ProtoMessage ToModel(string graphName, IReadOnlyDictionary<string, string> metadata)
    {
        var input = OnnxProto.FloatValue(OnnxExporter.InputName, OnnxExporter.BatchDim, _trace.Input.Shape.ToArray()[1..]);
        var output = OnnxProto.FloatValue(OnnxExporter.OutputName, OnnxExporter.BatchDim, _trace.Output.Shape.ToArray()[1..]);
        return OnnxProto.Model(OnnxProto.Graph(graphName, _nodes, _initializers, input, output), metadata);
    }
}
