// Every choice a pruning run makes (reports name them all): criterion and its options, schedule, target, how the
// budget is allocated across layers, scoring data, fine-tuning. The defaults are what measured best on the shipped
// ResNet-20 at half its MACs with a long fine-tuning (docs/results/allocation.md): L1 filter norms, one global
// ranking of layer-mean-normalised scores, one shot, then 9 epochs of fine-tuning of the compacted network.
using Standalone.Models.Data;
using Standalone.Pruning.Attribution;
using Standalone.Pruning.Criteria;

namespace Standalone.Pruning.Schedules;

public enum ScheduleKind { OneShot, Iterative, Entwined, Progressive }

public sealed record PruneOptions
{
    public static IReadOnlyList<string> Criteria { get; } = ["l1", "l2", "bn-scale", "gradient", "taylor", "taylor-abs", "taylor-sq", "random", "lrp", "singe"];
    public static IReadOnlyList<string> Schedules { get; } = ["one-shot", "progressive", "iterative", "entwined"];

    public string Criterion { get; init; } = "l1";
    /// <summary>Null: one-shot (the entwined schedule is SInGE's, and measured below one-shot at equal steps).</summary>
    public ScheduleKind? Schedule { get; init; }
    public PruningTarget Target { get; init; } = new(TargetKind.Macs, 0.5);
    /// <summary>One-shot and iterative: one ranking over all groups (true) or a share of every unit (false).</summary>
    public bool GlobalRanking { get; init; } = true;
    /// <summary>
    /// Selection constraints. Widths are kept multiples of 4 by default: the CPU GEMM computes output channels in
    /// 8- or 12-row register tiles, so a layer cut to 13 channels costs what 16 do (measured on the default run:
    /// 1.54× faster inference with round-to 1, 1.75× with 4, for the same MACs target).
    /// </summary>
    public SelectionOptions Selection { get; init; } = new() { RoundTo = 4, Normalization = ScoreNormalization.Mean };
    /// <summary>Layer names (state-dict prefixes of Conv2d/Linear) that keep all their channels.</summary>
    public IReadOnlyList<string> Ignore { get; init; } = [];
    public ulong Seed { get; init; }

    // Scoring data.
    public int ScoreBatchSize { get; init; } = 64;
    /// <summary>Batches of fresh training images per scoring call.</summary>
    public int ScoreBatches { get; init; } = 2;
    /// <summary>Scarce-data scoring: this many images per class, fixed for the whole run (0: off).</summary>
    public int ScorePerClass { get; init; }

    // Criterion options.
    public SingeOptions Singe { get; init; } = new();
    public bool RandomGradient { get; init; }
    public bool NormalizeGradient { get; init; }

    // Schedules.
    /// <summary>Iterative: fraction of the original groups pruned per step.</summary>
    public double IterativeStep { get; init; } = 0.05;
    /// <summary>Iterative: fine-tuning steps after each pruning step.</summary>
    public int IterativeSteps { get; init; } = 200;
    /// <summary>Progressive: equal steps of the target (the target's unit), re-scoring before each.</summary>
    public int ProgressiveSteps { get; init; } = 10;
    /// <summary>Progressive: fine-tuning steps after each step but the last (0: prune the whole way first).</summary>
    public int ProgressiveTuneSteps { get; init; }
    /// <summary>Entwined: q = this fraction of a layer's original width per pruning round (at least 1).</summary>
    public double EntwinedFraction { get; init; } = 0.05;
    /// <summary>
    /// Entwined: fine-tuning steps after each round (f). 10 measured better than 50 at an equal total budget (94.14 %
    /// against 93.73 % on the shipped ResNet-20 at 4,218 steps): the rounds run at the constant rate, so every step
    /// they take is one the final cosine phase loses.
    /// </summary>
    public int EntwinedSteps { get; init; } = 10;

    // Fine-tuning (interleaved steps use the constant rate; the final phase decays it with a cosine).
    public double FineTuneEpochs { get; init; } = 9;
    /// <summary>
    /// Total fine-tuning budget in SGD steps, the steps between pruning rounds included: the final phase takes what
    /// is left (0: the final phase is FineTuneEpochs epochs instead). Makes schedules comparable at equal steps.
    /// </summary>
    public int FineTuneSteps { get; init; }
    public double LearningRate { get; init; } = 0.01;
    public double Momentum { get; init; } = 0.9;
    public double WeightDecay { get; init; } = 5e-4;
    public int BatchSize { get; init; } = 128;
    /// <summary>Knowledge distillation from the unpruned model: weight α of the soft-target term (0: labels only).</summary>
    public double DistillAlpha { get; init; }
    /// <summary>Distillation temperature T.</summary>
    public double DistillTemperature { get; init; } = 4;
    public int CropPadding { get; init; } = 2;
    public bool HorizontalFlip { get; init; } = true;
    /// <summary>Test images used for the accuracy points of the accuracy-vs-MACs curve along the run (0: none).</summary>
    public int CurveImages { get; init; } = 2000;
    /// <summary>Evaluate on the first N test images only (0: the whole test split) — for quick runs and tests.</summary>
    public int TestImages { get; init; }
    /// <summary>Measure inference images/s of the baseline and the pruned model (batch 256).</summary>
    public bool MeasureThroughput { get; init; } = true;

    public ScheduleKind ResolvedSchedule => Schedule ?? ScheduleKind.OneShot;

