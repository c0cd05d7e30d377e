// The schedules end to end on a small synthetic set: each reaches its target (and stops just past it), respects the
// per-layer floor, round-to, ignored layers and per-layer ratios, and leaves a compacted model whose measured
// counts equal what the mask predicted.
using Standalone.Models.Data;
using Standalone.Models.Nn;
using Standalone.Models.Stats;
using Standalone.Models.Zoo;
using Standalone.Pruning.Graph;
using Standalone.Pruning.Masking;
using Standalone.Pruning.Schedules;

namespace Standalone.Tests.Pruning;

public class ScheduleTests
{
    private static readonly ImageDataset All = Synthetic.Create(192, 1, 8, 8, 4, seed: 2);
    private static readonly ImageDataset Train = All.Subset(Enumerable.Range(0, 128).ToArray());
    private static readonly ImageDataset Test = All.Subset(Enumerable.Range(128, 64).ToArray());

    private static DataInfo Info()
    {
        var (mean, std) = Train.ChannelStatistics();
        return new DataInfo { Dataset = "synthetic", Mean = mean, Std = std, Input = [1, 8, 8], Classes = Train.Classes.ToArray() };
    }

    private static readonly PruneOptions Quick = new()
    {
        ScoreBatches = 1, ScoreBatchSize = 16, BatchSize = 32, IterativeSteps = 2, EntwinedSteps = 1, FineTuneEpochs = 0.25,
        CurveImages = 32, MeasureThroughput = false, Selection = new SelectionOptions(), Singe = new() { Steps = 2 }, Seed = 3,
    };

    private static (PruneOutcome Outcome, Module Model) Run(PruneOptions options, string shortcut = "A")
    {
        var model = ModelZoo.Create(new ModelSpec { Architecture = "resnet20", Shortcut = shortcut, InChannels = 1, NumClasses = 4 }, seed: 1);
        var outcome = new PruningRun(model, Info(), Train, Test, options).Run();
        var stats = ModelStats.Measure(model, 1, 8, 8);
        Assert.That((stats.Macs, stats.Parameters), Is.EqualTo((outcome.Cost.Macs, outcome.Cost.Parameters)), "compacted model vs mask cost");
        Assert.That(outcome.Accuracy, Is.InRange(0, 1));
        return (outcome, model);
    }

    /// <summary>The largest share of the baseline MACs one group can carry: selection may overshoot by at most that.</summary>
    private const double OneGroupOvershoot = 0.06;

    [TestCase("l1")]
    [TestCase("taylor-sq")]
    [TestCase("lrp")]
    public void OneShotGlobalStopsJustPastTheMacsTarget(string criterion)
    {
        var (outcome, _) = Run(Quick with { Criterion = criterion, Schedule = ScheduleKind.OneShot, Target = new PruningTarget(TargetKind.Macs, 0.4) });
        Assert.That(outcome.Cost.MacsRemoved, Is.InRange(0.4, 0.4 + OneGroupOvershoot));
        Assert.That(outcome.Curve.Select(p => p.Label), Is.EqualTo(new[] { "baseline", "one-shot", "fine-tuned" }));
    }

    [Test]
    public void ParameterTargetIsMetOnParameters()
    {
        var (outcome, _) = Run(Quick with { Criterion = "l2", Schedule = ScheduleKind.OneShot, Target = new PruningTarget(TargetKind.Parameters, 0.3) });
        Assert.That(outcome.Cost.ParametersRemoved, Is.InRange(0.3, 0.3 + OneGroupOvershoot));
    }

    [Test]
    public void PerLayerRatioTakesTheSameShareFromEveryUnitUnlessOverridden()
    {
        var options = Quick with
        {
            Criterion = "bn-scale", Schedule = ScheduleKind.OneShot, GlobalRanking = false, Target = new PruningTarget(TargetKind.Channels, 0.25),
            Selection = new SelectionOptions { LayerRatios = new Dictionary<string, double> { ["layer1.0.conv1"] = 0.5 } },
        };
        var (outcome, _) = Run(options);
        foreach (var unit in outcome.Graph.Units)
        {
            double share = unit.Name == "layer1.0.conv1" ? 0.5 : 0.25;
            Assert.That(outcome.Mask.Alive(unit), Is.EqualTo(unit.Groups.Count - (int)Math.Round(unit.Groups.Count * share, MidpointRounding.AwayFromZero)), unit.Name);
        }
    }

