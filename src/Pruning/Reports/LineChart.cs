// A line chart of named series of (x, y) points as SVG — for pruning reports, accuracy against MACs with one series
// per importance criterion. Both axes get nice ticks over the data (NiceScale) with light grid lines; each series is
// one polyline through its points in the order given (sort them by x for a curve), optionally with a marker at
// every point; the legend sits right of the plot. Every element has a <title>, so a browser shows values on hover.
namespace Standalone.Pruning.Reports;

/// <summary>One named line: its points in drawing order.</summary>
public sealed record LineSeries(string Name, IReadOnlyList<(double X, double Y)> Points);

public sealed class LineChart
{
    public string Title { get; init; } = "";
    public string XLabel { get; init; } = "";
    public string YLabel { get; init; } = "";
    public int Width { get; init; } = 720;
    public int Height { get; init; } = 440;
    /// <summary>Draw a dot at every point.</summary>
    public bool Markers { get; init; } = true;
    public IReadOnlyList<LineSeries> Series { get; init; } = [];

    public string ToSvg()
    {
        Validate();
        var points = Series.SelectMany(s => s.Points).ToArray();
        var xScale = NiceScale.For(points.Min(p => p.X), points.Max(p => p.X));
        var yScale = NiceScale.For(points.Min(p => p.Y), points.Max(p => p.Y));
        double bottomMargin = 12 + SvgDocument.FontSize + 6 + (XLabel.Length > 0 ? SvgDocument.FontSize + 14 : 0);
        // The last x tick label is centred on the plot's right edge: half of it must fit before the legend.
        double right = Width - SvgDocument.LegendWidth(Series.Select(s => s.Name));
        var plot = new PlotArea(SvgDocument.LeftMargin(yScale, YLabel), SvgDocument.TopMargin(Title), right, Height - bottomMargin);
        if (plot.Width < 40 || plot.Height < 40)
            throw new ArgumentException($"line chart '{Title}': {Width}×{Height} pixels leave no room for the plot next to the labels and legend; make it larger");

        var svg = new SvgDocument(Width, Height);
        svg.Title(Title, Width);
        svg.YAxis(plot, yScale, YLabel);
        foreach (double tick in xScale.Ticks)
        {
            double x = plot.X(xScale, tick);
            svg.Line(x, plot.Top, x, plot.Bottom, "#e5e5e5", cssClass: "grid");
            svg.Text(x, plot.Bottom + 6 + SvgDocument.FontSize, xScale.Label(tick), "middle", "tick");
        }
        svg.XAxis(plot, XLabel, Height - 12);
        for (int i = 0; i < Series.Count; i++)
        {
            var series = Series[i];
            string colour = SvgChart.Palette[i % SvgChart.Palette.Length];
            svg.Polyline(series.Points.Select(p => (plot.X(xScale, p.X), plot.Y(yScale, p.Y))), colour, series.Name);
            if (!Markers) continue;
            foreach (var (x, y) in series.Points)
                svg.Circle(plot.X(xScale, x), plot.Y(yScale, y), 3.5, colour, FormattableString.Invariant($"{series.Name}: ({x:G6}, {y:G6})"));
        }
        svg.Legend(plot, Series.Select(s => s.Name).ToArray(), squares: false);
        return svg.ToString();
    }

    /// <summary>Writes ToSvg() to path atomically.</summary>
    public void Write(string path) => SvgChart.Write(path, ToSvg());

    private void Validate()
    {
        SvgChart.CheckSize("line chart", Title, Width, Height);
        if (Series.Count == 0) throw new ArgumentException($"line chart '{Title}': no series to draw; add at least one with points");
        foreach (var series in Series)
        {
            if (series.Points.Count == 0) throw new ArgumentException($"line chart '{Title}': series '{series.Name}' has no points");
            for (int i = 0; i < series.Points.Count; i++)
                if (!double.IsFinite(series.Points[i].X) || !double.IsFinite(series.Points[i].Y))
                    throw new ArgumentException($"line chart '{Title}': point {i} of series '{series.Name}' is ({series.Points[i].X}, {series.Points[i].Y}); expected finite numbers");
        }
    }
}
