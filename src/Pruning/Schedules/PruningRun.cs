// One pruning run from a trained model to a smaller one: trace the dependency graph, measure the baseline, prune
// with the chosen criterion and schedule (fine-tuning the masked model in between), compact, evaluate before
// fine-tuning, fine-tune the compacted model, measure again. The four schedules:
//   one-shot   score once, prune to the target (global or per-layer ranking)
//   progressive  ProgressiveSteps equal steps of the target: score, prune (global) to k/N of it, fine-tune
//              ProgressiveTuneSteps steps (0: none), repeat (Torch-Pruning's iterative_steps)
//   iterative  score, prune IterativeStep of the original groups (global), fine-tune IterativeSteps steps; repeat
//   entwined   per-unit quotas from the same global ranking as the others (normalisation, cost-awareness, floors);
//              then unit by unit in network order:
//              score that unit on fresh batches, prune q lowest, fine-tune EntwinedSteps steps, until its quota is met
// Every schedule ends with compaction and FineTuneEpochs epochs of fine-tuning (cosine-decayed rate): the final
// phase trains the compacted network, whose outputs and gradients are the masked network's (pruned channels are
// exactly zero there), at the smaller network's cost. The run is a
// state machine over PruneState: after every round (and every 100 final fine-tuning steps, and on cancellation) the
// state goes to the checkpoint callback, and a run built from a saved state continues exactly where it stopped.
using System.Diagnostics;
using System.Globalization;
using Standalone.Autograd.Optim;
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
    double BaselineAccuracy, double AccuracyBeforeFinetune, double Accuracy, IReadOnlyList<CurvePoint> Curve, Timings Timings, long FineTuneSteps);

public sealed class PruningRun
{
    private const int FinalCheckpointEvery = 100;

    private readonly Module _model;
    private readonly DataInfo _data;
    private readonly ImageDataset _train, _test;
    private readonly PruneOptions _options;
    private readonly IPruneObserver _observer;
    private readonly List<Module> _ignored;
    private readonly Module? _teacher;
    private readonly Stopwatch _scoring = new(), _fineTuning = new(), _evaluation = new(), _total = new();
    private PruneState _state;
    private CancellationToken _cancel;
    private DataLoader? _curveLoader;
    private DependencyGraph _graph = null!;
    private ChannelMask _mask = null!;
    private FineTuner _tuner = null!;
    private ScoringData _scoringData = null!;
    private IPruningCriterion _criterion = null!;
    // Set once the model is compacted for the final phase: its cost (the mask no longer matches the model's tensors) and shortcut padding.
    private PruningCost? _compactedCost;
    private Dictionary<string, int[]> _padding = [];

    /// <param name="state">A saved state to continue from (the model then holds the checkpoint's weights), or null for a new run.</param>
    /// <param name="teacher">The unpruned model, for distillation (needed when <see cref="PruneOptions.DistillAlpha"/> &gt; 0).</param>
    public PruningRun(Module model, DataInfo data, ImageDataset train, ImageDataset test, PruneOptions options, IPruneObserver? observer = null,
        PruneState? state = null, Module? teacher = null)
    {
        _teacher = teacher;
        options.Validate();
        (_model, _data, _train, _options) = (model, data, train, options);
        _test = options.TestImages > 0 && options.TestImages < test.Count
            ? test.Subset(Enumerable.Range(0, options.TestImages).ToArray(), $"{test.Name} (first {options.TestImages})") : test;
        _observer = observer ?? new NullObserver();
        var names = _model.NamedModules().ToDictionary(m => m.Name, m => m.Module);
        _ignored = options.Ignore.Select(n => names.TryGetValue(n, out var m) && m is Conv2d or Linear ? m
            : throw new ArgumentException($"--ignore: '{n}' is not a Conv2d or Linear of the model (names are state-dict prefixes such as layer1.0.conv1)")).ToList();
        _state = state ?? new PruneState { Options = options, ModelPath = "" };
    }

    /// <summary>Receives the run's state at every checkpoint (with the model and optimizer as they are then).</summary>
    public Action<PruneState, Optimizer>? Checkpoint { get; init; }

    /// <summary>
    /// Loads a resumed run's weights once the model has the checkpoint's shapes: the full network while pruning,
    /// the compacted one in the final phase.
    /// </summary>
    public Action<Module>? RestoreWeights { get; init; }

    /// <summary>Restores the optimizer state of a resumed run once the optimizer exists.</summary>
    public Action<Optimizer>? RestoreOptimizer { get; init; }