    [Test]
    public void RoundToMinChannelsAndIgnoredLayersAreRespected()
    {
        var options = Quick with
        {
            Criterion = "l1", Schedule = ScheduleKind.OneShot, Target = new PruningTarget(TargetKind.Macs, 0.6),
            Selection = new SelectionOptions { RoundTo = 4, MinChannels = 4 }, Ignore = ["layer3.1.conv1"],
        };
        var (outcome, model) = Run(options);
        Assert.That(outcome.Cost.MacsRemoved, Is.GreaterThanOrEqualTo(0.6), "rounding must not undo the target");
        foreach (var unit in outcome.Graph.Units)
        {
            Assert.That(outcome.Mask.Alive(unit) % 4, Is.EqualTo(0), unit.Name);
            Assert.That(outcome.Mask.Alive(unit), Is.GreaterThanOrEqualTo(4), unit.Name);
        }
        Assert.That(outcome.Graph.Units.Select(u => u.Name), Does.Not.Contain("layer3.1.conv1"));
        Assert.That(((BasicBlock)((ResNetCifar)model).Stages[2].Layers[1]).Conv1.OutChannels, Is.EqualTo(64));
    }

    [Test]
    public void EntwinedWithRoundToStillReachesTheTarget()
    {
        var options = Quick with { Criterion = "l1", Schedule = ScheduleKind.Entwined, EntwinedFraction = 0.25, Target = new PruningTarget(TargetKind.Macs, 0.5),
            Selection = new SelectionOptions { RoundTo = 4 } };
        var (outcome, _) = Run(options);
        Assert.That(outcome.Cost.MacsRemoved, Is.GreaterThanOrEqualTo(0.5));
        foreach (var unit in outcome.Graph.Units) Assert.That(outcome.Mask.Alive(unit) % 4, Is.EqualTo(0), unit.Name);
    }

    [Test]
    public void IterativePrunesInStepsWithFineTuningUntilTheTarget()
    {
        var (outcome, _) = Run(Quick with { Criterion = "taylor-abs", Schedule = ScheduleKind.Iterative, IterativeStep = 0.1, Target = new PruningTarget(TargetKind.Channels, 0.3) }, shortcut: "B");
        Assert.That(outcome.Mask.PrunedCount, Is.InRange((int)Math.Ceiling(0.3 * outcome.Graph.Groups.Count), (int)Math.Ceiling(0.3 * outcome.Graph.Groups.Count) + 1));
        // baseline, three iterations of 10 %, fine-tuned
        Assert.That(outcome.Curve.Select(p => p.Label), Is.EqualTo(new[] { "baseline", "iteration 1", "iteration 2", "iteration 3", "fine-tuned" }));
    }

    [Test]
    public void IterativeWithRoundToKeepsEveryUnitAMultiple()
    {
        // ResNet-20 (B) has 448 groups: steps of 15 are no multiple of 4, so a step ends inside a round-to chunk unless
        // the selection finishes the chunk — which it must, or the step that meets the target (6 × 15 = 90 ≥ 20 %)
        // leaves a layer off a multiple of 4.
        var options = Quick with { Criterion = "l1", Schedule = ScheduleKind.Iterative, IterativeStep = 15.0 / 448, IterativeSteps = 0,
            Target = new PruningTarget(TargetKind.Channels, 0.2), Selection = new SelectionOptions { RoundTo = 4 } };
        var (outcome, _) = Run(options, shortcut: "B");
        Assert.That(outcome.Graph.Groups.Count, Is.EqualTo(448));
        Assert.That(outcome.Mask.PrunedCount, Is.GreaterThanOrEqualTo(90));
        foreach (var unit in outcome.Graph.Units) Assert.That(outcome.Mask.Alive(unit) % 4, Is.EqualTo(0), unit.Name);
    }

