// What the SVG charts (LineChart, BarChart) share: text escaping, invariant number formatting, the atomic file write,
// and SvgDocument — a small writer of the few elements the charts use plus the parts every chart has (background,
// title, a y axis with grid lines, axis labels, a legend to the right of the plot). Text widths are estimated at
// 0.6 em a character, enough to leave room for labels without measuring fonts.
using System.Globalization;
using System.Text;
using Standalone.Models.IO;

namespace Standalone.Pruning.Reports;

public static class SvgChart
{
    /// <summary>Series colours (Tableau 10): distinct on white and for most colour-blind readers.</summary>
    internal static readonly string[] Palette =
        ["#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac"];

    /// <summary>Smallest width or height a chart accepts, in pixels.</summary>
    public const int MinimumSize = 160;

    /// <summary>Writes an SVG document through a temporary file, so that no reader sees half a chart.</summary>
    public static void Write(string path, string svg) => AtomicFile.WriteAllText(path, svg);

    /// <summary>
    /// Text made safe for XML content and attribute values: &amp; &lt; &gt; " ' as entities, and control characters
    /// that XML 1.0 cannot hold replaced by U+FFFD.
    /// </summary>
    public static string Escape(string text)
    {
        var escaped = new StringBuilder(text.Length);
        foreach (char c in text)
        {
            switch (c)
            {
                case '&': escaped.Append("&amp;"); break;
                case '<': escaped.Append("&lt;"); break;
                case '>': escaped.Append("&gt;"); break;
                case '"': escaped.Append("&quot;"); break;
                case '\'': escaped.Append("&apos;"); break;
                case < ' ' and not ('\t' or '\n' or '\r'): escaped.Append('\uFFFD'); break;
                default: escaped.Append(c); break;
            }
        }
        return escaped.ToString();
    }

    /// <summary>A coordinate with at most two decimals, invariant culture.</summary>
    internal static string Number(double value) => (Math.Round(value, 2) + 0.0).ToString("0.##", CultureInfo.InvariantCulture);

    internal static void CheckSize(string chart, string title, int width, int height)
    {
        if (width < MinimumSize || height < MinimumSize)
            throw new ArgumentException($"{chart} '{title}': size {width}×{height} is too small to draw (at least {MinimumSize}×{MinimumSize} pixels)");
    }
}

/// <summary>The plot rectangle inside the margins, in SVG pixels (y grows downwards).</summary>
internal readonly record struct PlotArea(double Left, double Top, double Right, double Bottom)
{
    public double Width => Right - Left;
    public double Height => Bottom - Top;
    public double Y(NiceScale scale, double value) => Bottom - scale.Fraction(value) * Height;
    public double X(NiceScale scale, double value) => Left + scale.Fraction(value) * Width;
}

internal sealed class SvgDocument
{
    public const double FontSize = 12, TitleSize = 15;
    private const string Axis = "#333333", Grid = "#e5e5e5";
    private readonly StringBuilder _svg = new();

    public SvgDocument(int width, int height)
    {
        _svg.Append($"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" viewBox=\"0 0 {width} {height}\" ")
            .Append($"font-family=\"sans-serif\" font-size=\"{SvgChart.Number(FontSize)}\">\n");
        _svg.Append($"<rect class=\"background\" width=\"{width}\" height=\"{height}\" fill=\"white\"/>\n");
    }

    /// <summary>Estimated width of text in pixels at a font size.</summary>
    public static double TextWidth(string text, double size = FontSize) => 0.6 * size * text.Length;

    /// <summary>The left margin for a y axis: its tick labels, a gap, and a rotated axis label if there is one.</summary>
    public static double LeftMargin(NiceScale scale, string yLabel) =>
        12 + scale.Ticks.Max(t => TextWidth(scale.Label(t))) + 8 + (yLabel.Length > 0 ? FontSize + 10 : 0);

    /// <summary>The right margin for a legend of these names (swatch, gap, name, padding).</summary>
    public static double LegendWidth(IEnumerable<string> names) => 16 + 24 + 6 + names.Max(n => TextWidth(n)) + 12;

    public static double TopMargin(string title) => title.Length > 0 ? 16 + TitleSize + 12 : 16;

    public void Text(double x, double y, string text, string anchor = "start", string? cssClass = null, double? size = null,
        double rotate = 0, string extra = "")
    {
        _svg.Append($"<text x=\"{SvgChart.Number(x)}\" y=\"{SvgChart.Number(y)}\" text-anchor=\"{anchor}\"");
        if (cssClass != null) _svg.Append($" class=\"{cssClass}\"");
        if (size != null) _svg.Append($" font-size=\"{SvgChart.Number(size.Value)}\"");
        if (rotate != 0) _svg.Append($" transform=\"rotate({SvgChart.Number(rotate)} {SvgChart.Number(x)} {SvgChart.Number(y)})\"");
        _svg.Append(extra).Append('>').Append(SvgChart.Escape(text)).Append("</text>\n");
    }

