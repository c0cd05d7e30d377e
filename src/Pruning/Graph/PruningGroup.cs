// The units pruning works in. A group is one channel of the network's "channel space": every conv/linear output
// channel, batch-norm channel and consumer input channel that must be removed together (a conv's filter with its BN
// and the matching input slice of every layer reading it; across residual additions, the same channel of every
// producer feeding the sum). A unit collects the groups that share the same producing layers — a plain conv's
// channels, or one residual stream — and is what per-layer ranking, quotas and reports speak of.
using Standalone.Models.Nn;

namespace Standalone.Pruning.Graph;

/// <summary>One channel of one layer: an output channel of a Conv2d/Linear, a BatchNorm2d channel, or an input channel.</summary>
public readonly record struct ChannelRef(Module Layer, int Channel);

public sealed class PruningGroup
{
    internal PruningGroup(int id, IReadOnlyList<ChannelRef> producers, IReadOnlyList<ChannelRef> norms, IReadOnlyList<ChannelRef> consumers)
    {
        Id = id;
        Producers = producers;
        Norms = norms;
        Consumers = consumers;
    }

    /// <summary>Index in <see cref="DependencyGraph.Groups"/>.</summary>
    public int Id { get; }
    /// <summary>The conv/linear output channels whose values meet in this channel (one, or one per residual producer).</summary>
    public IReadOnlyList<ChannelRef> Producers { get; }
    /// <summary>The batch-norm channels normalising it.</summary>
    public IReadOnlyList<ChannelRef> Norms { get; }
    /// <summary>The input channels (conv) or input features (linear, one per position after a flatten) that read it.</summary>
    public IReadOnlyList<ChannelRef> Consumers { get; }
    public PruningUnit Unit { get; internal set; } = null!;

    public override string ToString() => $"group {Id} ({Unit.Name}, {Producers.Count} producer channel{(Producers.Count == 1 ? "" : "s")})";
}

public sealed class PruningUnit
{
    internal PruningUnit(string name, IReadOnlyList<Module> producerLayers, IReadOnlyList<PruningGroup> groups)
    {
        Name = name;
        ProducerLayers = producerLayers;
        Groups = groups;
    }

    /// <summary>The state-dict name of the first producing layer, with "+N" when N more layers feed the same channels.</summary>
    public string Name { get; }
    /// <summary>The Conv2d/Linear layers whose output channels these groups are, in network order.</summary>
    public IReadOnlyList<Module> ProducerLayers { get; }
    /// <summary>The unit's groups in channel order; their count is the unit's width before pruning.</summary>
    public IReadOnlyList<PruningGroup> Groups { get; }
    public int Index { get; internal set; }

    public override string ToString() => $"{Name} ({Groups.Count} channels)";
}
