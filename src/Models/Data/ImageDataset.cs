// A labelled image set held in memory as 8-bit pixels, the common form of every format Standalone reads (IDX,
// CIFAR binary, PNG folders, synthetic): images [Count, Channels, Height, Width] in C order, one label per image.
// Conversion to float, normalisation and augmentation happen per batch in the DataLoader, so a 60,000-image set
// costs 47 MB rather than 188 MB.
namespace Standalone.Models.Data;

public sealed class ImageDataset
{
    public ImageDataset(string name, byte[] pixels, int[] labels, int channels, int height, int width, IReadOnlyList<string> classes)
    {
        if (channels <= 0 || height <= 0 || width <= 0)
            throw new ArgumentException($"data set '{name}': image shape {channels}×{height}×{width} must be positive");
        if (classes.Count == 0) throw new ArgumentException($"data set '{name}': at least one class is needed");
        long imageSize = (long)channels * height * width;
        if (pixels.LongLength != labels.LongLength * imageSize)
            throw new ArgumentException($"data set '{name}': {pixels.LongLength} pixel bytes do not hold {labels.Length} images of {channels}×{height}×{width} (expected {labels.LongLength * imageSize})");
        for (int i = 0; i < labels.Length; i++)
            if ((uint)labels[i] >= (uint)classes.Count)
                throw new ArgumentException($"data set '{name}': label {labels[i]} of image {i} is outside the {classes.Count} classes");
        Name = name;
        Pixels = pixels;
        Labels = labels;
        Channels = channels;
        Height = height;
        Width = width;
        Classes = classes;
    }

    /// <summary>Where the data came from (a file, a folder, "synthetic"), for messages and reports.</summary>
    public string Name { get; }
    /// <summary>[Count, Channels, Height, Width] pixels, 0–255.</summary>
    public byte[] Pixels { get; }
    public int[] Labels { get; }
    public int Channels { get; }
    public int Height { get; }
    public int Width { get; }
    public IReadOnlyList<string> Classes { get; }
    public int Count => Labels.Length;
    public int ImageSize => Channels * Height * Width;

    /// <summary>The pixels of image i.</summary>
    public ReadOnlySpan<byte> Image(int i) => Pixels.AsSpan(i * ImageSize, ImageSize);

    /// <summary>The images whose indices are given, in that order (a subset for scarce-data runs or a validation split).</summary>
    public ImageDataset Subset(IReadOnlyList<int> indices, string? name = null)
    {
        var pixels = new byte[(long)indices.Count * ImageSize];
        var labels = new int[indices.Count];
        for (int k = 0; k < indices.Count; k++)
        {
            int i = indices[k];
            if ((uint)i >= (uint)Count) throw new ArgumentOutOfRangeException(nameof(indices), $"data set '{Name}': index {i} is outside its {Count} images");
            Image(i).CopyTo(pixels.AsSpan(k * ImageSize, ImageSize));
            labels[k] = Labels[i];
        }
        return new ImageDataset(name ?? Name, pixels, labels, Channels, Height, Width, Classes);
    }

    /// <summary>Per-channel mean and standard deviation of the pixels scaled to [0, 1] (population statistics).</summary>
    public (float[] Mean, float[] Std) ChannelStatistics()
    {
        var sum = new double[Channels];
        var sumSq = new double[Channels];
        int plane = Height * Width;
        for (int i = 0; i < Count; i++)
            for (int c = 0; c < Channels; c++)
            {
                long s = 0, sq = 0;
                foreach (byte p in Pixels.AsSpan((i * Channels + c) * plane, plane)) { s += p; sq += p * p; }
                sum[c] += s;
                sumSq[c] += sq;
            }
        var mean = new float[Channels];
        var std = new float[Channels];
        double n = (double)Count * plane;
        for (int c = 0; c < Channels; c++)
        {
            double m = sum[c] / n / 255.0;
            mean[c] = (float)m;
            std[c] = (float)Math.Sqrt(Math.Max(sumSq[c] / n / (255.0 * 255.0) - m * m, 1e-12));
        }
        return (mean, std);
    }
}