    public static string ScheduleName(ScheduleKind kind) => kind switch
    {
        ScheduleKind.OneShot => "one-shot",
        ScheduleKind.Iterative => "iterative",
        ScheduleKind.Progressive => "progressive",
        _ => "entwined",
    };

    public static ScheduleKind ParseSchedule(string name) => name switch
    {
        "one-shot" => ScheduleKind.OneShot,
        "iterative" => ScheduleKind.Iterative,
        "progressive" => ScheduleKind.Progressive,
        "entwined" => ScheduleKind.Entwined,
        _ => throw new ArgumentException($"unknown schedule '{name}'; expected one of {string.Join(", ", Schedules)}"),
    };

    public void Validate()
    {
        if (!Criteria.Contains(Criterion)) throw new ArgumentException($"unknown criterion '{Criterion}'; expected one of {string.Join(", ", Criteria)}");
        if (ScoreBatchSize < 1 || ScoreBatches < 1) throw new ArgumentException($"scoring needs at least one batch of at least one image, got {ScoreBatches} × {ScoreBatchSize}");
        if (ScorePerClass < 0) throw new ArgumentException($"--score-per-class must be ≥ 0, got {ScorePerClass}");
        if (!(IterativeStep > 0 && IterativeStep < 1)) throw new ArgumentException($"--step must be in (0, 1), got {IterativeStep}");
        if (!(EntwinedFraction > 0 && EntwinedFraction < 1)) throw new ArgumentException($"--entwined-fraction must be in (0, 1), got {EntwinedFraction}");
        if (IterativeSteps < 0 || EntwinedSteps < 0 || !(FineTuneEpochs >= 0) || double.IsInfinity(FineTuneEpochs)) throw new ArgumentException($"fine-tuning steps and epochs must be finite and ≥ 0, got --finetune-epochs {FineTuneEpochs}");
        if (FineTuneSteps < 0) throw new ArgumentException($"--finetune-steps must be ≥ 0, got {FineTuneSteps}");
        if (!(LearningRate > 0) || double.IsInfinity(LearningRate)) throw new ArgumentException($"--lr must be a positive, finite number, got {LearningRate}");
        if (BatchSize < 1) throw new ArgumentException($"--batch-size must be ≥ 1, got {BatchSize}");
        if (CurveImages < 0) throw new ArgumentException($"--curve-images must be ≥ 0, got {CurveImages}");
        if (TestImages < 0) throw new ArgumentException($"--test-images must be ≥ 0 (0: all), got {TestImages}");
        if (Target == null) throw new ArgumentException("a pruning target is needed (--target-macs, --target-params or --ratio)");
        if (Selection.MinChannels < 1 || Selection.RoundTo < 1) throw new ArgumentException($"--min-channels and --round-to must be ≥ 1, got {Selection.MinChannels} and {Selection.RoundTo}");
        if (ProgressiveSteps < 1 || ProgressiveTuneSteps < 0) throw new ArgumentException($"--progressive-steps must be ≥ 1 and --progressive-tune-steps ≥ 0, got {ProgressiveSteps} and {ProgressiveTuneSteps}");
        if (!(DistillAlpha >= 0 && DistillAlpha <= 1)) throw new ArgumentException($"--distill-alpha is the soft-target weight, in [0, 1]; got {DistillAlpha}");
        if (!(DistillTemperature > 0) || double.IsInfinity(DistillTemperature)) throw new ArgumentException($"--distill-temperature must be positive, got {DistillTemperature}");
        if (!(Selection.MaxLayerRatio > 0 && Selection.MaxLayerRatio <= 1)) throw new ArgumentException($"--max-layer-ratio is the largest fraction of a layer's channels removed, in (0, 1]; got {Selection.MaxLayerRatio}");
        if (Singe.Steps < 1) throw new ArgumentException($"--ig-steps must be ≥ 1, got {Singe.Steps}");
        if (Singe.Norm is not (1 or 2)) throw new ArgumentException($"--ig-norm must be 1 or 2, got {Singe.Norm}");
    }

    /// <summary>The criterion these options describe; LRP derives its first-layer bounds from the data's normalisation.</summary>
    public IPruningCriterion CreateCriterion(DataInfo? data = null) => Criterion switch
    {
        "l1" => new MagnitudeCriterion(1),
        "l2" => new MagnitudeCriterion(2),
        "bn-scale" => new BnScaleCriterion(),
        "random" => new RandomCriterion(Seed),
        "gradient" => new ActivationCriterion(ActivationScore.Gradient, GradientOptions),
        "taylor" => new ActivationCriterion(ActivationScore.Taylor, GradientOptions),
        "taylor-abs" => new ActivationCriterion(ActivationScore.TaylorAbs, GradientOptions),
        "taylor-sq" => new ActivationCriterion(ActivationScore.TaylorSquared, GradientOptions),
        "singe" => new SingeCriterion(Singe),
        "lrp" => new LrpCriterion(new LrpOptions
        {
            Mean = data?.Mean.Select(m => (double)m).ToArray() ?? [0.0],
            Std = data?.Std.Select(m => (double)m).ToArray() ?? [1.0],
            LayerSums = false,
        }),
        _ => throw new ArgumentException($"unknown criterion '{Criterion}'; expected one of {string.Join(", ", Criteria)}"),
    };

    private OutputGradientOptions GradientOptions => new() { Random = RandomGradient, Normalize = NormalizeGradient || RandomGradient, Seed = Seed ^ 0x5EED };
}
