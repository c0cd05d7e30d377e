// One pruning run from a trained model to a smaller one: trace the dependency graph, measure the baseline, prune
// with the chosen criterion and schedule (fine-tuning the masked model in between), evaluate before fine-tuning,
// fine-tune, compact, measure again. The three schedules (ALGORITHMS.md):
//   one-shot   score once, prune to the target (global or per-layer ranking)
//   iterative  score, prune IterativeStep of the original groups (global), fine-tune IterativeSteps steps; repeat
//   entwined   per-unit quotas from a global ranking of layer-normalised scores; then unit by unit in network order:
//              score that unit on fresh batches, prune q lowest, fine-tune EntwinedSteps steps, until its quota is met
// Every schedule ends with FineTuneEpochs epochs of fine-tuning (cosine-decayed rate) and compaction.
using System.Diagnostics;
using Standalone.Autograd;
using Standalone.Models.Data;
using Standalone.Models.Nn;
using Standalone.Models.Training;
using Standalone.Pruning.Criteria;
using Standalone.Pruning.Graph;
using Standalone.Pruning.Masking;
using Standalone.Pruning.Reports;

namespace Standalone.Pruning.Schedules;

/// <summary>What a run tells its caller while it works (the CLI renders it).</summary>
public interface IPruneObserver
{
    void Phase(string description) { }
    void Progress(string phase, int done, int total) { }
    void Point(CurvePoint point) { }
}

public sealed record PruneOutcome(Module Model, DependencyGraph Graph, ChannelMask Mask, PruningCost Cost, Dictionary<string, int[]> ShortcutPadding,
    double BaselineAccuracy, double AccuracyBeforeFinetune, double Accuracy, IReadOnlyList<CurvePoint> Curve, Timings Timings);

public sealed class PruningRun
{
    private readonly Module _model;
    private readonly DataInfo _data;
    private readonly ImageDataset _train, _test;
    private readonly PruneOptions _options;
    private readonly IPruneObserver _observer;
    private readonly Stopwatch _scoring = new(), _fineTuning = new(), _evaluation = new();
    private readonly List<CurvePoint> _curve = new();
    private DataLoader? _curveLoader;

    public PruningRun(Module model, DataInfo data, ImageDataset train, ImageDataset test, PruneOptions options, IPruneObserver? observer = null)
    {
        options.Validate();
        (_model, _data, _train, _options) = (model, data, train, options);
        _test = options.TestImages > 0 && options.TestImages < test.Count
            ? test.Subset(Enumerable.Range(0, options.TestImages).ToArray(), $"{test.Name} (first {options.TestImages})") : test;
        _observer = observer ?? new NullObserver();
    }

    public PruneOutcome Run(CancellationToken cancel = default)
    {
        var total = Stopwatch.StartNew();
        int c = _data.Input[0], h = _data.Input[1], w = _data.Input[2];
        var names = _model.NamedModules().ToDictionary(m => m.Name, m => m.Module);
        var ignored = _options.Ignore.Select(n => names.TryGetValue(n, out var m) && m is Conv2d or Linear ? m
            : throw new ArgumentException($"--ignore: '{n}' is not a Conv2d or Linear of the model (names are state-dict prefixes such as layer1.0.conv1)")).ToList();
        _observer.Phase("tracing the dependency graph");
        var graph = DependencyGraph.Build(_model, c, h, w, ignored);
        var mask = new ChannelMask(graph);
        if (graph.Groups.Count == 0) throw new InvalidOperationException("the model has no prunable channel groups (every channel is tied to the input, the output or an ignored layer)");

        _observer.Phase("evaluating the baseline");
        double baseline = Evaluate(_test, cancel);
        Point("baseline", mask, cancel);

        var criterion = _options.CreateCriterion(_data);
        var scoring = new ScoringData(_train, _data, _options);
        var tuner = new FineTuner(_model, _train, _data, _options);
        double[] Score(IReadOnlyList<PruningUnit>? units)
        {
            _scoring.Start();
            try
            {
                using var scope = TensorScope.Begin();
                return criterion.Score(new ScoringContext { Graph = graph, Mask = mask, Batches = scoring.Next, Units = units });
            }
            finally { _scoring.Stop(); }
        }
        void Tune(int steps, Func<int, double>? rate = null)
        {
            if (steps == 0) return;
            _fineTuning.Start();
            try { tuner.Run(steps, mask, rate, (i, _) => _observer.Progress("fine-tuning", i, steps), cancel); }
            finally { _fineTuning.Stop(); }
        }

        switch (_options.ResolvedSchedule)
        {
            case ScheduleKind.OneShot:
                _observer.Phase($"scoring every channel ({criterion.Name})");
                var scores = Selection.Normalize(graph, Score(null), _options.Selection.Normalization);
                mask.Prune(_options.GlobalRanking || _options.Target.Kind != TargetKind.Channels
                    ? Selection.Global(mask, scores, _options.Target, _options.Selection)
                    : Selection.PerLayer(mask, scores, _options.Target.Fraction, _options.Selection));
                mask.Apply(tuner.Optimizer);
                Point("one-shot", mask, cancel);
                break;
            case ScheduleKind.Iterative:
                int stepGroups = Math.Max(1, (int)Math.Round(graph.Groups.Count * _options.IterativeStep));
                for (int round = 1; !Reached(mask); round++)
                {
                    _observer.Phase($"iteration {round}: scoring, pruning {stepGroups} groups, fine-tuning {_options.IterativeSteps} steps");
                    var ranked = Selection.Normalize(graph, Score(null), _options.Selection.Normalization);
                    var chosen = Selection.Global(mask, ranked, _options.Target, _options.Selection, stepGroups);
                    if (chosen.Count == 0) break; // every unit at its floor
                    mask.Prune(chosen);
                    mask.Apply(tuner.Optimizer);
                    Tune(_options.IterativeSteps);
                    Point($"iteration {round}", mask, cancel);
                }
                break;
            case ScheduleKind.Entwined:
                Entwined(graph, mask, Score, Tune, cancel);
                break;
        }

        _observer.Phase("evaluating before fine-tuning");
        double beforeFinetune = Evaluate(_test, cancel);
        int finalSteps = (int)Math.Round(_options.FineTuneEpochs * tuner.BatchesPerEpoch);
        if (finalSteps > 0)
        {
            _observer.Phase($"fine-tuning {_options.FineTuneEpochs:0.##} epoch(s) ({finalSteps} steps, cosine from lr {_options.LearningRate})");
            Tune(finalSteps, i => _options.LearningRate * 0.5 * (1 + Math.Cos(Math.PI * i / finalSteps)));
        }
        Point("fine-tuned", mask, cancel);
        var cost = PruningCost.Of(mask);
        _observer.Phase("compacting");
        var padding = Compactor.Compact(mask, tuner.Optimizer);
        _observer.Phase("evaluating the pruned model");
        double accuracy = Evaluate(_test, cancel);
        return new PruneOutcome(_model, graph, mask, cost, padding, baseline, beforeFinetune, accuracy, _curve,
            new Timings(_scoring.Elapsed.TotalSeconds, _fineTuning.Elapsed.TotalSeconds, _evaluation.Elapsed.TotalSeconds, total.Elapsed.TotalSeconds));
    }

