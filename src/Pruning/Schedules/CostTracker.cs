// Incremental MACs / parameters / channel counts while groups are added to a mask one by one: pruning a group
// changes only the layers it touches, so each step costs O(members) instead of a pass over the network. Used by
// the selection that walks a ranking until a target is met.
using Standalone.Pruning.Graph;
using Standalone.Pruning.Masking;

namespace Standalone.Pruning.Schedules;

internal sealed class CostTracker
{
    private readonly DependencyGraph _graph;
    private readonly int[] _out, _in;
    private readonly Dictionary<object, int> _layerIndex = new(ReferenceEqualityComparer.Instance);
    private readonly long _baselineMacs, _baselineParameters, _other;

    public CostTracker(ChannelMask mask)
    {
        _graph = mask.Graph;
        var cost = PruningCost.Of(mask);
        (_baselineMacs, _baselineParameters) = (cost.BaselineMacs, cost.BaselineParameters);
        _out = cost.Layers.Select(l => l.OutputsAfter).ToArray();
        _in = cost.Layers.Select(l => l.InputsAfter).ToArray();
        for (int i = 0; i < _graph.Layers.Count; i++) _layerIndex[_graph.Layers[i].Layer] = i;
        Macs = cost.Macs;
        Parameters = cost.Parameters;
        AliveGroups = _graph.Groups.Count - mask.PrunedCount;
        _other = cost.Parameters - cost.Layers.Sum(l => l.ParametersAfter) - 2L * _graph.Norms.Sum(n => n.Groups.Count(mask.Alive));
    }

    public long Macs { get; private set; }
    public long Parameters { get; private set; }
    public int AliveGroups { get; private set; }

    public double Removed(PruningTarget target) => target.Kind switch
    {
        TargetKind.Macs => 1 - (double)Macs / _baselineMacs,
        TargetKind.Parameters => 1 - (double)Parameters / _baselineParameters,
        _ => 1 - (double)AliveGroups / _graph.Groups.Count,
    };

    public bool Reached(PruningTarget target) => Removed(target) >= target.Fraction - 1e-12;

    /// <summary>
    /// What removing these live groups (together) would save, as a fraction of the baseline in the target's unit —
    /// MACs, parameters or channels — without removing them.
    /// </summary>
    public double Saving(IReadOnlyList<PruningGroup> groups, TargetKind kind)
    {
        if (kind == TargetKind.Channels) return (double)groups.Count / _graph.Groups.Count;
        var outs = new Dictionary<int, int>();
        var ins = new Dictionary<int, int>();
        long norms = 0;
        foreach (var group in groups)
        {
            foreach (var p in group.Producers) { int i = _layerIndex[p.Layer]; outs[i] = outs.GetValueOrDefault(i) + 1; }
            foreach (var c in group.Consumers) { int i = _layerIndex[c.Layer]; ins[i] = ins.GetValueOrDefault(i) + 1; }
            norms += group.Norms.Count;
        }
        long macs = 0, parameters = 2 * norms;
        foreach (int i in outs.Keys.Union(ins.Keys))
        {
            var site = _graph.Layers[i];
            int o = _out[i] - outs.GetValueOrDefault(i), n = _in[i] - ins.GetValueOrDefault(i);
            macs += site.Macs(_out[i], _in[i]) - site.Macs(o, n);
            parameters += site.Parameters(_out[i], _in[i]) - site.Parameters(o, n);
        }
        return kind == TargetKind.Macs ? (double)macs / _baselineMacs : (double)parameters / _baselineParameters;
    }

    /// <summary>Accounts for one more pruned group.</summary>
    public void Remove(PruningGroup group)
    {
        var touched = new HashSet<int>();
        foreach (var p in group.Producers) touched.Add(_layerIndex[p.Layer]);
        foreach (var c in group.Consumers) touched.Add(_layerIndex[c.Layer]);
        foreach (int i in touched)
        {
            var site = _graph.Layers[i];
            Macs -= site.Macs(_out[i], _in[i]);
            Parameters -= site.Parameters(_out[i], _in[i]);
        }
        foreach (var p in group.Producers) _out[_layerIndex[p.Layer]]--;
        foreach (var c in group.Consumers) _in[_layerIndex[c.Layer]]--;
        foreach (int i in touched)
        {
            var site = _graph.Layers[i];
            Macs += site.Macs(_out[i], _in[i]);
            Parameters += site.Parameters(_out[i], _in[i]);
        }
        Parameters -= 2L * group.Norms.Count;
        AliveGroups--;
    }
}
