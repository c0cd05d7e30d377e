// One-shot masking curves without fine-tuning (the protocol of the random-gradient Taylor paper and of the LRP
// paper's scarce-data scenario): for each criterion, score every group once on the scoring data, then for each
// fraction P mask the P lowest-ranked groups (one global ranking), evaluate, and restore the weights. A criterion
// is named as on the command line, with ":random" for random output gradients (":normalized" to normalise
// labelled ones), e.g. "taylor-sq:random".
using Standalone.Models.Data;
using Standalone.Models.Nn;
using Standalone.Models.Training;
using Standalone.Pruning.Criteria;
using Standalone.Pruning.Graph;
using Standalone.Pruning.Masking;
using Standalone.Pruning.Schedules;

namespace Standalone.Pruning.Experiments;

public sealed record SweepCurve(string Criterion, IReadOnlyList<(double Fraction, double MacsRemoved, double Accuracy)> Points, double ScoringSeconds);

public sealed record SweepResult(string Model, string Dataset, double BaselineAccuracy, int ScoringImages, IReadOnlyList<SweepCurve> Curves);

public static class MaskingSweep
{
    public static SweepResult Run(LoadedModel loaded, ImageDataset train, ImageDataset test, IReadOnlyList<string> criteria, IReadOnlyList<double> fractions,
        PruneOptions options, Action<string>? progress = null)
    {
        progress ??= _ => { };
        var data = loaded.Data ?? throw new ArgumentException($"{loaded.Path} records no data set; the sweep needs the data it was trained on");
        var model = loaded.Model;
        var graph = DependencyGraph.Build(model, data.Input[0], data.Input[1], data.Input[2]);
        var saved = model.StateDict().ToDictionary(e => e.Name, e => e.Value.Clone());
        var loader = new DataLoader(test, data.EvalLoader(256));
        double baseline = Evaluator.Evaluate(model, loader).Accuracy;
        var curves = new List<SweepCurve>();
        int scoringImages = 0;
        foreach (string name in criteria)
        {
            var criterionOptions = Parse(name, options);
            var criterion = criterionOptions.CreateCriterion(data);
            var scoring = new ScoringData(train, data, criterionOptions);
            scoringImages = scoring.Images;
            progress($"{name}: scoring on {scoring.Images} images");
            var watch = System.Diagnostics.Stopwatch.StartNew();
            double[] scores;
            using (TensorScope.Begin())
                scores = criterion.Score(new ScoringContext { Graph = graph, Mask = new ChannelMask(graph), Batches = scoring.Next });
            double seconds = watch.Elapsed.TotalSeconds;
            scores = Selection.Normalize(graph, scores, options.Selection.Normalization);
            var points = new List<(double, double, double)>();
            foreach (double fraction in fractions)
            {
                var mask = new ChannelMask(graph);
                mask.Prune(Selection.Global(mask, scores, new PruningTarget(TargetKind.Channels, fraction), options.Selection));
                mask.Apply();
                double accuracy = Evaluator.Evaluate(model, loader).Accuracy;
                points.Add((fraction, PruningCost.Of(mask).MacsRemoved, accuracy));
                progress($"{name}: {fraction:P0} of the channels masked → {accuracy:P2}");
                model.LoadStateDict(saved);
            }
            curves.Add(new SweepCurve(name, points, seconds));
        }
        foreach (var t in saved.Values) t.Dispose();
        return new SweepResult(loaded.Spec.ToString(), data.Dataset, baseline, scoringImages, curves);
    }

    /// <summary>"taylor-sq:random" → criterion taylor-sq with random output gradients.</summary>
    public static PruneOptions Parse(string name, PruneOptions options)
    {
        var parts = name.Split(':');
        var result = options with { Criterion = parts[0] };
        foreach (string flag in parts.Skip(1))
            result = flag switch
            {
                "random" => result with { RandomGradient = true },
                "normalized" => result with { NormalizeGradient = true },
                _ => throw new ArgumentException($"criterion '{name}': unknown modifier ':{flag}' (expected :random or :normalized)"),
            };
        result.Validate();
        return result;
    }
}
