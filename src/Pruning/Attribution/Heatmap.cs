// Renders a pixel attribution as a picture: the input image de-normalised to gray, upscaled by an integer factor
// (nearest neighbour, so every input pixel stays a crisp square), with the per-pixel attribution (channels summed)
// alpha-blended over it in a signed diverging colour map — red where the pixel raised the target's logit, blue where
// it lowered it, transparent where it did nothing. Attributions are scaled by a high percentile of |a| (the 99th by
// default) rather than the maximum, so that a handful of extreme pixels do not wash out the rest; values beyond it
// saturate. Optionally the plain image is placed to the left of the overlay.
// This lives in the library rather than in the CLI so that C# callers get the same figure as `standalone explain`.
using Standalone.Models.Data;

namespace Standalone.Pruning.Attribution;

public sealed record HeatmapOptions
{
    /// <summary>The short side of the output is at least this many pixels when Scale is 0.</summary>
    public const int MinimumShortSide = 224;

    /// <summary>Integer upscaling factor; 0 picks the smallest one that makes the short side at least 224 pixels.</summary>
    public int Scale { get; init; }
    /// <summary>Percentile of |attribution| over the pixels that maps to full colour (0 &lt; p ≤ 100).</summary>
    public double Percentile { get; init; } = 99;
    /// <summary>Opacity of a fully saturated attribution over the image (0–1).</summary>
    public double Opacity { get; init; } = 0.85;
    /// <summary>Put the plain (upscaled) image to the left of the overlay, Gap pixels apart.</summary>
    public bool SideBySide { get; init; }
    public int Gap { get; init; } = 4;
}

public static class Heatmap
{
    // The ends of ColorBrewer's RdBu diverging scheme: readable on gray and distinct for colour-blind readers.
    private static readonly (byte R, byte G, byte B) Positive = (178, 24, 43), Negative = (33, 102, 172);
    private const byte Background = 255;

    /// <summary>
    /// The overlay (or image | overlay) as an RGB PngImage. input is the image as the model saw it, [C, H, W]
    /// normalised with mean and std (per channel, for pixels in [0, 1]); attribution is that image's.
    /// </summary>
    public static PngImage Render(PixelAttribution attribution, Tensor input, IReadOnlyList<float> mean, IReadOnlyList<float> std, HeatmapOptions? options = null)
    {
        options ??= new HeatmapOptions();
        int channels = attribution.Channels, height = attribution.Height, width = attribution.Width;
        if (input.Shape != new Shape(channels, height, width))
            throw new ArgumentException($"heat map: the input {input.Shape} must be the attributed image [{channels}, {height}, {width}]");
        if (mean.Count != channels || std.Count != channels)
            throw new ArgumentException($"heat map: {mean.Count} means and {std.Count} standard deviations given for a {channels}-channel image");
        if (options.Scale < 0) throw new ArgumentException($"heat map: scale must be positive (or 0 for automatic), got {options.Scale}");
        if (!(options.Percentile > 0 && options.Percentile <= 100)) throw new ArgumentException($"heat map: percentile must be in (0, 100], got {options.Percentile}");
        if (!(options.Opacity >= 0 && options.Opacity <= 1)) throw new ArgumentException($"heat map: opacity must be in [0, 1], got {options.Opacity}");
        if (options.Gap < 0) throw new ArgumentException($"heat map: gap must not be negative, got {options.Gap}");

        int scale = options.Scale > 0 ? options.Scale : AutomaticScale(height, width);
        var colour = Denormalise(input.ToFloatArray(), mean, std, height * width);
        var gray = Gray(colour, channels, height * width);
        double reference = Reference(attribution.PerPixel, options.Percentile);

        int tileWidth = width * scale, tileHeight = height * scale;
        int left = options.SideBySide ? tileWidth + options.Gap : 0, outputWidth = left + tileWidth;
        var pixels = new byte[(long)outputWidth * tileHeight * 3];
        pixels.AsSpan().Fill(Background);
        for (int y = 0; y < tileHeight; y++)
            for (int x = 0; x < tileWidth; x++)
            {
                int source = y / scale * width + x / scale;
                int row = y * outputWidth;
                if (options.SideBySide)
                    for (int c = 0; c < 3; c++) pixels[(row + x) * 3 + c] = channels == 3 ? colour[c * height * width + source] : gray[source];
                var (r, g, b) = Blend(gray[source], reference > 0 ? attribution.PerPixel[source] / reference : 0, options.Opacity);
                int at = (row + left + x) * 3;
                (pixels[at], pixels[at + 1], pixels[at + 2]) = (r, g, b);
            }
        return new PngImage(outputWidth, tileHeight, 3, pixels);
    }

    /// <summary>The smallest integer factor that makes the short side at least MinimumShortSide pixels (1 if it already is).</summary>
    public static int AutomaticScale(int height, int width) =>
        Math.Max(1, (HeatmapOptions.MinimumShortSide + Math.Min(height, width) - 1) / Math.Min(height, width));

    /// <summary>
    /// The percentile of |a| by nearest rank (the ⌈p/100 · n⌉-th smallest); the maximum when that is 0 (a sparse
    /// attribution), and 0 only when every attribution is.
    /// </summary>
    public static double Reference(IReadOnlyList<double> attribution, double percentile)
    {
        var magnitudes = attribution.Select(Math.Abs).Order().ToArray();
        int rank = Math.Clamp((int)Math.Ceiling(percentile / 100 * magnitudes.Length), 1, magnitudes.Length);
        double value = magnitudes[rank - 1];
        return value > 0 ? value : magnitudes[^1];
    }

    /// <summary>(x · std + mean) · 255, clamped to 0–255: the pixels the normalised input came from.</summary>
    private static byte[] Denormalise(float[] input, IReadOnlyList<float> mean, IReadOnlyList<float> std, int plane)
    {
        var pixels = new byte[input.Length];
        for (int i = 0; i < input.Length; i++)
        {
            int c = i / plane;
            pixels[i] = (byte)Math.Clamp(Math.Round((input[i] * std[c] + mean[c]) * 255), 0, 255);
        }
        return pixels;
    }

    /// <summary>One gray level per pixel: the only channel, BT.601 luma of RGB, otherwise the channels' mean.</summary>
    private static byte[] Gray(byte[] planar, int channels, int plane)
    {
        if (channels == 1) return planar;
        var gray = new byte[plane];
        for (int p = 0; p < plane; p++)
            gray[p] = channels == 3
                ? (byte)Math.Round(0.299 * planar[p] + 0.587 * planar[plane + p] + 0.114 * planar[2 * plane + p])
                : (byte)Math.Round(Enumerable.Range(0, channels).Average(c => planar[c * plane + p]));
        return gray;
    }

    /// <summary>(1 − α)·gray + α·colour with α = opacity·|v| (v clamped to [−1, 1]), red for v &gt; 0 and blue for v &lt; 0.</summary>
    private static (byte R, byte G, byte B) Blend(byte gray, double v, double opacity)
    {
        double alpha = opacity * Math.Min(Math.Abs(v), 1);
        var (r, g, b) = v >= 0 ? Positive : Negative;
        byte Mix(byte c) => (byte)Math.Round((1 - alpha) * gray + alpha * c);
        return (Mix(r), Mix(g), Mix(b));
    }
}
