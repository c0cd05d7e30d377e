// The two pictures of a run (SVG): accuracy against MACs removed along the run (curve subset, every recorded point)
// and channels per layer before and after.
namespace Standalone.Pruning.Reports;

public static class RunCharts
{
    public const string CurveFile = "accuracy_vs_macs.svg";
    public const string WidthsFile = "channels_per_layer.svg";

    /// <summary>Writes both charts into <paramref name="directory"/> and returns their paths.</summary>
    public static IReadOnlyList<string> Write(string directory, string title, IReadOnlyList<CurvePoint> curve, IReadOnlyList<LayerWidth> layers)
    {
        var paths = new List<string>();
        var points = curve.Where(p => double.IsFinite(p.Accuracy)).Select(p => (100 * p.MacsRemoved, 100 * p.Accuracy)).ToList();
        if (points.Count > 0)
        {
            string path = Path.Combine(directory, CurveFile);
            SvgChart.Write(path, new LineChart
            {
                Title = $"{title}: accuracy along the run",
                XLabel = "MACs removed (%)",
                YLabel = "test accuracy (%)",
                Series = [new LineSeries("accuracy", points)],
            }.ToSvg());
            paths.Add(path);
        }
        string widths = Path.Combine(directory, WidthsFile);
        SvgChart.Write(widths, new BarChart
        {
            Title = $"{title}: output channels per layer",
            YLabel = "channels",
            SeriesNames = ["before", "after"],
            Groups = layers.Select(l => new BarGroup(l.Name, [l.Before, l.After])).ToList(),
        }.ToSvg());
        paths.Add(widths);
        return paths;
    }
}