    public PruneOutcome Run(CancellationToken cancel = default)
    {
        _cancel = cancel;
        _total.Start();
        int c = _data.Input[0], h = _data.Input[1], w = _data.Input[2];
        _observer.Phase("tracing the dependency graph");
        _graph = DependencyGraph.Build(_model, c, h, w, _ignored);
        if (_graph.Groups.Count == 0) throw new InvalidOperationException("the model has no prunable channel groups (every channel is tied to the input, the output or an ignored layer)");
        _mask = new ChannelMask(_graph);
        _mask.Prune(_state.Pruned.Select(id => id >= 0 && id < _graph.Groups.Count ? _graph.Groups[id]
            : throw new InvalidDataException($"checkpoint: pruned group {id} does not exist in this model's {_graph.Groups.Count} groups")));
        _criterion = _options.CreateCriterion(_data);
        if (_criterion is IRandomizedCriterion randomized && _state.CriterionRng is { } words) randomized.Rng.StateWords = words;
        _scoringData = new ScoringData(_train, _data, _options) { Position = (_state.ScoringEpoch, _state.ScoringBatch) };
        _tuner = new FineTuner(_model, _train, _data, _options, _teacher);
        _tuner.Restore(_state.TunerEpoch, _state.TunerBatch, _state.TunerSteps);
        if (_state.Phase is not ("pruning" or "final"))
            throw new InvalidDataException($"checkpoint: unknown phase '{_state.Phase}'; a pruning checkpoint is in phase 'pruning' or 'final'");
        if (_state.Phase == "final") CompactForFinal(); // the checkpoint holds the compacted network
        RestoreWeights?.Invoke(_model);
        RestoreOptimizer?.Invoke(_tuner.Optimizer);
        if (_compactedCost == null) _mask.Apply(_tuner.Optimizer);

        if (double.IsNaN(_state.BaselineAccuracy))
        {
            _observer.Phase("evaluating the baseline");
            _state = _state with { BaselineAccuracy = Evaluate(cancel) };
            Point("baseline", cancel);
            Save();
        }
        if (_state.Phase == "pruning")
        {
            switch (_options.ResolvedSchedule)
            {
                case ScheduleKind.OneShot: OneShot(cancel); break;
                case ScheduleKind.Iterative: Iterative(cancel); break;
                case ScheduleKind.Progressive: Progressive(cancel); break;
                default: Entwined(cancel); break;
            }
            if (_mask.PrunedCount == 0)
                throw new InvalidOperationException($"nothing could be pruned toward {_options.Target}: every layer is at its floor " +
                    $"(--min-channels {_options.Selection.MinChannels}, --round-to {_options.Selection.RoundTo}, --max-layer-ratio {_options.Selection.MaxLayerRatio}" +
                    (_options.Ignore.Count > 0 ? $", --ignore {string.Join(" ", _options.Ignore)}" : "") + ")");
            CompactForFinal();
            _state = _state with { Phase = "final" };
            Save();
        }
        Final(cancel);

        _observer.Phase("evaluating the pruned model");
        double accuracy = Evaluate(cancel);
        _state = _state with { Phase = "done" };
        return new PruneOutcome(_model, _graph, _mask, _compactedCost!, _padding, _state.BaselineAccuracy, _state.AccuracyBeforeFinetune, accuracy, _state.Curve,
            ElapsedTimings(), _tuner.StepsTaken);
    }

    /// <summary>Cuts the pruned channels out of the model and the optimizer state; from here on the mask only describes the cut.</summary>
    private void CompactForFinal()
    {
        _observer.Phase("compacting");
        _compactedCost = PruningCost.Of(_mask);
        _padding = Compactor.Compact(_mask, _tuner.Optimizer);
    }

    private void OneShot(CancellationToken cancel)
    {
        if (_state.Round > 0) return;
        _observer.Phase($"scoring every channel ({_criterion.Name})");
        var scores = Selection.Normalize(_graph, Score(null), _options.Selection.Normalization);
        Prune(_options.GlobalRanking || _options.Target.Kind != TargetKind.Channels
            ? Selection.Global(_mask, scores, _options.Target, _options.Selection)
            : Selection.PerLayer(_mask, scores, _options.Target.Fraction, _options.Selection));
        _state = _state with { Round = 1 };
        Point("one-shot", cancel);
    }