    [Test]
    public void EntwinedWorksLayerByLayerToTheQuotas()
    {
        var (outcome, _) = Run(Quick with { Criterion = "singe", Schedule = ScheduleKind.Entwined, Target = new PruningTarget(TargetKind.Macs, 0.5), EntwinedFraction = 0.1 });
        Assert.That(outcome.Cost.MacsRemoved, Is.InRange(0.5, 0.5 + OneGroupOvershoot));
        // One curve point per unit that was pruned, in network order, between the baseline and the final point.
        var labels = outcome.Curve.Select(p => p.Label).ToList();
        Assert.That(labels[0], Is.EqualTo("baseline"));
        Assert.That(labels[^1], Is.EqualTo("fine-tuned"));
        var unitOrder = outcome.Graph.Units.Select(u => u.Name).ToList();
        var visited = labels.Skip(1).SkipLast(1).Select(l => unitOrder.IndexOf(l)).ToList();
        Assert.That(visited, Is.All.GreaterThanOrEqualTo(0));
        Assert.That(visited, Is.Ordered);
        Assert.That(visited.Count, Is.GreaterThan(3));
    }

    [TestCase(TargetKind.Macs, ScoreNormalization.Mean)]
    [TestCase(TargetKind.Macs, ScoreNormalization.None)]
    [TestCase(TargetKind.Parameters, ScoreNormalization.L2)]
    public void CostAwareRankingStopsJustPastTheTarget(TargetKind kind, ScoreNormalization normalization)
    {
        var options = Quick with { Criterion = "l1", Schedule = ScheduleKind.OneShot, Target = new PruningTarget(kind, 0.45),
            Selection = new SelectionOptions { CostAware = true, Normalization = normalization } };
        var (outcome, _) = Run(options, shortcut: "B");
        double removed = kind == TargetKind.Macs ? outcome.Cost.MacsRemoved : outcome.Cost.ParametersRemoved;
        Assert.That(removed, Is.InRange(0.45, 0.45 + OneGroupOvershoot));
    }

    [Test]
    public void CostAwareRankingTakesTheMostSavingPerScoreFirst()
    {
        // Equal scores everywhere: the first chunk a cost-aware ranking takes must come from the unit whose channel
        // saves the most MACs; a plain global ranking breaks the tie by group id instead.
        var model = ModelZoo.Create(new ModelSpec { Architecture = "resnet20", Shortcut = "B", InChannels = 1, NumClasses = 4 }, seed: 1);
        var graph = DependencyGraph.Build(model, 1, 8, 8);
        var scores = Enumerable.Repeat(1.0, graph.Groups.Count).ToArray();
        long baseline = PruningCost.Of(new ChannelMask(graph)).Macs;
        long Saved(PruningUnit unit)
        {
            var mask = new ChannelMask(graph);
            mask.Prune([unit.Groups[0]]);
            return baseline - PruningCost.Of(mask).Macs;
        }
        var savings = graph.Units.ToDictionary(u => u, Saved);
        Assert.That(savings.Values.Distinct().Count(), Is.GreaterThan(1), "units must differ in what a channel saves");
        var tiny = new PruningTarget(TargetKind.Macs, 1e-6);
        var first = Selection.Global(new ChannelMask(graph), scores, tiny, new SelectionOptions { CostAware = true });
        Assert.That(first, Has.Count.EqualTo(1));
        Assert.That(savings[first[0].Unit], Is.EqualTo(savings.Values.Max()), first[0].Unit.Name);
        var plain = Selection.Global(new ChannelMask(graph), scores, tiny, new SelectionOptions());
        Assert.That(plain[0].Id, Is.EqualTo(graph.Units.Select(u => u.Groups[0].Id).Min()));
    }

