// The contract every importance criterion meets (docs/algorithms.md): given the dependency graph, the current mask and
// a source of scoring batches, return one score per group — higher means more important, kept longer. A group's
// score is the sum of its members' (each producing layer's channel) scores. Groups already pruned, and groups
// outside the units asked for, are NaN.
using Standalone.Models.Nn;
using Standalone.Pruning.Graph;
using Standalone.Pruning.Masking;

namespace Standalone.Pruning.Criteria;

public interface IPruningCriterion
{
    /// <summary>The CLI name ("l1", "taylor-sq", "singe", ...).</summary>
    string Name { get; }
    /// <summary>Whether the criterion looks at data (false: weights only, no batches are read).</summary>
    bool NeedsData { get; }
    /// <summary>Scores every live group of <see cref="ScoringContext.Units"/> (or of the whole graph).</summary>
    double[] Score(ScoringContext context);
}

/// <summary>A criterion that draws random numbers; resumable runs save and restore its generator.</summary>
public interface IRandomizedCriterion
{
    Rng Rng { get; }
}

/// <summary>A batch of normalised images [N, C, H, W] and their labels (Int64 [N]) on the model's device.</summary>
public readonly record struct ScoringBatch(Tensor Images, Tensor Labels);

public sealed record ScoringContext
{
    public required DependencyGraph Graph { get; init; }
    public required ChannelMask Mask { get; init; }
    /// <summary>Yields the batches to score on; each call may continue a stream (fresh batches) or repeat a fixed set.</summary>
    public Func<IEnumerable<ScoringBatch>> Batches { get; init; } = () => [];
    /// <summary>Restrict scoring to these units (entwined schedules score one layer at a time); null: every unit.</summary>
    public IReadOnlyList<PruningUnit>? Units { get; init; }

    public Module Model => Graph.Model;
    public IEnumerable<PruningUnit> ScoredUnits => Units ?? Graph.Units;

    /// <summary>Scores of the scored units' live groups from per-producer-channel scores (summed per group).</summary>
    internal double[] Collect(Func<ChannelRef, double> producerScore)
    {
        var scores = NewScores();
        foreach (var unit in ScoredUnits)
            foreach (var group in unit.Groups)
                if (!Mask.IsPruned(group)) scores[group.Id] = group.Producers.Sum(producerScore);
        return scores;
    }

    internal double[] NewScores()
    {
        var scores = new double[Graph.Groups.Count];
        Array.Fill(scores, double.NaN);
        return scores;
    }

    /// <summary>The producing layers of the scored units (each once, network order).</summary>
    internal IReadOnlyList<Module> ProducerLayers() =>
        Graph.Layers.Select(l => l.Layer).Where(l => ScoredUnits.Any(u => u.ProducerLayers.Contains(l))).ToList();
}
