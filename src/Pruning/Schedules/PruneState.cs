// Where a pruning run stands, saved in its checkpoint (`<out>/checkpoint.safetensors`, metadata "standalone.prune")
// beside the masked weights and the optimizer state, so that an interrupted run (Ctrl+C, a killed process) resumes
// where it stopped and ends as the uninterrupted run would: the pruned groups, the schedule's position, the
// fine-tuning steps still owed in the current block, the positions of the fine-tuning and scoring batch streams, the
// random generator of a random criterion, and what has been measured so far.
using Standalone.Pruning.Reports;

namespace Standalone.Pruning.Schedules;

public sealed record PruneState
{
    public const string MetadataKey = "standalone.prune";

    public required PruneOptions Options { get; init; }
    /// <summary>The model file the run started from.</summary>
    public required string ModelPath { get; init; }
    public string? DataDirectory { get; init; }

    /// <summary>"pruning", then "final" (fine-tuning the compacted model: the checkpoint then holds its smaller tensors), then "done".</summary>
    public string Phase { get; init; } = "pruning";
    /// <summary>Ids of the pruned groups in the dependency graph of the original model.</summary>
    public int[] Pruned { get; init; } = [];
    /// <summary>One-shot: 1 once selected. Iterative: iterations done. Entwined: rounds done in the current layer.</summary>
    public int Round { get; init; }
    /// <summary>Entwined: index of the current layer among those with something to prune.</summary>
    public int UnitIndex { get; init; }
    /// <summary>Entwined: live channels each unit is pruned down to (by unit index); null until the quotas are set.</summary>
    public int[]? Quotas { get; init; }
    /// <summary>Fine-tuning steps still owed in the current block, and the curve point to record after them.</summary>
    public int PendingSteps { get; init; }
    public string? PendingPoint { get; init; }
    public int FinalStepsDone { get; init; }

    public int TunerEpoch { get; init; }
    public int TunerBatch { get; init; }
    public long TunerSteps { get; init; }
    public int ScoringEpoch { get; init; }
    public int ScoringBatch { get; init; }
    /// <summary>The random criterion's generator state (four hexadecimal words), when it has one.</summary>
    public string[]? CriterionRng { get; init; }

    public double BaselineAccuracy { get; init; } = double.NaN;
    public double AccuracyBeforeFinetune { get; init; } = double.NaN;
    public List<CurvePoint> Curve { get; init; } = [];
    public double ScoringSeconds { get; init; }
    public double FineTuningSeconds { get; init; }
    public double EvaluationSeconds { get; init; }
    public double TotalSeconds { get; init; }

    /// <summary>Throws InvalidDataException naming the checkpoint unless the state is one a run can be in.</summary>
    public void Check(string source)
    {
        void Require(bool ok, string problem) { if (!ok) throw new InvalidDataException($"checkpoint {source}: the pruning state {problem}"); }
        Require(Options != null && Options.Target != null, "holds no options");
        try { Options!.Validate(); }
        catch (ArgumentException e) { throw new InvalidDataException($"checkpoint {source}: the pruning state's options are invalid ({e.Message})", e); }
        Require(!string.IsNullOrEmpty(ModelPath), "names no model file");
        Require(Phase is "pruning" or "final", $"is in the unknown phase '{Phase}' (expected 'pruning' or 'final')");
        Require(Pruned != null && Pruned.All(id => id >= 0), "lists negative or missing pruned groups");
        Require(Round >= 0 && UnitIndex >= 0 && PendingSteps >= 0 && FinalStepsDone >= 0, $"gives a negative position (round {Round}, layer {UnitIndex}, {PendingSteps} pending steps, {FinalStepsDone} final steps)");
        Require(TunerEpoch >= 0 && TunerBatch >= 0 && TunerSteps >= 0 && ScoringEpoch >= 0 && ScoringBatch >= 0,
            $"gives a negative data position (fine-tuning epoch {TunerEpoch} batch {TunerBatch} step {TunerSteps}, scoring epoch {ScoringEpoch} batch {ScoringBatch})");
        Require(Quotas == null || Quotas.All(q => q >= 0), "gives a negative channel quota");
        Require(Curve != null, "holds no curve");
        Require(new[] { ScoringSeconds, FineTuningSeconds, EvaluationSeconds, TotalSeconds }.All(t => double.IsFinite(t) && t >= 0), "gives an impossible time");
    }
}