    [Test]
    public void MeanNormalizationGivesEveryUnitAMeanOfOne()
    {
        var model = ModelZoo.Create(new ModelSpec { Architecture = "resnet20", Shortcut = "A", InChannels = 1, NumClasses = 4 }, seed: 1);
        var graph = DependencyGraph.Build(model, 1, 8, 8);
        var rng = new Random(5);
        var scores = graph.Groups.Select(g => (g.Unit.Index + 1) * rng.NextDouble()).ToArray();
        var normalized = Selection.Normalize(graph, scores, ScoreNormalization.Mean);
        foreach (var unit in graph.Units)
            Assert.That(unit.Groups.Average(g => normalized[g.Id]), Is.EqualTo(1).Within(1e-12), unit.Name);
    }

    [Test]
    public void MaxLayerRatioCapsWhatAnyLayerLoses()
    {
        var options = Quick with { Criterion = "l1", Schedule = ScheduleKind.OneShot, Target = new PruningTarget(TargetKind.Macs, 0.5),
            Selection = new SelectionOptions { CostAware = true, MaxLayerRatio = 0.6, RoundTo = 4 } };
        var (outcome, _) = Run(options, shortcut: "B");
        Assert.That(outcome.Cost.MacsRemoved, Is.GreaterThanOrEqualTo(0.5));
        foreach (var unit in outcome.Graph.Units)
            Assert.That(outcome.Mask.Alive(unit), Is.GreaterThanOrEqualTo((int)Math.Ceiling(unit.Groups.Count * 0.4 - 1e-9)), unit.Name);
        Assert.That(outcome.Graph.Units.Any(u => outcome.Mask.Alive(u) < u.Groups.Count * 0.5), "the cap should bind somewhere at this target");
    }

    [Test]
    public void ProgressiveReachesTheTargetInEqualSteps()
    {
        var options = Quick with { Criterion = "taylor-sq", Schedule = ScheduleKind.Progressive, ProgressiveSteps = 4, ProgressiveTuneSteps = 1,
            Target = new PruningTarget(TargetKind.Macs, 0.4), Selection = new SelectionOptions { CostAware = true, Normalization = ScoreNormalization.Mean } };
        var (outcome, _) = Run(options, shortcut: "B");
        Assert.That(outcome.Cost.MacsRemoved, Is.InRange(0.4, 0.4 + OneGroupOvershoot));
        Assert.That(outcome.Curve.Select(p => p.Label), Is.EqualTo(new[] { "baseline", "step 1", "step 2", "step 3", "step 4", "fine-tuned" }));
        // Each step ends just past its share of the target: k/4 of 40 %.
        for (int k = 1; k <= 4; k++) Assert.That(outcome.Curve[k].MacsRemoved, Is.InRange(0.1 * k, 0.1 * k + OneGroupOvershoot), $"step {k}");
        // Three fine-tuning blocks of 1 step between the four steps, then the final epochs.
        Assert.That(outcome.FineTuneSteps, Is.EqualTo(3 + (int)Math.Round(0.25 * 4)));
    }

    [Test]
    public void AStepBudgetLeavesTheFinalPhaseWhatTheRoundsDidNotSpend()
    {
        var options = Quick with { Criterion = "l1", Schedule = ScheduleKind.Iterative, IterativeStep = 0.1, IterativeSteps = 2, FineTuneSteps = 9,
            Target = new PruningTarget(TargetKind.Channels, 0.3) };
        var (outcome, _) = Run(options);
        Assert.That(outcome.FineTuneSteps, Is.EqualTo(9));
    }

    [Test]
    public void EntwinedQuotasFollowTheCostAwareAllocation()
    {
        var options = Quick with { Criterion = "l1", Schedule = ScheduleKind.Entwined, EntwinedFraction = 0.25, Target = new PruningTarget(TargetKind.Macs, 0.5),
            Selection = new SelectionOptions { CostAware = true, Normalization = ScoreNormalization.Mean } };
        var (entwined, _) = Run(options);
        var (oneShot, _) = Run(options with { Schedule = ScheduleKind.OneShot });
        // The quotas are the widths of the one-shot selection on the same first scores (l1 needs no data); the rounds
        // then cut each layer exactly to its quota, whichever channels they pick inside it.
        Assert.That(entwined.Graph.Units.Select(entwined.Mask.Alive), Is.EqualTo(oneShot.Graph.Units.Select(oneShot.Mask.Alive)));
    }
}
