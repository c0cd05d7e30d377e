// Channel dependency groups derived from one recorded forward pass (ModelTrace), by what each op does to the
// channel axis — never by matching names. Every activation channel is a slot; ops that keep channels aligned
// (batch norm, ReLU, pooling, element-wise) tie input slot c to output slot c, an addition ties the same slot of
// both addends and the sum, a channel pad ties x[c] to y[c + before] (shortcut A's offset mapping), a channel slice
// ties y[j] to x[start + j·step], a flatten ties each feature to the channel it came from. Conv2d and Linear start
// fresh slots (their output channels) and consume their input slots. The sets of tied slots that contain at least
// one conv/linear output channel, and touch neither the network's input, its output nor an op we cannot follow,
// are the prunable groups. Grouped convolutions (groups > 1) are left whole.
using Standalone.Autograd;
using Standalone.Models.Nn;
using Standalone.Models.Zoo;

namespace Standalone.Pruning.Graph;

/// <summary>A Conv2d or Linear as pruning sees it: which group each input and output channel belongs to (−1: none).</summary>
public sealed record LayerSite(Module Layer, string Name, int[] InputGroups, int[] OutputGroups, long Positions, long KernelArea, int ConvGroups, bool HasBias)
{
    /// <summary>Multiply-accumulates per image with this many live channels: Cout·(Cin/groups)·k²·output positions.</summary>
    public long Macs(int outputs, int inputs) => (long)outputs * (inputs / ConvGroups) * KernelArea * Positions;

    /// <summary>Weights (and bias) with this many live channels.</summary>
    public long Parameters(int outputs, int inputs) => (long)outputs * (inputs / ConvGroups) * KernelArea + (HasBias ? outputs : 0);
}

/// <summary>A BatchNorm2d, the group of each of its channels, and the Conv2d it directly normalises (if any).</summary>
public sealed record NormSite(BatchNorm2d Norm, string Name, int[] Groups, Module? Producer);

/// <summary>A zero-pad shortcut (option A): the groups of its input channels and of the channels it outputs.</summary>
public sealed record ShortcutSite(ZeroPadShortcut Shortcut, string Name, int[] InputGroups, int[] OutputGroups);

public sealed class DependencyGraph
{
    private DependencyGraph(Module model, IReadOnlyList<PruningGroup> groups, IReadOnlyList<PruningUnit> units,
        IReadOnlyList<LayerSite> layers, IReadOnlyList<NormSite> norms, IReadOnlyList<ShortcutSite> shortcuts, Shape input)
    {
        Model = model;
        Groups = groups;
        Units = units;
        Layers = layers;
        Norms = norms;
        Shortcuts = shortcuts;
        InputShape = input;
    }

    public Module Model { get; }
    public IReadOnlyList<PruningGroup> Groups { get; }
    public IReadOnlyList<PruningUnit> Units { get; }
    /// <summary>Every Conv2d and Linear in network order.</summary>
    public IReadOnlyList<LayerSite> Layers { get; }
    public IReadOnlyList<NormSite> Norms { get; }
    public IReadOnlyList<ShortcutSite> Shortcuts { get; }
    /// <summary>The batch-1 input the graph was traced at ([1, C, H, W]); costs are per image at this size.</summary>
    public Shape InputShape { get; }

    /// <summary>The batch norm applied directly to a layer's output, or null.</summary>
    public NormSite? NormAfter(Module layer) => Norms.FirstOrDefault(n => ReferenceEquals(n.Producer, layer));

    public LayerSite Site(Module layer) => Layers.FirstOrDefault(l => ReferenceEquals(l.Layer, layer))
        ?? throw new ArgumentException($"dependency graph: {layer.GetType().Name} is not a Conv2d/Linear of this model");

    /// <summary>
    /// Traces <paramref name="model"/> at a [1, channels, height, width] input and groups its channels.
    /// <paramref name="ignored"/> layers (Conv2d/Linear) keep all their output channels, and so does every layer tied to them.
    /// </summary>
    public static DependencyGraph Build(Module model, int channels, int height, int width, IEnumerable<Module>? ignored = null)
    {
        var reference = model.Parameters().FirstOrDefault()?.Data
            ?? throw new ArgumentException("dependency graph: the model has no parameters, so there is nothing to prune");
        var names = new Dictionary<Module, string>(ReferenceEqualityComparer.Instance);
        foreach (var (name, module) in model.NamedModules()) names[module] = name;
        var ignoredSet = new HashSet<Module>(ignored ?? [], ReferenceEqualityComparer.Instance);
        using var scope = TensorScope.Begin();
        using var trace = ModelTrace.Record(model, Tensor.Zeros(new Shape(1, channels, height, width), reference.DType, reference.Backend));
        var builder = new Builder(trace);
        foreach (var node in trace.Nodes) builder.Visit(node, ignoredSet);
        builder.FixAll(trace.Input);
        builder.FixAll(trace.Output);
        return builder.Finish(model, names, trace.Input.Shape);
    }

