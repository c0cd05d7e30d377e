// What a pruning run reports (docs/algorithms.md "What to report"): model, data, criterion with every option, schedule,
// seed; parameters and MACs before and after (after compaction); accuracy before pruning, after pruning without
// fine-tuning and after fine-tuning; wall time by phase; per-layer widths; the accuracy-vs-MACs points along the
// run; measured inference throughput; the files written. Serialised as snake_case JSON (report.json).
namespace Standalone.Pruning.Reports;

public sealed record ModelSummary(double Accuracy, long Params, long Macs);

public sealed record LayerWidth(string Name, int Before, int After);

/// <summary>One point of the run: fraction of MACs and parameters removed so far, accuracy on the curve subset.</summary>
public sealed record CurvePoint(string Label, double MacsRemoved, double ParamsRemoved, double Accuracy);

public sealed record Timings(double Scoring, double FineTuning, double Evaluation, double Total);

/// <param name="Spread">The largest spread of either model's interleaved rounds ((max − min) / median).</param>
public sealed record Throughput(double BaselineImagesPerSecond, double PrunedImagesPerSecond, int BatchSize, double Spread = 0)
{
    /// <summary>Rounds that differ by more than this are the machine's noise, not the models' difference.</summary>
    public const double TrustworthySpread = 0.15;

    public double Speedup => PrunedImagesPerSecond / BaselineImagesPerSecond;

    public bool Trustworthy => Spread <= TrustworthySpread;
}

public sealed record ReportFiles(string Model, string? Onnx, string Report, string Markdown, IReadOnlyList<string> Charts);

public sealed record PruneReport
{
    public required string Model { get; init; }
    public required string Dataset { get; init; }
    public required string Criterion { get; init; }
    public required string Schedule { get; init; }
    public required IReadOnlyDictionary<string, string> Options { get; init; }
    public required ulong Seed { get; init; }
    public required ModelSummary Baseline { get; init; }
    public required ModelSummary Pruned { get; init; }
    public required double AccuracyBeforeFinetune { get; init; }
    public required Timings Timings { get; init; }
    /// <summary>SGD steps of fine-tuning over the whole run (interleaved and final).</summary>
    public required long FineTuneSteps { get; init; }
    public required IReadOnlyList<LayerWidth> Layers { get; init; }
    public required IReadOnlyList<CurvePoint> Curve { get; init; }
    public Throughput? Throughput { get; init; }
    public required ReportFiles Files { get; init; }
    public required string Machine { get; init; }
    public required DateTime Date { get; init; }
}
