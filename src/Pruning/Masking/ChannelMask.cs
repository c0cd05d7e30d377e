// Which groups are pruned, and the masked model that follows from it. Masking a group zeroes, for every producer
// channel, the filter W[c] and bias b[c], and for every batch norm on it γ_c and β_c — all four together: zeroing
// only W[c] would leak ReLU(β_c) through the BN (docs/algorithms.md). A masked channel then outputs exactly zero in
// training and evaluation mode, which is why compaction reproduces the masked model. Fine-tuning re-applies the
// mask after every optimizer step (gradients reach γ and β of a masked channel) and clears the optimizer state of
// masked entries so momentum cannot revive them.
using Standalone.Autograd;
using Standalone.Autograd.Optim;
using Standalone.Models.Nn;
using Standalone.Pruning.Graph;

namespace Standalone.Pruning.Masking;

public sealed class ChannelMask
{
    private readonly bool[] _pruned;
    // Per parameter: a 0/1 multiplier shaped to broadcast along the parameter's first axis; rebuilt when the mask changes.
    private List<(Variable Parameter, Tensor Keep)>? _multipliers;

    public ChannelMask(DependencyGraph graph)
    {
        Graph = graph;
        _pruned = new bool[graph.Groups.Count];
    }

    public DependencyGraph Graph { get; }
    public int PrunedCount { get; private set; }
    public bool IsPruned(int group) => _pruned[group];
    public bool IsPruned(PruningGroup group) => _pruned[group.Id];
    public IEnumerable<PruningGroup> PrunedGroups => Graph.Groups.Where(g => _pruned[g.Id]);

    /// <summary>Live channels of a unit.</summary>
    public int Alive(PruningUnit unit) => unit.Groups.Count(g => !_pruned[g.Id]);

    /// <summary>Marks groups as pruned (call <see cref="Apply"/> to zero their parameters).</summary>
    public void Prune(IEnumerable<PruningGroup> groups)
    {
        foreach (var g in groups)
        {
            if (!ReferenceEquals(Graph.Groups[g.Id], g)) throw new ArgumentException($"channel mask: {g} belongs to another dependency graph");
            if (_pruned[g.Id]) continue;
            _pruned[g.Id] = true;
            PrunedCount++;
            DisposeMultipliers();
        }
    }

    /// <summary>Whether channel c of a site (group id or −1 for channels outside every group) is alive.</summary>
    internal bool Alive(int group) => group < 0 || !_pruned[group];

    /// <summary>Zeroes the parameters (and the optimizer state, when given) of every pruned group.</summary>
    public void Apply(Optimizer? optimizer = null)
    {
        if (PrunedCount == 0) return;
        _multipliers ??= BuildMultipliers();
        using var noGrad = Grad.Disabled();
        foreach (var (parameter, keep) in _multipliers)
        {
            parameter.Data.MulInPlace(keep);
            if (optimizer == null) continue;
            foreach (var (_, state) in optimizer.StateOf(parameter)) state.MulInPlace(keep);
        }
    }

    private List<(Variable, Tensor)> BuildMultipliers()
    {
        var result = new List<(Variable, Tensor)>();
        void Add(Variable? parameter, int[] groups)
        {
            if (parameter is null || groups.All(Alive)) return;
            var shape = new int[parameter.Shape.Rank];
            Array.Fill(shape, 1);
            shape[0] = groups.Length;
            var keep = groups.Select(g => Alive(g) ? 1f : 0f).ToArray();
            using (TensorScope.Suspend()) result.Add((parameter, Tensor.FromArray<float>(keep, new Shape(shape), parameter.Data.Backend)));
        }
        foreach (var site in Graph.Layers)
        {
            var (weight, bias) = site.Layer switch
            {
                Conv2d c => (c.Weight, c.Bias),
                Linear l => (l.Weight, l.Bias),
                _ => throw new InvalidOperationException($"channel mask: unexpected layer {site.Layer.GetType().Name}"),
            };
            Add(weight, site.OutputGroups);
            Add(bias, site.OutputGroups);
        }
        foreach (var norm in Graph.Norms)
        {
            Add(norm.Norm.Weight, norm.Groups);
            Add(norm.Norm.Bias, norm.Groups);
        }
        return result;
    }

    private void DisposeMultipliers()
    {
        if (_multipliers == null) return;
        foreach (var (_, keep) in _multipliers) keep.Dispose();
        _multipliers = null;
    }
}
