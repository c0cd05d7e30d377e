// The SVG charts: line and bar charts parse as XML, draw one polyline per series and one rect per bar, show every
// legend name, escape '<', '&' and quotes, honour a fixed size, size a bar chart to its groups, and reject empty
// input with a sentence naming the chart and the series; nice ticks for a few ranges; the atomic write.
using System.Xml.Linq;
using Standalone.Pruning.Reports;
using Standalone.Tests.Support;

namespace Standalone.Tests.Reports;

[TestFixture]
public sealed class SvgChartTests : ScratchDirectoryTest
{
    private static readonly XNamespace Svg = "http://www.w3.org/2000/svg";
    /// <summary>Bar heights are written with two decimals.</summary>
    private const double PixelTolerance = 0.01;

    private static IEnumerable<XElement> WithClass(XDocument doc, string name, string cssClass) =>
        doc.Descendants(Svg + name).Where(e => (string?)e.Attribute("class") == cssClass);

    private static LineChart AccuracyVsMacs(bool markers = true) => new()
    {
        Title = "Accuracy vs MACs <ResNet-20 & Fashion-MNIST>",
        XLabel = "MACs",
        YLabel = "test accuracy",
        Markers = markers,
        Series =
        [
            new LineSeries("L1 <magnitude>", [(31_021_952, 0.9459), (20_000_000, 0.941), (10_000_000, 0.92)]),
            new LineSeries("Taylor & random", [(31_021_952, 0.9459), (15_000_000, 0.93)]),
            new LineSeries("SInGE \"IG\"", [(31_021_952, 0.9459), (20_000_000, 0.944), (12_000_000, 0.935), (8_000_000, 0.91)]),
        ],
    };

    [Test]
    public void LineChartHasOnePolylinePerSeriesAMarkerPerPointAndTheLegend()
    {
        var chart = AccuracyVsMacs();
        string svg = chart.ToSvg();
        var doc = XDocument.Parse(svg);

        Assert.That(doc.Root!.Name, Is.EqualTo(Svg + "svg"));
        Assert.That((doc.Root.Attribute("width")!.Value, doc.Root.Attribute("height")!.Value), Is.EqualTo(("720", "440")));
        Assert.That(WithClass(doc, "polyline", "series").Count(), Is.EqualTo(3));
        Assert.That(WithClass(doc, "polyline", "series").Select(p => p.Attribute("points")!.Value.Split(' ').Length), Is.EqualTo(new[] { 3, 2, 4 }));
        Assert.That(WithClass(doc, "circle", "marker").Count(), Is.EqualTo(9));
        Assert.That(WithClass(doc, "text", "legend-name").Select(t => t.Value), Is.EqualTo(chart.Series.Select(s => s.Name)));
        Assert.That(WithClass(doc, "text", "title").Single().Value, Is.EqualTo(chart.Title));
        // x over 8M..31M: ticks 0, 10M, ..., 40M; y over 0.91..0.9459: ticks 0.91, 0.92, ..., 0.95.
        Assert.That(WithClass(doc, "text", "tick").Select(t => t.Value),
            Is.EqualTo(new[] { "0.91", "0.92", "0.93", "0.94", "0.95", "0", "10M", "20M", "30M", "40M" }));
        Assert.That(WithClass(XDocument.Parse(AccuracyVsMacs(markers: false).ToSvg()), "circle", "marker"), Is.Empty);
    }

    [Test]
    public void TextIsEscaped()
    {
        string svg = AccuracyVsMacs().ToSvg();
        Assert.That(svg, Does.Contain("&lt;ResNet-20 &amp; Fashion-MNIST&gt;").And.Contain("L1 &lt;magnitude&gt;").And.Contain("SInGE &quot;IG&quot;"));
        Assert.That(svg, Does.Not.Contain("<ResNet-20").And.Not.Contain("<magnitude>").And.Not.Contain("Taylor & random"));
        Assert.That(SvgChart.Escape("a<b & 'c'\u0001"), Is.EqualTo("a&lt;b &amp; &apos;c&apos;\uFFFD"));
    }

    private static BarChart ChannelsPerLayer(int layers, int width = 0) => new()
    {
        Title = "Channels kept per layer",
        YLabel = "channels",
        XLabel = "layer",
        Width = width,
        SeriesNames = ["before", "after"],
        Groups = Enumerable.Range(0, layers).Select(i => new BarGroup($"layer{i / 6 + 1}.{i % 6}.conv1", [16 << (i / 20), (16 << (i / 20)) / 2])).ToArray(),
    };

