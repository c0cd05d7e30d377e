// The heat-map overlay: hand-computed blended colours for a 2×2 attribution, the automatic upscaling factor, the
// side-by-side layout (colour image | gap | overlay), and the percentile reference that keeps one outlier from
// washing out the rest.
using Standalone.Models.Data;
using Standalone.Pruning.Attribution;

namespace Standalone.Tests.Attribution;

[TestFixture]
public sealed class HeatmapTests
{
    private static PixelAttribution Attribution(double[] perChannel, int channels, int height, int width) =>
        new(perChannel, channels, height, width, target: 0, logits: [1f, 0f], baselineLogits: [0f, 0f], steps: 1);

    private static (byte, byte, byte) Pixel(PngImage image, int x, int y)
    {
        int at = (y * image.Width + x) * 3;
        return (image.Pixels[at], image.Pixels[at + 1], image.Pixels[at + 2]);
    }

    [Test]
    public void OverlayBlendsRedForPositiveAndBlueForNegativeOverTheGrayImage()
    {
        // Gray level 100 everywhere (input 100/255 with mean 0, std 1); attributions 4, −4, 0, 1. With the 100th
        // percentile the reference is 4, so v = 1, −1, 0, 0.25 and α = 0.85·|v|. Colour = (1 − α)·100 + α·end:
        // red end (178, 24, 43) at α = 0.85 → (166, 35, 52); blue end (33, 102, 172) → (43, 102, 161);
        // v = 0.25, α = 0.2125 → (117, 84, 88).
        using var input = Tensor.Full(new Shape(1, 2, 2), 100 / 255.0);
        var image = Heatmap.Render(Attribution([4, -4, 0, 1], 1, 2, 2), input, [0f], [1f], new HeatmapOptions { Scale = 3, Percentile = 100 });

        Assert.That((image.Width, image.Height, image.Channels), Is.EqualTo((6, 6, 3)));
        Assert.That(Pixel(image, 0, 0), Is.EqualTo(((byte)166, (byte)35, (byte)52)));
        Assert.That(Pixel(image, 2, 2), Is.EqualTo(Pixel(image, 0, 0)), "nearest-neighbour: a 3×3 block per input pixel");
        Assert.That(Pixel(image, 3, 0), Is.EqualTo(((byte)43, (byte)102, (byte)161)));
        Assert.That(Pixel(image, 0, 3), Is.EqualTo(((byte)100, (byte)100, (byte)100)));
        Assert.That(Pixel(image, 5, 5), Is.EqualTo(((byte)117, (byte)84, (byte)88)));
    }

    [TestCase(28, 28, 8)]
    [TestCase(3, 7, 75)]
    [TestCase(224, 300, 1)]
    [TestCase(500, 300, 1)]
    public void AutomaticScaleMakesTheShortSideAtLeast224(int height, int width, int expected) =>
        Assert.That(Heatmap.AutomaticScale(height, width), Is.EqualTo(expected));

    [Test]
    public void SideBySideShowsTheColourImageThenAGapThenTheOverlay()
    {
        // A 1×1 RGB image (200, 50, 0) with mean 0.5, std 0.5 per channel: input = (p/255 − 0.5)/0.5.
        float[] rgb = [200, 50, 0];
        using var input = Tensor.FromArray<float>(rgb.Select(p => (p / 255f - 0.5f) / 0.5f).ToArray(), new Shape(3, 1, 1));
        var options = new HeatmapOptions { Scale = 2, SideBySide = true, Gap = 3 };
        var image = Heatmap.Render(Attribution([0, 0, 0], 3, 1, 1), input, [0.5f, 0.5f, 0.5f], [0.5f, 0.5f, 0.5f], options);

        Assert.That((image.Width, image.Height), Is.EqualTo((2 + 3 + 2, 2)));
        Assert.That(Pixel(image, 1, 1), Is.EqualTo(((byte)200, (byte)50, (byte)0)), "left: the image in colour");
        Assert.That(Pixel(image, 3, 0), Is.EqualTo(((byte)255, (byte)255, (byte)255)), "the gap is white");
        // Right: no attribution, so the BT.601 gray of the image: 0.299·200 + 0.587·50 = 89.15 → 89.
        Assert.That(Pixel(image, 5, 1), Is.EqualTo(((byte)89, (byte)89, (byte)89)));
    }

    [Test]
    public void ReferenceIsAHighPercentileOfTheMagnitudes()
    {
        // 100 magnitudes of 1 and one of 1000: the 99th percentile (nearest rank ⌈0.99·101⌉ = 100) is 1.
        double[] outlier = [.. Enumerable.Repeat(-1.0, 50), .. Enumerable.Repeat(1.0, 50), 1000];
        Assert.That(Heatmap.Reference(outlier, 99), Is.EqualTo(1));
        Assert.That(Heatmap.Reference(outlier, 100), Is.EqualTo(1000));
        // Sparse: the percentile is 0, so the maximum is used; nothing at all gives 0 (no colour).
        Assert.That(Heatmap.Reference([.. new double[200], -5], 99), Is.EqualTo(5));
        Assert.That(Heatmap.Reference(new double[10], 99), Is.EqualTo(0));
    }

    [Test]
    public void MismatchedInputIsRejected()
    {
        using var input = Tensor.Zeros(new Shape(1, 3, 3));
        var error = Assert.Throws<ArgumentException>(() => Heatmap.Render(Attribution([0, 0, 0, 0], 1, 2, 2), input, [0f], [1f]))!;
        Assert.That(error.Message, Does.Contain("the input [1, 3, 3] must be the attributed image [1, 2, 2]"));
    }
}