    private sealed class Builder(ModelTrace trace)
    {
        private readonly UnionFind _slots = new();
        private readonly Dictionary<Variable, int> _first = new(ReferenceEqualityComparer.Instance);
        private readonly HashSet<int> _fixed = new();
        private readonly List<(Module Layer, Variable In, Variable Out, long Positions, long KernelArea, int ConvGroups, bool Bias)> _layers = new();
        private readonly List<(BatchNorm2d Norm, Variable X)> _norms = new();
        private readonly Dictionary<Variable, Module> _producerOf = new(ReferenceEqualityComparer.Instance);
        private readonly List<(ZeroPadShortcut Shortcut, Variable In, Variable Out)> _shortcuts = new();
        private readonly Dictionary<Variable, Module> _reported = Reported(trace);

        private static Dictionary<Variable, Module> Reported(ModelTrace trace)
        {
            var reported = new Dictionary<Variable, Module>(ReferenceEqualityComparer.Instance);
            foreach (var (_, module) in trace.Model.NamedModules())
                if (trace.OutputOf(module) is { } output) reported[output] = module;
            return reported;
        }

        private static int Width(Variable v) => v.Shape.Rank >= 2 ? v.Shape[1] : 0;

        private int Slot(Variable v, int channel)
        {
            if (!_first.TryGetValue(v, out int first)) _first[v] = first = _slots.Add(Width(v));
            return first + channel;
        }

        public void FixAll(Variable v)
        {
            for (int c = 0; c < Width(v); c++) _fixed.Add(Slot(v, c));
        }

        private void Tie(Variable x, Variable y)
        {
            if (Width(x) != Width(y)) { FixAll(x); FixAll(y); return; }
            for (int c = 0; c < Width(x); c++) _slots.Union(Slot(x, c), Slot(y, c));
        }

        public void Visit(Node node, HashSet<Module> ignored)
        {
            var inputs = node.Inputs;
            var activations = inputs.Where(v => !trace.IsParameter(v)).ToList();
            var y = node.Output;
            switch (node.Op)
            {
                case Conv2dOp conv when trace.Owner(inputs[1])?.Module is Conv2d layer && activations.Count == 1:
                    AddLayer(layer, activations[0], y, (long)y.Shape[2] * y.Shape[3], (long)layer.Kernel * layer.Kernel, conv.Geometry.Groups, inputs.Count > 2, ignored);
                    if (conv.Geometry.Groups != 1) { FixAll(activations[0]); FixAll(y); }
                    break;
                case LinearOp when trace.Owner(inputs[1])?.Module is Linear layer && activations.Count == 1 && y.Shape.Rank == 2:
                    AddLayer(layer, activations[0], y, 1, 1, 1, inputs.Count > 2, ignored);
                    break;
                case BatchNormOp when trace.Owner(inputs[1])?.Module is BatchNorm2d norm && activations.Count == 1:
                    _norms.Add((norm, activations[0]));
                    Tie(activations[0], y);
                    break;
                case Pool2dOp or GlobalAvgPoolOp or ElementwiseOp when activations.Count == 1:
                    Tie(activations[0], y);
                    break;
                case BroadcastOp:
                    foreach (var a in activations)
                        if (a.Shape.Rank == y.Shape.Rank && Width(a) == Width(y)) Tie(a, y);
                        else { FixAll(a); FixAll(y); }
                    break;
                case PadOp pad when activations.Count == 1:
                    VisitPad(pad, activations[0], y);
                    break;
                case SliceOp slice when activations.Count == 1:
                    if (y.Shape.Normalize(slice.Axis) != 1) Tie(activations[0], y);
                    else for (int j = 0; j < Width(y); j++) _slots.Union(Slot(y, j), Slot(activations[0], slice.Start + j * slice.Step));
                    break;
                case ReshapeOp reshape when activations.Count == 1:
                    VisitReshape(reshape, activations[0], y);
                    break;
                default: // an op whose channel mapping we do not follow: nothing it touches may be cut
                    foreach (var a in activations) FixAll(a);
                    FixAll(y);
                    break;
            }
        }

        private void AddLayer(Module layer, Variable x, Variable y, long positions, long kernelArea, int convGroups, bool bias, HashSet<Module> ignored)
        {
            _layers.Add((layer, x, y, positions, kernelArea, convGroups, bias));
            _producerOf[y] = layer;
            Slot(x, 0);
            Slot(y, 0);
            if (ignored.Contains(layer)) FixAll(y);
        }

        private void VisitPad(PadOp pad, Variable x, Variable y)
        {
            int channelIndex = 1 - (y.Shape.Rank - pad.Padding.Count); // which entry of Padding is the channel axis
            if (channelIndex < 0 || pad.Padding[channelIndex] == (0, 0)) { Tie(x, y); return; }
            if (pad.Value != 0) { FixAll(x); FixAll(y); return; } // constant channels are not zero: cannot drop them
            int before = pad.Padding[channelIndex].Before;
            for (int c = 0; c < Width(x); c++) _slots.Union(Slot(x, c), Slot(y, c + before));
            Slot(y, 0);
            if (_reported.TryGetValue(y, out var module) && module is ZeroPadShortcut shortcut) _shortcuts.Add((shortcut, x, y));
            else { FixAll(x); FixAll(y); } // a pad we could not re-parameterise after cutting
        }

