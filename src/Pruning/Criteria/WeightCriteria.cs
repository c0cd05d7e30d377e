// Criteria that read only the weights: filter magnitude (Li et al. 2017), batch-norm scale (network slimming) and
// the random floor. No batches are needed.
using Standalone.Models.Nn;
using Standalone.Pruning.Graph;

namespace Standalone.Pruning.Criteria;

/// <summary>l1 / l2: ‖W[c]‖₁ or ‖W[c]‖₂ of each producing filter (conv or linear row), summed over the group.</summary>
public sealed class MagnitudeCriterion(int norm) : IPruningCriterion
{
    public string Name => norm == 1 ? "l1" : "l2";
    public bool NeedsData => false;

    public double[] Score(ScoringContext context)
    {
        var perLayer = new Dictionary<Module, double[]>(ReferenceEqualityComparer.Instance);
        foreach (var layer in context.ProducerLayers())
        {
            var weight = layer is Conv2d c ? c.Weight.Data : ((Linear)layer).Weight.Data;
            using var flat = weight.Reshape(weight.Shape[0], -1);
            using var reduced = norm == 1 ? flat.Abs().Sum(1) : flat.Square().Sum(1);
            perLayer[layer] = reduced.ToDoubleArray().Select(v => norm == 1 ? v : Math.Sqrt(v)).ToArray();
        }
        return context.Collect(p => perLayer[p.Layer][p.Channel]);
    }
}

/// <summary>bn-scale: |γ_c| of every batch norm on the group (groups without a batch norm score 0).</summary>
public sealed class BnScaleCriterion : IPruningCriterion
{
    public string Name => "bn-scale";
    public bool NeedsData => false;

    public double[] Score(ScoringContext context)
    {
        var gammas = new Dictionary<Module, double[]>(ReferenceEqualityComparer.Instance);
        foreach (var n in context.Graph.Norms) gammas[n.Norm] = n.Norm.Weight.Data.ToDoubleArray();
        var scores = context.NewScores();
        foreach (var unit in context.ScoredUnits)
            foreach (var group in unit.Groups)
                if (!context.Mask.IsPruned(group)) scores[group.Id] = group.Norms.Sum(n => Math.Abs(gammas[n.Layer][n.Channel]));
        return scores;
    }
}

/// <summary>random: uniform scores from a seeded generator (the sanity floor every criterion should beat).</summary>
public sealed class RandomCriterion(ulong seed) : IPruningCriterion, IRandomizedCriterion
{
    private readonly Rng _rng = new(seed);
    public Rng Rng => _rng;
    public string Name => "random";
    public bool NeedsData => false;

    public double[] Score(ScoringContext context)
    {
        var scores = context.NewScores();
        foreach (var unit in context.ScoredUnits)
            foreach (var group in unit.Groups)
                if (!context.Mask.IsPruned(group)) scores[group.Id] = _rng.NextDouble();
        return scores;
    }
}