    [Test]
    public void BarChartHasOneRectPerBarScaledFromZero()
    {
        var chart = ChannelsPerLayer(57);
        var doc = XDocument.Parse(chart.ToSvg());

        var bars = WithClass(doc, "rect", "bar").ToArray();
        Assert.That(bars, Has.Length.EqualTo(57 * 2));
        Assert.That(WithClass(doc, "text", "legend-name").Select(t => t.Value), Is.EqualTo(new[] { "before", "after" }));
        Assert.That(WithClass(doc, "text", "group-label").First().Value, Is.EqualTo("layer1.0.conv1"));
        // "after" is half of "before" in every group, and bars stand on the same zero line.
        double Height(XElement bar) => double.Parse(bar.Attribute("height")!.Value, System.Globalization.CultureInfo.InvariantCulture);
        double Bottom(XElement bar) => double.Parse(bar.Attribute("y")!.Value, System.Globalization.CultureInfo.InvariantCulture) + Height(bar);
        for (int g = 0; g < 57; g++)
        {
            Assert.That(Height(bars[2 * g + 1]), Is.EqualTo(Height(bars[2 * g]) / 2).Within(PixelTolerance), $"group {g}");
            Assert.That(Bottom(bars[2 * g + 1]), Is.EqualTo(Bottom(bars[0])).Within(PixelTolerance), $"group {g}");
        }
        // Sized to its groups: 57 groups of 2 bars of 8 px and a 6 px gap need more than 1,200 px.
        Assert.That(int.Parse(doc.Root!.Attribute("width")!.Value), Is.GreaterThan(57 * 22));
    }

    [Test]
    public void FixedWidthIsKeptAndCrowdedLabelsAreThinned()
    {
        var doc = XDocument.Parse(ChannelsPerLayer(60, width: 640).ToSvg());
        Assert.That(doc.Root!.Attribute("width")!.Value, Is.EqualTo("640"));
        Assert.That(WithClass(doc, "rect", "bar").Count(), Is.EqualTo(120));
        int labels = WithClass(doc, "text", "group-label").Count();
        Assert.That(labels, Is.LessThan(60).And.GreaterThan(10), "every k-th of 60 groups in about 500 px");
    }

    [TestCase(0, 1, new[] { 0, 0.2, 0.4, 0.6, 0.8, 1 })]
    [TestCase(0.87, 0.95, new[] { 0.86, 0.88, 0.9, 0.92, 0.94, 0.96 })]
    [TestCase(0, 31_021_952, new[] { 0, 1e7, 2e7, 3e7, 4e7 })]
    [TestCase(-3, 7, new[] { -4.0, -2, 0, 2, 4, 6, 8 })]
    [TestCase(3, 3, new[] { 2.6, 2.8, 3, 3.2, 3.4 })]
    public void NiceTicks(double min, double max, double[] expected) =>
        Assert.That(NiceScale.For(min, max).Ticks, Is.EqualTo(expected));

    [Test]
    public void TickLabelsUseTheStepsDigitsAndUnits()
    {
        var accuracy = NiceScale.For(0.87, 0.95);
        Assert.That(accuracy.Ticks.Select(accuracy.Label), Is.EqualTo(new[] { "0.86", "0.88", "0.90", "0.92", "0.94", "0.96" }));
        var macs = NiceScale.For(0, 31_021_952);
        Assert.That(macs.Ticks.Select(macs.Label), Is.EqualTo(new[] { "0", "10M", "20M", "30M", "40M" }));
        var channels = NiceScale.For(0, 1800);
        Assert.That(channels.Ticks.Select(channels.Label), Is.EqualTo(new[] { "0", "500", "1000", "1500", "2000" }));
        var thousands = NiceScale.For(0, 2500);
        Assert.That(thousands.Ticks.Select(thousands.Label), Is.EqualTo(new[] { "0", "1k", "2k", "3k" }));
    }

    [Test]
    public void EmptyInputIsAClearError()
    {
        var noPoints = new LineChart { Title = "acc", Series = [new LineSeries("L1", [(1, 1)]), new LineSeries("Taylor", [])] };
        Assert.That(Assert.Throws<ArgumentException>(() => noPoints.ToSvg())!.Message, Is.EqualTo("line chart 'acc': series 'Taylor' has no points"));
        Assert.That(Assert.Throws<ArgumentException>(() => new LineChart { Title = "acc" }.ToSvg())!.Message, Does.Contain("no series to draw"));
        var nan = new LineChart { Title = "acc", Series = [new LineSeries("L1", [(1, double.NaN)])] };
        Assert.That(Assert.Throws<ArgumentException>(() => nan.ToSvg())!.Message, Does.Contain("point 0 of series 'L1' is (1, NaN)"));
        var ragged = new BarChart { Title = "widths", SeriesNames = ["before", "after"], Groups = [new BarGroup("conv1", [16])] };
        Assert.That(Assert.Throws<ArgumentException>(() => ragged.ToSvg())!.Message,
            Does.Contain("group 'conv1' has 1 values, expected 2 (one per series: before, after)"));
        Assert.That(Assert.Throws<ArgumentException>(() => new BarChart { SeriesNames = ["a"] }.ToSvg())!.Message, Does.Contain("no groups to draw"));
        var tiny = new LineChart { Title = "acc", Width = 100, Series = [new LineSeries("L1", [(1, 1)])] };
        Assert.That(Assert.Throws<ArgumentException>(() => tiny.ToSvg())!.Message, Does.Contain("size 100×440 is too small to draw"));
    }

    [Test]
    public void WriteLeavesAParsableFile()
    {
        string path = Path.Combine(Scratch, "report", "accuracy.svg");
        AccuracyVsMacs().Write(path);
        Assert.That(Directory.GetFiles(Path.Combine(Scratch, "report")), Is.EqualTo(new[] { path }));
        Assert.That(XDocument.Load(path).Root!.Name, Is.EqualTo(Svg + "svg"));
    }
}
