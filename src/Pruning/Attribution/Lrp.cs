// LRP relevance (Yeom et al., "Pruning by Explaining", 2021; docs/algorithms.md "LRP relevance") over any model the tape
// records. One forward pass is traced (ModelTrace, evaluation mode); the relevance starts at the logits (1 at the true
// or predicted class) and is walked back through the trace's nodes in reverse order, one rule per op (LrpRules), with
// no per-architecture code: residual branches simply accumulate the relevance their consumers hand back. A batch
// norm that follows a conv is fused into it for the pass — W' = W·γ/σ, σ = √(running_var + eps) — computed on the
// fly from the module's statistics, so the model is never modified. (The fused bias b' = (b − μ)·γ/σ + β is not
// needed: both conv rules, z⁺ and z^B, ignore the bias.)
using Standalone.Autograd;
using Standalone.Backends;
using Standalone.Models.Nn;

namespace Standalone.Pruning.Attribution;

public static class Lrp
{
    /// <summary>
    /// Explains <paramref name="images"/> [N, C, H, W] (normalised as the model expects) with LRP. Relevance starts at
    /// <paramref name="labels"/> (Int64 [N]) or, without labels or with <see cref="LrpStart.Predicted"/>, at the
    /// predicted class. The model is run in evaluation mode (its mode is restored) and left unchanged.
    /// </summary>
    public static LrpResult Explain(Module model, Tensor images, Tensor? labels, LrpOptions? options = null)
    {
        options ??= LrpOptions.Default;
        if (images.Rank != 4) throw new ArgumentException($"LRP: images must be [N, C, H, W], got {images.Shape}");
        var (low, high) = options.InputBounds(images.Shape[1]);
        using var scope = TensorScope.Begin();
        using var trace = ModelTrace.Record(model, images);
        var walk = new Walk(trace, options, low, high);
        var (start, classes) = StartRelevance(trace.Output.Data, options.Start == LrpStart.Label ? labels : null);
        return walk.Run(TensorScope.Keep(start), classes);
    }

    /// <summary>One-hot [N, K] at each sample's class: the label, or the arg-max logit when labels is null.</summary>
    private static (Tensor Start, long[] Classes) StartRelevance(Tensor logits, Tensor? labels)
    {
        if (logits.Rank != 2) throw new ArgumentException($"LRP: the model must output logits [N, classes], got {logits.Shape}");
        int n = logits.Shape[0], k = logits.Shape[1];
        Tensor index;
        if (labels == null) index = logits.ArgMax(1);
        else if (labels.Rank != 1 || labels.Shape[0] != n || labels.DType.IsFloat())
            throw new ArgumentException($"LRP: labels must be integer [{n}] (one per image), got {labels.Shape} {labels.DType}");
        else index = labels.DType == DType.Int64 ? labels.Contiguous() : labels.To(DType.Int64);
        var classes = index.ToArray<long>();
        foreach (long c in classes)
            if (c < 0 || c >= k) throw new ArgumentException($"LRP: label {c} is outside the model's {k} classes");
        var start = Tensor.Zeros(logits.Shape, logits.DType, logits.Backend);
        start.ScatterAddColumns(index, Tensor.Ones(new Shape(n), logits.DType, logits.Backend));
        return (start, classes);
    }

    /// <summary>The backward walk: relevance per variable, the layers it passed, the conv channel scores.</summary>
    private sealed class Walk
    {
        private readonly ModelTrace _trace;
        private readonly LrpOptions _options;
        private readonly Tensor _low, _high;
        private readonly Dictionary<Variable, Tensor> _relevance = new(ReferenceEqualityComparer.Instance);
        private readonly Dictionary<Node, string> _names = new(ReferenceEqualityComparer.Instance);
        private readonly Dictionary<Conv2d, Tensor?> _channelSums = new(ReferenceEqualityComparer.Instance);
        private readonly HashSet<Node> _fused = new(ReferenceEqualityComparer.Instance);
        private readonly List<LrpLayer> _layers = new();

