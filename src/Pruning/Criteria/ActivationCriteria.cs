// Criteria from one forward + backward pass per batch, reading each producing layer's activation a (its batch-norm
// output, or the conv output when no batch norm follows) and the gradient δa reaching it (docs/algorithms.md):
//   gradient    |mean over samples, h, w of δa_c|
//   taylor      |Σ_s z_{s,c}| / M         with z_{s,c} = Σ_{h,w} a·δa   (Molchanov 2017: signed sum, then abs)
//   taylor-abs  mean_s |z_{s,c}|          taylor-sq  mean_s z_{s,c}²   (Sapkota & Bhattarai)
// The backward pass is seeded at the logits by OutputGradient (labelled or random, optionally per-sample
// normalised). Scoring runs in evaluation mode, so a sample's score does not depend on the rest of its batch.
using Standalone.Autograd;
using Standalone.Models.Nn;
using Standalone.Pruning.Graph;

namespace Standalone.Pruning.Criteria;

public enum ActivationScore { Gradient, Taylor, TaylorAbs, TaylorSquared }

public sealed class ActivationCriterion(ActivationScore kind, OutputGradientOptions gradient) : IPruningCriterion, IRandomizedCriterion
{
    private readonly OutputGradient _seed = new(gradient);
    public Rng Rng => _seed.Rng;

    public string Name => kind switch
    {
        ActivationScore.Gradient => "gradient",
        ActivationScore.Taylor => "taylor",
        ActivationScore.TaylorAbs => "taylor-abs",
        _ => "taylor-sq",
    };

    public bool NeedsData => true;
    public OutputGradientOptions Gradient => gradient;

    public double[] Score(ScoringContext context)
    {
        var model = context.Model;
        var layers = context.ProducerLayers();
        var sums = new Dictionary<Module, Tensor>(ReferenceEqualityComparer.Instance);
        long samples = 0;
        bool wasTraining = model.Training;
        try
        {
            foreach (var batch in context.Batches())
            {
                using var scope = TensorScope.Begin();
                using var trace = ModelTrace.Record(model, batch.Images);
                var activations = layers.Select(l => (Layer: l, A: Activation(trace, l).RetainGrad())).ToList();
                using (var seed = _seed.For(trace.Output.Data, batch.Labels)) trace.Output.Backward(seed);
                foreach (var (layer, a) in activations)
                {
                    var contribution = Contribution(a.Data, a.Grad!);
                    if (sums.TryGetValue(layer, out var sum)) sum.AddInPlace(contribution);
                    else sums[layer] = TensorScope.Keep(contribution);
                    a.Grad!.Dispose();
                }
                samples += batch.Images.Shape[0];
                model.ZeroGrad();
            }
        }
        finally
        {
            model.Train(wasTraining);
        }
        if (samples == 0) throw new InvalidOperationException($"{Name}: no scoring batches were given");
        var perLayer = new Dictionary<Module, double[]>(ReferenceEqualityComparer.Instance);
        foreach (var (layer, sum) in sums)
        {
            perLayer[layer] = sum.ToDoubleArray().Select(v => kind switch
            {
                ActivationScore.Gradient or ActivationScore.Taylor => Math.Abs(v) / samples,
                _ => v / samples,
            }).ToArray();
            sum.Dispose();
        }
        return context.Collect(p => perLayer[p.Layer][p.Channel]);
    }

    /// <summary>Per-channel sum over this batch of the quantity the criterion averages ([C]).</summary>
    private Tensor Contribution(Tensor a, Tensor da)
    {
        int[] spatial = a.Rank == 4 ? [2, 3] : [];
        if (kind == ActivationScore.Gradient)
            return a.Rank == 4 ? da.Mean(spatial).Sum(0) : da.Sum(0);
        using var product = a.Mul(da);
        using var z = spatial.Length > 0 ? product.Sum(spatial) : product.Share(); // [N, C]
        return kind switch
        {
            ActivationScore.Taylor => z.Sum(0),
            ActivationScore.TaylorAbs => Reduce(z.Abs()),
            _ => Reduce(z.Square()),
        };
        static Tensor Reduce(Tensor t) { using (t) return t.Sum(0); }
    }

    /// <summary>The activation a layer's channels are judged by: its batch-norm output, else its own output.</summary>
    internal static Variable Activation(ModelTrace trace, Module layer)
    {
        var node = trace.Nodes.First(n => n.Op is Conv2dOp or LinearOp && trace.Owner(n.Inputs[1])?.Module == layer);
        var consumers = trace.Consumers(node.Output);
        return consumers.Count == 1 && consumers[0].Op is BatchNormOp ? consumers[0].Output : node.Output;
    }
}
