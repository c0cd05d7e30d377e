// lrp (Yeom et al., "Pruning by Explaining"): a conv channel's score is Σ over samples and positions of |R| at its
// BN-fused output (Attribution/Lrp.cs applies the rules), accumulated over the scoring batches; a group sums its
// producing convs. Groups produced by Linear layers get no relevance score here and are left unscored (kept).
// The paper's optional per-layer normalisation is the selection's --score-normalization l1.
using Standalone.Models.Nn;
using Standalone.Pruning.Attribution;

namespace Standalone.Pruning.Criteria;

public sealed class LrpCriterion(LrpOptions options) : IPruningCriterion
{
    public string Name => "lrp";
    public bool NeedsData => true;
    public LrpOptions Options => options;

    public double[] Score(ScoringContext context)
    {
        var totals = new Dictionary<Conv2d, double[]>(ReferenceEqualityComparer.Instance);
        int batches = 0;
        foreach (var batch in context.Batches())
        {
            using var result = Lrp.Explain(context.Model, batch.Images, batch.Labels, options);
            foreach (var (conv, scores) in result.ChannelScores)
            {
                if (!totals.TryGetValue(conv, out var total)) totals[conv] = total = new double[scores.Length];
                for (int c = 0; c < scores.Length; c++) total[c] += scores[c];
            }
            batches++;
        }
        if (batches == 0) throw new InvalidOperationException("lrp: no scoring batches were given");
        return context.Collect(p => p.Layer is Conv2d conv && totals.TryGetValue(conv, out var s) ? s[p.Channel] : double.NaN);
    }
}
