// Writes a run's report: report.json (the PruneReport record, snake_case) and report.md (the same for people:
// summary table, options, timings, per-layer widths, the curve along the run). Both atomically.
using System.Globalization;
using System.Text;
using System.Text.Json;
using Standalone.Models.IO;

namespace Standalone.Pruning.Reports;

public static class ReportWriter
{
    private static readonly JsonSerializerOptions Json = new(MetadataJson.Options) { WriteIndented = true };

    public static void WriteJson(PruneReport report, string path) => AtomicFile.WriteAllText(path, JsonSerializer.Serialize(report, Json) + "\n");

    public static void WriteMarkdown(PruneReport report, string path) => AtomicFile.WriteAllText(path, Markdown(report));

    public static string Markdown(PruneReport r)
    {
        var c = CultureInfo.InvariantCulture;
        var md = new StringBuilder();
        md.AppendLine(c, $"# Pruning report: {r.Model}");
        md.AppendLine();
        md.AppendLine(c, $"{r.Date:yyyy-MM-dd HH:mm} on {r.Machine}. Criterion **{r.Criterion}**, schedule **{r.Schedule}**, seed {r.Seed}, data {r.Dataset}.");
        md.AppendLine();
        md.AppendLine("| | accuracy | parameters | MACs per image |");
        md.AppendLine("|---|---:|---:|---:|");
        md.AppendLine(c, $"| baseline | {r.Baseline.Accuracy:P2} | {r.Baseline.Params:N0} | {r.Baseline.Macs:N0} |");
        md.AppendLine(c, $"| pruned, before fine-tuning | {r.AccuracyBeforeFinetune:P2} | | |");
        md.AppendLine(c, $"| pruned, fine-tuned | {r.Pruned.Accuracy:P2} | {r.Pruned.Params:N0} ({1 - (double)r.Pruned.Params / r.Baseline.Params:P1} removed) | {r.Pruned.Macs:N0} ({1 - (double)r.Pruned.Macs / r.Baseline.Macs:P1} removed) |");
        md.AppendLine();
        if (r.Throughput is { } t)
        {
            string trust = t.Trustworthy ? "." : string.Create(c, $" (not trustworthy: the machine's speed varied by {t.Spread:P0} between rounds).");
            md.AppendLine(c, $"Inference on this machine (batch {t.BatchSize}, baseline and pruned measured alternately): baseline {t.BaselineImagesPerSecond:N0} images/s, pruned {t.PrunedImagesPerSecond:N0} images/s — **{t.Speedup:F2}×**{trust}").AppendLine();
        }
        md.AppendLine(c, $"Wall time {r.Timings.Total:F0} s: scoring {r.Timings.Scoring:F0} s, fine-tuning {r.Timings.FineTuning:F0} s, evaluation {r.Timings.Evaluation:F0} s.");
        md.AppendLine();
        foreach (var chart in r.Files.Charts) md.AppendLine(c, $"![{Path.GetFileNameWithoutExtension(chart)}]({Path.GetFileName(chart)})");
        if (r.Files.Charts.Count > 0) md.AppendLine();
        md.AppendLine("## Options").AppendLine();
        md.AppendLine("| option | value |").AppendLine("|---|---|");
        foreach (var (key, value) in r.Options) md.AppendLine(c, $"| {key} | {value} |");
        md.AppendLine().AppendLine("## Along the run").AppendLine();
        md.AppendLine("| step | MACs removed | parameters removed | accuracy (curve subset) |").AppendLine("|---|---:|---:|---:|");
        foreach (var p in r.Curve) md.AppendLine(c, $"| {p.Label} | {p.MacsRemoved:P1} | {p.ParamsRemoved:P1} | {p.Accuracy:P2} |");
        md.AppendLine().AppendLine("## Channels per layer").AppendLine();
        md.AppendLine("| layer | before | after | kept |").AppendLine("|---|---:|---:|---:|");
        foreach (var l in r.Layers) md.AppendLine(c, $"| {l.Name} | {l.Before} | {l.After} | {(double)l.After / l.Before:P0} |");
        md.AppendLine().AppendLine(c, $"Files: `{Path.GetFileName(r.Files.Model)}`{(r.Files.Onnx != null ? $", `{Path.GetFileName(r.Files.Onnx)}`" : "")}, `{Path.GetFileName(r.Files.Report)}`.");
        return md.ToString();
    }
}
