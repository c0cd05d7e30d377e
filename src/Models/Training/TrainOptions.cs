// The settings of a training run (the CLI's train flags map one to one) and the per-epoch metrics it reports.
using Standalone.Autograd.Optim;
using Standalone.Autograd;

namespace Standalone.Models.Training;

public sealed record TrainOptions
{
    public int Epochs { get; init; } = 30;
    public int BatchSize { get; init; } = 128;
    /// <summary>sgd (with momentum), nesterov, or adamw.</summary>
    public string Optimizer { get; init; } = "sgd";
    public double LearningRate { get; init; } = 0.1;
    public double Momentum { get; init; } = 0.9;
    public double WeightDecay { get; init; } = 5e-4;
    public double LabelSmoothing { get; init; }
    /// <summary>cosine (to 0 over the run), step (× gamma every step-size epochs), multistep (× gamma at milestones), constant.</summary>
    public string Schedule { get; init; } = "cosine";
    /// <summary>Linear warm-up from 0, in epochs (may be fractional).</summary>
    public double WarmupEpochs { get; init; }
    public int StepSize { get; init; } = 30;
    public int[] Milestones { get; init; } = [];
    public double Gamma { get; init; } = 0.1;
    public ulong Seed { get; init; }
    /// <summary>Random-crop padding in pixels (0: no crop).</summary>
    public int CropPadding { get; init; } = 4;
    public bool HorizontalFlip { get; init; } = true;
    /// <summary>Images smaller than this are centred on a zero canvas of this size (0: keep the size).</summary>
    public int PadTo { get; init; }
    public int EvalBatchSize { get; init; } = 256;
    /// <summary>Epochs (from the first) during which only the classifier learns: the rest of the network is frozen.</summary>
    public int FreezeEpochs { get; init; }

    public static IReadOnlyList<string> Optimizers { get; } = ["sgd", "nesterov", "adamw"];
    public static IReadOnlyList<string> Schedules { get; } = ["cosine", "step", "multistep", "constant"];

    /// <summary>Throws with the offending option named when a value is out of range.</summary>
    public void Validate()
    {
        void Require(bool ok, string message) { if (!ok) throw new ArgumentException(message); }
        Require(Epochs > 0, $"--epochs must be positive, got {Epochs}");
        Require(BatchSize > 0, $"--batch-size must be positive, got {BatchSize}");
        Require(EvalBatchSize > 0, $"the evaluation batch size must be positive, got {EvalBatchSize}");
        Require(Optimizers.Contains(Optimizer), $"--optimizer must be one of {string.Join(", ", Optimizers)}, got '{Optimizer}'");
        Require(Schedules.Contains(Schedule), $"--schedule must be one of {string.Join(", ", Schedules)}, got '{Schedule}'");
        Require(LearningRate > 0 && double.IsFinite(LearningRate), $"--lr must be a positive number, got {LearningRate}");
        Require(Momentum is >= 0 and < 1, $"--momentum must be in [0, 1), got {Momentum}");
        Require(WeightDecay >= 0, $"--weight-decay must not be negative, got {WeightDecay}");
        Require(LabelSmoothing is >= 0 and < 1, $"--label-smoothing must be in [0, 1), got {LabelSmoothing}");
        Require(WarmupEpochs >= 0 && WarmupEpochs < Epochs, $"--warmup-epochs must be in [0, epochs), got {WarmupEpochs}");
        Require(StepSize > 0, $"--step-size must be positive, got {StepSize}");
        Require(Gamma > 0, $"--gamma must be positive, got {Gamma}");
        Require(Milestones.All(m => m > 0), "--milestones must be positive epoch numbers");
        Require(Schedule != "multistep" || Milestones.Length > 0, "--schedule multistep needs --milestones");
        Require(CropPadding >= 0, $"--crop-padding must not be negative, got {CropPadding}");
        Require(PadTo >= 0, $"--pad-to must not be negative, got {PadTo}");
        Require(FreezeEpochs >= 0 && FreezeEpochs <= Epochs, $"--freeze-epochs must be in [0, epochs], got {FreezeEpochs}");
    }

    internal Optimizer CreateOptimizer(IEnumerable<Variable> parameters) => Optimizer switch
    {
        "adamw" => new AdamW(parameters, LearningRate, weightDecay: WeightDecay),
        _ => new Sgd(parameters, LearningRate, Momentum, WeightDecay, nesterov: Optimizer == "nesterov"),
    };

    internal LrSchedule CreateSchedule(int stepsPerEpoch)
    {
        int warmup = (int)Math.Round(WarmupEpochs * stepsPerEpoch);
        return Schedule switch
        {
            "step" => new StepLr(LearningRate, StepSize * stepsPerEpoch, Gamma, warmup),
            "multistep" => new MultiStepLr(LearningRate, Milestones.Select(m => m * stepsPerEpoch).ToArray(), Gamma, warmup),
            "constant" => new ConstantLr(LearningRate, warmup),
            _ => new CosineLr(LearningRate, Epochs * stepsPerEpoch, 0, warmup),
        };
    }
}

/// <summary>One line of metrics.jsonl: an epoch's training and test figures.</summary>
public sealed record EpochMetrics(
    int Epoch,
    long Step,
    double LearningRate,
    double TrainLoss,
    double TrainAccuracy,
    double? TestLoss,
    double? TestAccuracy,
    double Seconds,
    double ImagesPerSecond);
