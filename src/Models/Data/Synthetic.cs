// A deterministic, learnable image set for tests and smoke runs without downloads: each class owns a fixed smooth
// random pattern and each image is its class's pattern plus Gaussian pixel noise, clamped to 0–255. The same
// arguments and seed give the same bytes on every platform (Standalone.Rng is xoshiro256**).
namespace Standalone.Models.Data;

public static class Synthetic
{
    // Patterns are bilinear blow-ups of a GridSize×GridSize grid of levels in [PatternLow, PatternHigh]: low
    // frequency, so convolutions and pooling keep them, and inside 0–255 with room for noise. NoiseStd is well below
    // the typical level difference between classes (~55), so a model can learn the set but not by memorising one pixel.
    private const int GridSize = 4;
    private const double PatternLow = 32, PatternHigh = 224, NoiseStd = 32;

    /// <summary>count images [channels, height, width], labels balanced (counts differ by at most one) in shuffled order.</summary>
    public static ImageDataset Create(int count, int channels, int height, int width, int classes, ulong seed)
    {
        if (count < 0) throw new ArgumentOutOfRangeException(nameof(count), count, "synthetic data set: count must not be negative");
        if (classes <= 0) throw new ArgumentOutOfRangeException(nameof(classes), classes, "synthetic data set: at least one class is needed");
        if (channels <= 0 || height <= 0 || width <= 0)
            throw new ArgumentException($"synthetic data set: image shape {channels}×{height}×{width} must be positive");
        var rng = new Rng(seed);
        var patterns = new double[classes][];
        for (int k = 0; k < classes; k++) patterns[k] = Pattern(rng, channels, height, width);

        var labels = new int[count];
        for (int i = 0; i < count; i++) labels[i] = i % classes;
        rng.Shuffle(labels.AsSpan());

        int imageSize = channels * height * width;
        var pixels = new byte[(long)count * imageSize];
        for (int i = 0; i < count; i++)
        {
            var pattern = patterns[labels[i]];
            var image = pixels.AsSpan(i * imageSize, imageSize);
            for (int p = 0; p < imageSize; p++)
                image[p] = (byte)Math.Clamp(Math.Round(pattern[p] + NoiseStd * rng.NextNormal()), 0, 255);
        }
        var names = Enumerable.Range(0, classes).Select(k => $"class{k}").ToArray();
        return new ImageDataset("synthetic", pixels, labels, channels, height, width, names);
    }

    private static double[] Pattern(Rng rng, int channels, int height, int width)
    {
        var pattern = new double[channels * height * width];
        var grid = new double[GridSize, GridSize];
        for (int c = 0; c < channels; c++)
        {
            for (int gy = 0; gy < GridSize; gy++)
                for (int gx = 0; gx < GridSize; gx++)
                    grid[gy, gx] = PatternLow + (PatternHigh - PatternLow) * rng.NextDouble();
            for (int y = 0; y < height; y++)
            {
                // Pixel centres map linearly onto [0, GridSize - 1]; a one-pixel side samples the first grid row.
                double fy = height == 1 ? 0 : y * (GridSize - 1.0) / (height - 1);
                int y0 = Math.Min((int)fy, GridSize - 2);
                double ty = fy - y0;
                for (int x = 0; x < width; x++)
                {
                    double fx = width == 1 ? 0 : x * (GridSize - 1.0) / (width - 1);
                    int x0 = Math.Min((int)fx, GridSize - 2);
                    double tx = fx - x0;
                    double top = grid[y0, x0] * (1 - tx) + grid[y0, x0 + 1] * tx;
                    double bottom = grid[y0 + 1, x0] * (1 - tx) + grid[y0 + 1, x0 + 1] * tx;
                    pattern[(c * height + y) * width + x] = top * (1 - ty) + bottom * ty;
                }
            }
        }
        return pattern;
    }
}