    public void Line(double x1, double y1, double x2, double y2, string stroke, double width = 1, string? cssClass = null)
    {
        _svg.Append($"<line x1=\"{SvgChart.Number(x1)}\" y1=\"{SvgChart.Number(y1)}\" x2=\"{SvgChart.Number(x2)}\" y2=\"{SvgChart.Number(y2)}\" ")
            .Append($"stroke=\"{stroke}\" stroke-width=\"{SvgChart.Number(width)}\"");
        if (cssClass != null) _svg.Append($" class=\"{cssClass}\"");
        _svg.Append("/>\n");
    }

    public void Rect(double x, double y, double width, double height, string fill, string cssClass, string? tooltip = null)
    {
        _svg.Append($"<rect class=\"{cssClass}\" x=\"{SvgChart.Number(x)}\" y=\"{SvgChart.Number(y)}\" width=\"{SvgChart.Number(width)}\" ")
            .Append($"height=\"{SvgChart.Number(height)}\" fill=\"{fill}\"");
        if (tooltip == null) _svg.Append("/>\n");
        else _svg.Append("><title>").Append(SvgChart.Escape(tooltip)).Append("</title></rect>\n");
    }

    public void Polyline(IEnumerable<(double X, double Y)> points, string stroke, string name)
    {
        _svg.Append("<polyline class=\"series\" fill=\"none\" stroke=\"").Append(stroke).Append("\" stroke-width=\"2\" stroke-linejoin=\"round\" points=\"")
            .AppendJoin(' ', points.Select(p => SvgChart.Number(p.X) + "," + SvgChart.Number(p.Y)))
            .Append("\"><title>").Append(SvgChart.Escape(name)).Append("</title></polyline>\n");
    }

    public void Circle(double x, double y, double radius, string fill, string tooltip)
    {
        _svg.Append($"<circle class=\"marker\" cx=\"{SvgChart.Number(x)}\" cy=\"{SvgChart.Number(y)}\" r=\"{SvgChart.Number(radius)}\" fill=\"{fill}\">")
            .Append("<title>").Append(SvgChart.Escape(tooltip)).Append("</title></circle>\n");
    }

    /// <summary>The title centred above the plot, its font shrunk (down to the axis size) when it would not fit.</summary>
    public void Title(string title, int width)
    {
        if (title.Length == 0) return;
        double size = Math.Max(FontSize, Math.Min(TitleSize, TitleSize * (width - 16) / (TextWidth(title, TitleSize) * 1.1)));
        Text(width / 2.0, 16 + TitleSize, title, "middle", "title", size, extra: " font-weight=\"bold\"");
    }

    /// <summary>Horizontal grid lines and labels at the y ticks, the y axis line, and the rotated y label.</summary>
    public void YAxis(PlotArea plot, NiceScale scale, string label)
    {
        foreach (double tick in scale.Ticks)
        {
            double y = plot.Y(scale, tick);
            Line(plot.Left, y, plot.Right, y, Grid, cssClass: "grid");
            Text(plot.Left - 8, y + FontSize * 0.35, scale.Label(tick), "end", "tick");
        }
        Line(plot.Left, plot.Top, plot.Left, plot.Bottom, Axis);
        if (label.Length > 0)
        {
            double x = 12 + FontSize * 0.8, y = (plot.Top + plot.Bottom) / 2;
            Text(x, y, label, "middle", "axis-label", rotate: -90);
        }
    }

    /// <summary>The x axis line at the bottom of the plot and its label centred below at y.</summary>
    public void XAxis(PlotArea plot, string label, double labelY)
    {
        Line(plot.Left, plot.Bottom, plot.Right, plot.Bottom, Axis);
        if (label.Length > 0) Text((plot.Left + plot.Right) / 2, labelY, label, "middle", "axis-label");
    }

    /// <summary>One row per name right of the plot: a line (lines) or a square (bars) in the series colour, then the name.</summary>
    public void Legend(PlotArea plot, IReadOnlyList<string> names, bool squares)
    {
        double x = plot.Right + 16, y = plot.Top + 4;
        _svg.Append("<g class=\"legend\">\n");
        for (int i = 0; i < names.Count; i++, y += FontSize + 8)
        {
            string colour = SvgChart.Palette[i % SvgChart.Palette.Length];
            if (squares) Rect(x + 6, y, 12, 12, colour, "swatch");
            else Line(x, y + 6, x + 24, y + 6, colour, 2, "swatch");
            Text(x + 30, y + FontSize * 0.85, names[i], cssClass: "legend-name");
        }
        _svg.Append("</g>\n");
    }

    public override string ToString() => _svg + "</svg>\n";
}