    private void Iterative(CancellationToken cancel)
    {
        int stepGroups = Math.Max(1, (int)Math.Round(_graph.Groups.Count * _options.IterativeStep));
        while (true)
        {
            FinishPending(cancel);
            if (new CostTracker(_mask).Reached(_options.Target)) return;
            int round = _state.Round + 1;
            _observer.Phase($"iteration {round}: scoring, pruning {stepGroups} groups, fine-tuning {_options.IterativeSteps} steps");
            var ranked = Selection.Normalize(_graph, Score(null), _options.Selection.Normalization);
            var chosen = Selection.Global(_mask, ranked, _options.Target, _options.Selection, stepGroups);
            if (chosen.Count == 0) return; // every unit at its floor
            Prune(chosen);
            _state = _state with { Round = round, PendingSteps = _options.IterativeSteps, PendingPoint = $"iteration {round}" };
            Save();
        }
    }

    private void Progressive(CancellationToken cancel)
    {
        int steps = _options.ProgressiveSteps, pointEvery = Math.Max(1, steps / 10);
        while (true)
        {
            FinishPending(cancel);
            int round = _state.Round + 1;
            if (round > steps) return;
            var target = _options.Target with { Fraction = _options.Target.Fraction * round / steps };
            _observer.Phase($"step {round}/{steps}: scoring, pruning to {target}" + (round < steps && _options.ProgressiveTuneSteps > 0 ? $", fine-tuning {_options.ProgressiveTuneSteps} steps" : ""));
            var scores = Selection.Normalize(_graph, Score(null), _options.Selection.Normalization);
            Prune(Selection.Global(_mask, scores, target, _options.Selection));
            bool point = round == steps || round % pointEvery == 0;
            _state = _state with { Round = round, PendingSteps = round < steps ? _options.ProgressiveTuneSteps : 0, PendingPoint = point ? $"step {round}" : null };
            Save();
        }
    }

    private void Entwined(CancellationToken cancel)
    {
        if (_state.Quotas == null)
        {
            _observer.Phase("scoring every layer for the quotas");
            var initial = Selection.Normalize(_graph, Score(null), _options.Selection.Normalization);
            var planned = Selection.Global(_mask, initial, _options.Target, _options.Selection);
            _state = _state with { Quotas = _graph.Units.Select(u => _mask.Alive(u) - planned.Count(g => g.Unit == u)).ToArray() };
            Save();
        }
        var quota = _state.Quotas!;
        var units = _graph.Units.Where(u => quota[u.Index] < u.Groups.Count).ToList();
        for (int i = _state.UnitIndex; i < units.Count; i++)
        {
            var unit = units[i];
            int q = Math.Max(1, (int)Math.Round(unit.Groups.Count * _options.EntwinedFraction));
            while (true)
            {
                FinishPending(cancel);
                if (_mask.Alive(unit) <= quota[unit.Index]) break;
                int round = _state.Round + 1;
                _observer.Phase($"layer {i + 1}/{units.Count} {unit.Name}: {_mask.Alive(unit)} → {quota[unit.Index]} channels (round {round})");
                Prune(Selection.InUnit(_mask, unit, Score([unit]), q, quota[unit.Index]));
                _state = _state with { Round = round, PendingSteps = _options.EntwinedSteps };
                Save();
            }
            Point(unit.Name, cancel);
            _state = _state with { UnitIndex = i + 1, Round = 0 };
            Save();
        }
    }

    private void Final(CancellationToken cancel)
    {
        if (double.IsNaN(_state.AccuracyBeforeFinetune))
        {
            _observer.Phase("evaluating before fine-tuning");
            _state = _state with { AccuracyBeforeFinetune = Evaluate(cancel) };
            Save();
        }
        int finalSteps = FinalSteps();
        if (_state.FinalStepsDone < finalSteps)
            _observer.Phase((_options.FineTuneSteps > 0 ? $"fine-tuning the budget's last {finalSteps} steps (" : $"fine-tuning {_options.FineTuneEpochs:0.##} epoch(s) ({finalSteps} steps, ")
                + $"cosine from lr {_options.LearningRate}" +
                (_options.DistillAlpha > 0 ? $", distilling from the unpruned model at T = {_options.DistillTemperature:0.##}, α = {_options.DistillAlpha:0.##}" : "") +
                (_state.FinalStepsDone > 0 ? $", resuming at step {_state.FinalStepsDone}" : "") + ")");
        while (_state.FinalStepsDone < finalSteps)
        {
            int start = _state.FinalStepsDone, block = Math.Min(FinalCheckpointEvery, finalSteps - start);
            int taken = Tune(block, i => _options.LearningRate * 0.5 * (1 + Math.Cos(Math.PI * (start + i) / finalSteps)), start, finalSteps);
            _state = _state with { FinalStepsDone = start + taken };
            Save();
            if (taken < block) throw new OperationCanceledException(cancel);
        }
        Point("fine-tuned", cancel);
    }