        private void VisitReshape(ReshapeOp reshape, Variable x, Variable y)
        {
            var (from, to) = (reshape.From, reshape.To);
            bool flatten = from.Rank >= 2 && to.Rank == 2 && from[0] == to[0] && to[1] == from.Numel / from[0];
            if (!flatten) { FixAll(x); FixAll(y); return; }
            int perChannel = to[1] / from[1];
            for (int f = 0; f < to[1]; f++) _slots.Union(Slot(y, f), Slot(x, f / perChannel));
        }

        public DependencyGraph Finish(Module model, Dictionary<Module, string> names, Shape input)
        {
            var fixedRoots = _fixed.Select(_slots.Find).ToHashSet();
            var groupOfRoot = new Dictionary<int, int>();
            int GroupOf(Variable v, int c)
            {
                int root = _slots.Find(Slot(v, c));
                return groupOfRoot.TryGetValue(root, out int g) ? g : -1;
            }
            // Groups are numbered in network order of their first producing channel.
            foreach (var (_, _, y, _, _, _, _) in _layers)
                for (int c = 0; c < Width(y); c++)
                {
                    int root = _slots.Find(Slot(y, c));
                    if (!fixedRoots.Contains(root) && !groupOfRoot.ContainsKey(root)) groupOfRoot[root] = groupOfRoot.Count;
                }
            int count = groupOfRoot.Count;
            var producers = Enumerable.Range(0, count).Select(_ => new List<ChannelRef>()).ToArray();
            var consumers = Enumerable.Range(0, count).Select(_ => new List<ChannelRef>()).ToArray();
            var normRefs = Enumerable.Range(0, count).Select(_ => new List<ChannelRef>()).ToArray();
            var layers = new List<LayerSite>();
            foreach (var (layer, x, y, positions, kernelArea, convGroups, bias) in _layers)
            {
                var inGroups = Enumerable.Range(0, Width(x)).Select(c => GroupOf(x, c)).ToArray();
                var outGroups = Enumerable.Range(0, Width(y)).Select(c => GroupOf(y, c)).ToArray();
                for (int c = 0; c < inGroups.Length; c++) if (inGroups[c] >= 0) consumers[inGroups[c]].Add(new ChannelRef(layer, c));
                for (int c = 0; c < outGroups.Length; c++) if (outGroups[c] >= 0) producers[outGroups[c]].Add(new ChannelRef(layer, c));
                layers.Add(new LayerSite(layer, names[layer], inGroups, outGroups, positions, kernelArea, convGroups, bias));
            }
            var norms = new List<NormSite>();
            foreach (var (norm, x) in _norms)
            {
                var channelGroups = Enumerable.Range(0, Width(x)).Select(c => GroupOf(x, c)).ToArray();
                for (int c = 0; c < channelGroups.Length; c++) if (channelGroups[c] >= 0) normRefs[channelGroups[c]].Add(new ChannelRef(norm, c));
                norms.Add(new NormSite(norm, names[norm], channelGroups, _producerOf.GetValueOrDefault(x)));
            }
            var shortcuts = _shortcuts.Select(s => new ShortcutSite(s.Shortcut, names[s.Shortcut],
                Enumerable.Range(0, Width(s.In)).Select(c => GroupOf(s.In, c)).ToArray(),
                Enumerable.Range(0, Width(s.Out)).Select(c => GroupOf(s.Out, c)).ToArray())).ToList();

            var groups = Enumerable.Range(0, count).Select(g => new PruningGroup(g, producers[g], normRefs[g], consumers[g])).ToList();
            var units = new List<PruningUnit>();
            var unitByKey = new Dictionary<string, List<PruningGroup>>();
            var order = new Dictionary<Module, int>(ReferenceEqualityComparer.Instance);
            for (int i = 0; i < layers.Count; i++) order[layers[i].Layer] = i;
            var keyLayers = new Dictionary<string, List<Module>>();
            foreach (var group in groups)
            {
                var producerLayers = group.Producers.Select(p => p.Layer).DistinctBy(order.GetValueOrDefault).OrderBy(l => order[l]).ToList();
                string key = string.Join(",", producerLayers.Select(l => order[l]));
                if (!unitByKey.TryGetValue(key, out var list))
                {
                    unitByKey[key] = list = new List<PruningGroup>();
                    keyLayers[key] = producerLayers;
                }
                list.Add(group);
            }
            foreach (var (key, list) in unitByKey.OrderBy(u => order[keyLayers[u.Key][0]]).ThenBy(u => u.Value[0].Id))
            {
                var producerLayers = keyLayers[key];
                string name = names[producerLayers[0]] + (producerLayers.Count > 1 ? $" +{producerLayers.Count - 1}" : "");
                var unit = new PruningUnit(name, producerLayers, list) { Index = units.Count };
                foreach (var g in list) g.Unit = unit;
                units.Add(unit);
            }
            return new DependencyGraph(model, groups, units, layers, norms, shortcuts, input);
        }
    }
}