        public Walk(ModelTrace trace, LrpOptions options, double[] low, double[] high)
        {
            _trace = trace;
            _options = options;
            var backend = trace.Input.Data.Backend;
            var dtype = trace.Input.DType;
            _low = Bounds(low, dtype, backend);
            _high = Bounds(high, dtype, backend);
            var moduleNames = trace.Model.NamedModules().ToDictionary(m => m.Module, m => m.Name);
            foreach (var (_, module) in trace.Model.NamedModules())
                if (module is Conv2d conv) _channelSums[conv] = null;
            var counts = new Dictionary<string, int>();
            foreach (var node in trace.Nodes)
            {
                if (node.Op is Conv2dOp or LinearOp or BatchNormOp && trace.Owner(node.Inputs[1]) is { } owner)
                    _names[node] = moduleNames[owner.Module];
                else
                {
                    counts[node.Op.Name] = counts.GetValueOrDefault(node.Op.Name) + 1;
                    _names[node] = $"{node.Op.Name}#{counts[node.Op.Name] - 1}";
                }
            }
        }

        /// <summary>Per-channel input bounds as [1, C, 1, 1] in the model's dtype, on its device.</summary>
        private static Tensor Bounds(double[] values, DType dtype, IBackend backend) => dtype == DType.Float64
            ? Tensor.FromArray<double>(values, new Shape(1, values.Length, 1, 1), backend)
            : Tensor.FromArray<float>(Array.ConvertAll(values, v => (float)v), new Shape(1, values.Length, 1, 1), backend);

        public LrpResult Run(Tensor start, long[] classes)
        {
            _relevance[_trace.Output] = start;
            var nodes = _trace.Nodes;
            for (int i = nodes.Count - 1; i >= 0; i--)
            {
                var node = nodes[i];
                if (_fused.Contains(node) || !_relevance.Remove(node.Output, out var relevance)) continue;
                using (TensorScope.Begin()) Apply(node, relevance);
                if (!_options.KeepRelevance) relevance.Dispose();
            }
            var input = _relevance.Remove(_trace.Input, out var r) ? r : TensorScope.Keep(Tensor.ZerosLike(_trace.Input.Data));
            _layers.Add(new LrpLayer("input", "input", SampleSums(input), input));
            foreach (var leftover in _relevance.Values) leftover.Dispose();
            _layers.Reverse();
            return new LrpResult(ChannelScores(), _layers, classes);
        }

        private void Apply(Node node, Tensor relevance)
        {
            var inputs = node.Inputs;
            var x = inputs[0];
            if (node.Op is BatchNormOp batchNorm)
            {
                var conv = FusableConv(node, batchNorm);
                _fused.Add(conv);
                Record(conv, "conv2d+batch_norm", relevance);
                Give(conv.Inputs[0], ConvRule(conv, FusedWeight(conv, node, batchNorm), relevance));
                return;
            }
            Record(node, node.Op.Name, relevance);
            switch (node.Op)
            {
                case Conv2dOp:
                    Give(x, ConvRule(node, inputs[1].Data, relevance));
                    break;
                case LinearOp:
                    Give(x, LrpRules.LinearEpsilon(x.Data, inputs[1].Data, node.Output.Data, relevance, _options.Epsilon));
                    break;
                case ElementwiseOp { Kind: "relu" or "dropout" }:
                    Give(x, relevance.Share());
                    break;
                case Pool2dOp { Kind: PoolKind.Max } pool:
                    Give(x, LrpRules.MaxPool(x.Data, relevance, pool.Geometry));
                    break;
                case Pool2dOp pool:
                    Give(x, LrpRules.AvgPool(x.Data, node.Output.Data, relevance, pool.Geometry, _options.Stabilizer));
                    break;
                case GlobalAvgPoolOp:
                    Give(x, LrpRules.GlobalAvgPool(x.Data, node.Output.Data, relevance, _options.Stabilizer));
                    break;
                case BroadcastOp { Kind: "add" }:
                    var (a, b) = LrpRules.Add(x.Data, inputs[1].Data, node.Output.Data, relevance, _options.Stabilizer);
                    Give(x, a);
                    Give(inputs[1], b);
                    break;
                case PadOp pad:
                    Give(x, LrpRules.Pad(x.Shape, pad.Padding, relevance));
                    break;
                case SliceOp slice:
                    Give(x, LrpRules.Slice(x.Shape, slice.Axis, slice.Start, slice.Length, slice.Step, relevance));
                    break;
                case ReshapeOp reshape:
                    Give(x, relevance.Reshape(reshape.From));
                    break;
                default:
                    throw new NotSupportedException($"LRP: no relevance rule for op '{node.Op.Name}' (layer {_names[node]}); supported: conv2d (+batch_norm), linear, relu, dropout, max/avg pool, global average pool, add, pad, slice, reshape");
            }
        }