    /// <summary>
    /// Steps of the final phase: FineTuneEpochs epochs, or with a total budget (FineTuneSteps) what the pruning
    /// rounds left of it — the steps taken before the final phase are the tuner's count less the final steps done.
    /// </summary>
    private int FinalSteps() => _options.FineTuneSteps > 0
        ? (int)Math.Max(0, _options.FineTuneSteps - (_tuner.StepsTaken - _state.FinalStepsDone))
        : (int)Math.Round(_options.FineTuneEpochs * _tuner.BatchesPerEpoch);

    /// <summary>Takes the fine-tuning steps still owed by the current block, then records its curve point.</summary>
    private void FinishPending(CancellationToken cancel)
    {
        if (_state.PendingSteps > 0)
        {
            int owed = _state.PendingSteps;
            int taken = Tune(owed, null, 0, owed);
            _state = _state with { PendingSteps = owed - taken };
            if (taken < owed)
            {
                Save();
                throw new OperationCanceledException(cancel);
            }
        }
        if (_state.PendingPoint is { } label)
        {
            Point(label, cancel);
            _state = _state with { PendingPoint = null };
        }
        if (cancel.IsCancellationRequested)
        {
            Save();
            throw new OperationCanceledException(cancel);
        }
    }

    private void Prune(IEnumerable<PruningGroup> groups)
    {
        _mask.Prune(groups);
        _mask.Apply(_tuner.Optimizer);
        _state = _state with { Pruned = _mask.PrunedGroups.Select(g => g.Id).ToArray() };
    }

    private double[] Score(IReadOnlyList<PruningUnit>? units)
    {
        _scoring.Start();
        try
        {
            using var scope = TensorScope.Begin();
            return _criterion.Score(new ScoringContext { Graph = _graph, Mask = _mask, Batches = _scoringData.Next, Units = units });
        }
        finally { _scoring.Stop(); }
    }

    /// <summary>Fine-tunes up to <paramref name="steps"/> steps (fewer if cancelled); returns how many were taken.</summary>
    private int Tune(int steps, Func<int, double>? rate, int offset, int total)
    {
        if (steps == 0) return 0;
        _fineTuning.Start();
        try
        {
            _tuner.Run(steps, _compactedCost == null ? _mask : null, out int taken, rate, (i, _) => _observer.Progress("fine-tuning", offset + i, total), _cancel);
            return taken;
        }
        finally { _fineTuning.Stop(); }
    }

    private void Save()
    {
        var (epoch, batch) = _scoringData.Position;
        _state = _state with
        {
            TunerEpoch = _tuner.Epoch, TunerBatch = _tuner.Batch, TunerSteps = _tuner.StepsTaken,
            ScoringEpoch = epoch, ScoringBatch = batch,
            CriterionRng = _criterion is IRandomizedCriterion r ? r.Rng.StateWords : null,
        };
        var t = ElapsedTimings();
        Checkpoint?.Invoke(_state with { ScoringSeconds = t.Scoring, FineTuningSeconds = t.FineTuning, EvaluationSeconds = t.Evaluation, TotalSeconds = t.Total }, _tuner.Optimizer);
    }

    private Timings ElapsedTimings() => new(_state.ScoringSeconds + _scoring.Elapsed.TotalSeconds, _state.FineTuningSeconds + _fineTuning.Elapsed.TotalSeconds,
        _state.EvaluationSeconds + _evaluation.Elapsed.TotalSeconds, _state.TotalSeconds + _total.Elapsed.TotalSeconds);

    private void Point(string label, CancellationToken cancel)
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
        var cost = _compactedCost ?? PruningCost.Of(_mask);
        var point = new CurvePoint(label, cost.MacsRemoved, cost.ParametersRemoved, accuracy);
        _state.Curve.Add(point);
        _observer.Point(point);
    }

    private double Evaluate(CancellationToken cancel)
    {
        _evaluation.Start();
        try
        {
            var loader = new DataLoader(_test, _data.EvalLoader(256));
            return Evaluator.Evaluate(_model, loader, (done, total) => _observer.Progress("evaluating", done, total), cancel).Accuracy;
        }
        finally { _evaluation.Stop(); }
    }

    private sealed class NullObserver : IPruneObserver;
}
