// A grouped vertical bar chart as SVG — for pruning reports, channels kept per layer: one group per layer, one bar
// per series in it (before, after). The y axis starts at 0 (bars are read by their length) with nice ticks; group
// labels under the axis are rotated by 45° so that 20–60 layer names stay readable, and when groups are narrower than
// a line of text only every k-th is labelled. Width 0 (the default) sizes the chart to its groups; every bar is one
// <rect class="bar"> with a <title> naming its group, series and value.
using System.Globalization;

namespace Standalone.Pruning.Reports;

/// <summary>One group of bars: its label and one value per series, in the chart's series order.</summary>
public sealed record BarGroup(string Label, IReadOnlyList<double> Values);

public sealed class BarChart
{
    /// <summary>Plot width a bar gets when the chart sizes itself, and the gap between groups, in pixels.</summary>
    public const double AutoBarWidth = 8, GroupGap = 6;

    public string Title { get; init; } = "";
    public string XLabel { get; init; } = "";
    public string YLabel { get; init; } = "";
    /// <summary>Total width in pixels; 0 fits the groups (at least 480).</summary>
    public int Width { get; init; }
    public int Height { get; init; } = 440;
    /// <summary>Names of the bars within each group ("before", "after"), shown in the legend.</summary>
    public IReadOnlyList<string> SeriesNames { get; init; } = [];
    public IReadOnlyList<BarGroup> Groups { get; init; } = [];

    public string ToSvg()
    {
        Validate();
        var values = Groups.SelectMany(g => g.Values).ToArray();
        var yScale = NiceScale.For(Math.Min(0, values.Min()), Math.Max(0, values.Max()));
        // A label rotated by 45° reaches down and left by its length · sin 45°: the first must not leave the picture.
        double labelReach = Groups.Max(g => SvgDocument.TextWidth(g.Label)) * Math.Sqrt(0.5);
        double left = Math.Max(SvgDocument.LeftMargin(yScale, YLabel), SvgDocument.TextWidth(Groups[0].Label) * Math.Sqrt(0.5) + 4);
        double legend = SvgDocument.LegendWidth(SeriesNames);
        double groupWidth = SeriesNames.Count * AutoBarWidth + GroupGap;
        int width = Width > 0 ? Width : (int)Math.Ceiling(Math.Max(480, left + Groups.Count * groupWidth + legend));
        SvgChart.CheckSize("bar chart", Title, width, Height);
        double bottomMargin = 8 + labelReach + SvgDocument.FontSize + (XLabel.Length > 0 ? SvgDocument.FontSize + 14 : 8);
        var plot = new PlotArea(left, SvgDocument.TopMargin(Title), width - legend, Height - bottomMargin);
        if (plot.Width < 40 || plot.Height < 40)
            throw new ArgumentException($"bar chart '{Title}': {width}×{Height} pixels leave no room for the bars next to the labels and legend; make it larger");

        var svg = new SvgDocument(width, Height);
        svg.Title(Title, width);
        svg.YAxis(plot, yScale, YLabel);
        double slot = plot.Width / Groups.Count, gap = slot * GroupGap / groupWidth, bar = (slot - gap) / SeriesNames.Count;
        int labelEvery = (int)Math.Ceiling((SvgDocument.FontSize + 2) / slot);
        double zero = plot.Y(yScale, 0);
        for (int g = 0; g < Groups.Count; g++)
        {
            var group = Groups[g];
            double start = plot.Left + g * slot + gap / 2;
            for (int s = 0; s < SeriesNames.Count; s++)
            {
                double top = plot.Y(yScale, group.Values[s]);
                string value = group.Values[s].ToString("G6", CultureInfo.InvariantCulture);
                svg.Rect(start + s * bar, Math.Min(top, zero), bar, Math.Abs(zero - top), SvgChart.Palette[s % SvgChart.Palette.Length], "bar",
                    $"{group.Label} — {SeriesNames[s]}: {value}");
            }
            if (g % labelEvery == 0)
                svg.Text(start + (slot - gap) / 2, plot.Bottom + 6 + SvgDocument.FontSize * 0.7, group.Label, "end", "group-label", rotate: -45);
        }
        svg.XAxis(plot, XLabel, Height - 12);
        svg.Legend(plot, SeriesNames, squares: true);
        return svg.ToString();
    }

    /// <summary>Writes ToSvg() to path atomically.</summary>
    public void Write(string path) => SvgChart.Write(path, ToSvg());

    private void Validate()
    {
        if (SeriesNames.Count == 0) throw new ArgumentException($"bar chart '{Title}': no series names; name the bars of a group (e.g. before, after)");
        if (Groups.Count == 0) throw new ArgumentException($"bar chart '{Title}': no groups to draw; add at least one");
        foreach (var group in Groups)
        {
            if (group.Values.Count != SeriesNames.Count)
                throw new ArgumentException($"bar chart '{Title}': group '{group.Label}' has {group.Values.Count} values, expected {SeriesNames.Count} (one per series: {string.Join(", ", SeriesNames)})");
            foreach (double v in group.Values)
                if (!double.IsFinite(v)) throw new ArgumentException($"bar chart '{Title}': group '{group.Label}' has the value {v}; expected finite numbers");
        }
    }
}