    private void Entwined(DependencyGraph graph, ChannelMask mask, Func<IReadOnlyList<PruningUnit>?, double[]> score, Action<int, Func<int, double>?> tune, CancellationToken cancel)
    {
        _observer.Phase("scoring every layer for the quotas");
        var normalization = _options.Selection.Normalization == ScoreNormalization.None ? ScoreNormalization.L2 : _options.Selection.Normalization;
        var initial = Selection.Normalize(graph, score(null), normalization);
        var planned = Selection.Global(mask, initial, _options.Target, _options.Selection);
        var quota = graph.Units.ToDictionary(u => u, u => mask.Alive(u) - planned.Count(g => g.Unit == u));
        var units = graph.Units.Where(u => quota[u] < mask.Alive(u)).ToList();
        for (int i = 0; i < units.Count; i++)
        {
            var unit = units[i];
            int q = Math.Max(1, (int)Math.Round(unit.Groups.Count * _options.EntwinedFraction));
            for (int round = 1; mask.Alive(unit) > quota[unit]; round++)
            {
                cancel.ThrowIfCancellationRequested();
                _observer.Phase($"layer {i + 1}/{units.Count} {unit.Name}: {mask.Alive(unit)} → {quota[unit]} channels (round {round})");
                var scores = score([unit]);
                var chosen = Selection.InUnit(mask, unit, scores, q, quota[unit]);
                mask.Prune(chosen);
                mask.Apply();
                tune(_options.EntwinedSteps, null);
            }
            Point(unit.Name, mask, cancel);
        }
    }

    private bool Reached(ChannelMask mask) => new CostTracker(mask).Reached(_options.Target);

    private void Point(string label, ChannelMask mask, CancellationToken cancel)
    {
        if (_options.CurveImages <= 0) return;
        if (_curveLoader == null)
        {
            var subset = _test.Count <= _options.CurveImages ? _test : _test.Subset(Enumerable.Range(0, _options.CurveImages).ToArray(), $"{_test.Name} (first {_options.CurveImages})");
            _curveLoader = new DataLoader(subset, _data.EvalLoader(256));
        }
        _evaluation.Start();
        double accuracy;
        try { accuracy = Evaluator.Evaluate(_model, _curveLoader, null, cancel).Accuracy; }
        finally { _evaluation.Stop(); }
        var cost = PruningCost.Of(mask);
        var point = new CurvePoint(label, cost.MacsRemoved, cost.ParametersRemoved, accuracy);
        _curve.Add(point);
        _observer.Point(point);
    }

    private double Evaluate(ImageDataset data, CancellationToken cancel)
    {
        _evaluation.Start();
        try
        {
            var loader = new DataLoader(data, _data.EvalLoader(256));
            return Evaluator.Evaluate(_model, loader, (done, total) => _observer.Progress("evaluating", done, total), cancel).Accuracy;
        }
        finally { _evaluation.Stop(); }
    }

    private sealed class NullObserver : IPruneObserver;
}
