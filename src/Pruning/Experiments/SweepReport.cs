// A masking sweep written out: sweep.json (the SweepResult), sweep.md (accuracy per criterion and fraction) and
// sweep.svg (accuracy against the fraction of channels masked, one line per criterion, the baseline as a line).
using System.Globalization;
using System.Text;
using System.Text.Json;
using Standalone.Models.IO;
using Standalone.Pruning.Reports;

namespace Standalone.Pruning.Experiments;

public static class SweepReport
{
    public static IReadOnlyList<string> Write(SweepResult result, string directory, string title)
    {
        Directory.CreateDirectory(directory);
        var c = CultureInfo.InvariantCulture;
        string json = Path.Combine(directory, "sweep.json"), md = Path.Combine(directory, "sweep.md"), svg = Path.Combine(directory, "sweep.svg");
        var document = new
        {
            result.Model,
            result.Dataset,
            result.BaselineAccuracy,
            result.ScoringImages,
            Curves = result.Curves.Select(k => new
            {
                k.Criterion,
                k.ScoringSeconds,
                Points = k.Points.Select(p => new { p.Fraction, p.MacsRemoved, p.Accuracy }),
            }),
        };
        AtomicFile.WriteAllText(json, JsonSerializer.Serialize(document, new JsonSerializerOptions(MetadataJson.Options) { WriteIndented = true }) + "\n");

        var text = new StringBuilder();
        text.AppendLine(c, $"# {title}").AppendLine();
        text.AppendLine(c, $"{result.Model} on {result.Dataset}; baseline accuracy {result.BaselineAccuracy:P2}; scores from {result.ScoringImages} training images; no fine-tuning.").AppendLine();
        var fractions = result.Curves[0].Points.Select(p => p.Fraction).ToList();
        text.AppendLine("| criterion | " + string.Join(" | ", fractions.Select(f => f.ToString("P0", c) + " masked")) + " |");
        text.AppendLine("|---|" + string.Join("", fractions.Select(_ => "---:|")));
        foreach (var curve in result.Curves)
            text.AppendLine($"| {curve.Criterion} | " + string.Join(" | ", curve.Points.Select(p => p.Accuracy.ToString("P1", c))) + " |");
        text.AppendLine().AppendLine("MACs removed at each fraction (per criterion):").AppendLine();
        foreach (var curve in result.Curves)
            text.AppendLine($"- {curve.Criterion}: " + string.Join(", ", curve.Points.Select(p => p.MacsRemoved.ToString("P0", c))) + " (scoring " + curve.ScoringSeconds.ToString("F1", c) + " s)");
        text.AppendLine().AppendLine(c, $"![accuracy vs channels masked]({Path.GetFileName(svg)})");
        AtomicFile.WriteAllText(md, text.ToString());

        var series = result.Curves.Select(k => new LineSeries(k.Criterion, k.Points.Select(p => (100 * p.Fraction, 100 * p.Accuracy)).ToList())).ToList();
        series.Add(new LineSeries("baseline", [(100 * fractions.Min(), 100 * result.BaselineAccuracy), (100 * fractions.Max(), 100 * result.BaselineAccuracy)]));
        SvgChart.Write(svg, new LineChart { Title = title, XLabel = "channels masked (%)", YLabel = "test accuracy (%)", Series = series }.ToSvg());
        return [json, md, svg];
    }
}