        /// <summary>z^B for the conv that reads the pixels (the traced input), z⁺ for every other conv.</summary>
        private Tensor ConvRule(Node conv, Tensor weight, Tensor relevance)
        {
            var x = conv.Inputs[0];
            var geometry = ((Conv2dOp)conv.Op).Geometry;
            return ReferenceEquals(x, _trace.Input)
                ? LrpRules.ConvZBox(x.Data, weight, _low, _high, relevance, geometry, _options.Stabilizer)
                : LrpRules.ConvZPlus(x.Data, weight, relevance, geometry, _options.Stabilizer, NonNegative(x));
        }

        /// <summary>The conv node a batch norm directly follows (its only consumer), which the pass fuses it into.</summary>
        private Node FusableConv(Node batchNormNode, BatchNormOp op)
        {
            var x = batchNormNode.Inputs[0];
            if (op.Training) throw new InvalidOperationException($"LRP: batch norm {_names[batchNormNode]} was traced in training mode; LRP fuses running statistics");
            if (x.Creator is not { Op: Conv2dOp } conv || _trace.Consumers(x).Count != 1)
                throw new NotSupportedException($"LRP: batch norm {_names[batchNormNode]} does not directly follow a conv whose only consumer it is, so it cannot be fused (no rule for a lone batch norm)");
            return conv;
        }

        /// <summary>W' = W·γ/σ per output channel, σ = √(running_var + eps) of the batch norm's module.</summary>
        private Tensor FusedWeight(Node conv, Node batchNormNode, BatchNormOp op)
        {
            var gamma = batchNormNode.Inputs[1];
            if (_trace.Owner(gamma)?.Module is not BatchNorm2d module)
                throw new NotSupportedException($"LRP: batch norm {_names[batchNormNode]} has no BatchNorm2d module holding its running statistics");
            var scale = module.RunningVar.Affine(1, op.Eps).Rsqrt().Mul(gamma.Data);
            var weight = conv.Inputs[1].Data;
            return weight.Mul(scale.Reshape(weight.Shape[0], 1, 1, 1));
        }

        /// <summary>Adds relevance to what v has received from its other consumers (taking it out of the step's scope).</summary>
        private void Give(Variable v, Tensor relevance)
        {
            TensorScope.Keep(relevance);
            if (_relevance.Remove(v, out var earlier))
            {
                var sum = earlier.Add(relevance);
                earlier.Dispose();
                relevance.Dispose();
                relevance = TensorScope.Keep(sum);
            }
            _relevance[v] = relevance;
        }

        /// <summary>
        /// Whether v is known to hold no negative value from how it was made: a ReLU's output, or a max/average pool or
        /// zero pad of one. Saves the z⁺ rule a reduction and a read-back per conv; unknown inputs are checked by value.
        /// </summary>
        private static bool? NonNegative(Variable v) => v.Creator?.Op switch
        {
            ElementwiseOp { Kind: "relu" } => true,
            Pool2dOp or PadOp { Value: 0 } => v.Creator.Inputs.Count == 1 ? NonNegative(v.Creator.Inputs[0]) : null,
            _ => null,
        };

        /// <summary>
        /// Notes the relevance at node's output as a layer (the layer owns it when relevance is kept; otherwise Run
        /// disposes it once the rule is applied) and, for a conv, adds Σ|R| per channel to its sums. The sums stay on
        /// the device until the walk ends, so the pass never waits for a read-back.
        /// </summary>
        private void Record(Node node, string op, Tensor relevance)
        {
            if (node.Op is Conv2dOp && _trace.Owner(node.Inputs[1])?.Module is Conv2d module)
            {
                var sums = relevance.Abs().Sum([0, 2, 3]);
                if (_channelSums[module] is { } earlier)
                {
                    sums = sums.Add(earlier);
                    earlier.Dispose();
                }
                _channelSums[module] = TensorScope.Keep(sums);
            }
            _layers.Add(new LrpLayer(_names[node], op, _options.LayerSums ? SampleSums(relevance) : [], _options.KeepRelevance ? relevance : null));
        }

        /// <summary>Reads the channel sums back (zeros for a conv the relevance never reached) and frees them.</summary>
        private Dictionary<Conv2d, double[]> ChannelScores()
        {
            var scores = new Dictionary<Conv2d, double[]>(ReferenceEqualityComparer.Instance);
            foreach (var (conv, sums) in _channelSums)
            {
                scores[conv] = sums?.ToDoubleArray() ?? new double[conv.OutChannels];
                sums?.Dispose();
            }
            return scores;
        }

        private static double[] SampleSums(Tensor relevance) =>
            relevance.Reshape(relevance.Shape[0], -1).Sum(1).ToDoubleArray();
    }
}
