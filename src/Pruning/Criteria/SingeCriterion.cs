// SInGE (Yvinec et al., NeurIPS 2022) as docs/algorithms.md defines it: integrated gradients along the path that scales a
// channel's parameters P_c = [W[c], b[c], γ_c, β_c] from their value (μ = 1) to removal (μ = 0):
//   A_c = P_c ⊙ (1/S) Σ_{k=1..S} ∇_{P_c} L(θ(k/S)),   score = ‖A_c‖₂ (or ‖A_c‖₁)
// L is the labelled cross-entropy (batch mean) in evaluation mode, so μ = 0 really removes the channel. The `layer`
// path scales every live channel of one unit at once (S forward+backward passes per batch and unit); the `channel`
// path gives each group its own path (S passes per group: exact, for small models and tests). A group with several
// producers (a residual stream) scales all of them together and scores the sum of their ‖A_c‖.
using Standalone.Autograd;
using Standalone.Models.Nn;
using Standalone.Pruning.Graph;

namespace Standalone.Pruning.Criteria;

public enum IgPath { Layer, Channel }

public sealed record SingeOptions
{
    public int Steps { get; init; } = 8;
    public IgPath Path { get; init; } = IgPath.Layer;
    /// <summary>1 or 2: the norm of A_c.</summary>
    public int Norm { get; init; } = 2;
}

public sealed class SingeCriterion(SingeOptions options) : IPruningCriterion
{
    public string Name => "singe";

    /// <summary>Σ of every entry of A over each scored group's parameters (signed), from the last Score call: the
    /// completeness check compares it with L(θ) − L(θ without the group).</summary>
    internal Dictionary<int, double> SignedTotals { get; } = new();
    public bool NeedsData => true;
    public SingeOptions Options => options;

    public double[] Score(ScoringContext context)
    {
        if (options.Steps < 1) throw new ArgumentException($"singe: steps must be ≥ 1, got {options.Steps}");
        var scores = context.NewScores();
        SignedTotals.Clear();
        var batches = context.Batches().ToList();
        if (batches.Count == 0) throw new InvalidOperationException("singe: no scoring batches were given");
        var model = context.Model;
        bool wasTraining = model.Training;
        model.Eval();
        try
        {
            foreach (var unit in context.ScoredUnits)
            {
                var live = unit.Groups.Where(g => !context.Mask.IsPruned(g)).ToList();
                var paths = options.Path == IgPath.Layer ? [live] : live.Select(g => new List<PruningGroup> { g }).ToList();
                foreach (var path in paths)
                {
                    var channelScores = Integrate(context.Graph, model, path, batches);
                    foreach (var g in path) scores[g.Id] = channelScores[g.Id];
                }
            }
        }
        finally
        {
            model.Train(wasTraining);
        }
        return scores;
    }

    /// <summary>Runs the S-step path that scales <paramref name="path"/>'s channels and returns each group's score (by group id).</summary>
    private Dictionary<int, double> Integrate(DependencyGraph graph, Module model, IReadOnlyList<PruningGroup> path, IReadOnlyList<ScoringBatch> batches)
    {
        var members = PathParameters.Of(graph, path);
        var result = new Dictionary<int, double>();
        using var scope = TensorScope.Begin();
        var originals = members.Select(m => m.Parameter.Data.Clone()).ToList();
        var gradientSums = members.Select(m => Tensor.ZerosLike(m.Parameter.Data)).ToList();
        try
        {
            for (int k = 1; k <= options.Steps; k++)
            {
                double mu = (double)k / options.Steps;
                using (Grad.Disabled())
                    for (int i = 0; i < members.Count; i++)
                    {
                        using var factor = members[i].Indicator.Affine(-(1 - mu), 1); // μ on the path's channels, 1 elsewhere
                        members[i].Parameter.Data.CopyFrom(originals[i]).MulInPlace(factor);
                    }
                foreach (var batch in batches)
                {
                    using var step = TensorScope.Begin();
                    model.ZeroGrad();
                    F.CrossEntropy(model.Forward(Variable.Constant(batch.Images)), batch.Labels).Backward();
                    for (int i = 0; i < members.Count; i++) gradientSums[i].AddInPlace(members[i].Parameter.Grad!);
                }
            }
        }
        finally
        {
            using (Grad.Disabled())
                for (int i = 0; i < members.Count; i++) members[i].Parameter.Data.CopyFrom(originals[i]);
            model.ZeroGrad();
        }
        // A = P ⊙ mean gradient; per channel (axis 0 of every member tensor) the sum of |A| or A² over its entries.
        var perChannel = new Dictionary<(Module, int), double>();
        var signedPerChannel = new Dictionary<(Module, int), double>();
        for (int i = 0; i < members.Count; i++)
        {
            using var attribution = originals[i].Mul(gradientSums[i]).MulInPlace(1.0 / (options.Steps * batches.Count));
            using var flat = attribution.Reshape(attribution.Shape[0], -1);
            using var reduced = options.Norm == 1 ? flat.Abs().Sum(1) : flat.Square().Sum(1);
            using var signed = flat.Sum(1);
            var values = reduced.ToDoubleArray();
            var signedValues = signed.ToDoubleArray();
            foreach (var (channel, owner) in members[i].Channels)
            {
                perChannel[(owner, channel)] = perChannel.GetValueOrDefault((owner, channel)) + values[channel];
                signedPerChannel[(owner, channel)] = signedPerChannel.GetValueOrDefault((owner, channel)) + signedValues[channel];
            }
        }
        foreach (var g in path) SignedTotals[g.Id] = g.Producers.Sum(p => signedPerChannel.GetValueOrDefault((p.Layer, p.Channel)));
        foreach (var g in path)
            result[g.Id] = g.Producers.Sum(p =>
            {
                double total = perChannel.GetValueOrDefault((p.Layer, p.Channel));
                return options.Norm == 1 ? total : Math.Sqrt(total);
            });
        return result;
    }
}
