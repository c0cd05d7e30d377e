// A decoded PNG: 8-bit samples interleaved as PNG stores them, [Height, Width, Channels] in C order, with 1 (gray),
// 2 (gray, alpha), 3 (RGB) or 4 (RGBA) channels. Interleaved rather than planar because that is what the file
// holds, so decoding is a straight copy; ImageFolder converts to the planar [C, H, W] layout of ImageDataset.
namespace Standalone.Models.Data;

public sealed class PngImage
{
    public PngImage(int width, int height, int channels, byte[] pixels)
    {
        if (width <= 0 || height <= 0) throw new ArgumentException($"PNG image: size {width}×{height} must be positive");
        if (channels is < 1 or > 4) throw new ArgumentException($"PNG image: {channels} channels, expected 1 (gray), 2 (gray, alpha), 3 (RGB) or 4 (RGBA)");
        if (pixels.LongLength != (long)width * height * channels)
            throw new ArgumentException($"PNG image: {pixels.LongLength} pixel bytes do not hold {width}×{height}×{channels} (expected {(long)width * height * channels})");
        Width = width;
        Height = height;
        Channels = channels;
        Pixels = pixels;
    }

    public int Width { get; }
    public int Height { get; }
    public int Channels { get; }
    /// <summary>[Height, Width, Channels] samples, 0–255.</summary>
    public byte[] Pixels { get; }
    /// <summary>True for RGB and RGBA; false for gray with or without alpha.</summary>
    public bool HasColour => Channels >= 3;
}
