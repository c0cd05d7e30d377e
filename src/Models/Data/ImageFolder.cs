// Reads an image-folder data set, root/<class>/<image>.png, into an ImageDataset: classes are the sub-folders sorted
// by ordinal name (label = position), images sorted by ordinal file name within a class, so the same folder always
// gives the same labels and order on every platform. Pixels are converted to a common channel count and stored planar.
namespace Standalone.Models.Data;

public static class ImageFolder
{
    /// <summary>
    /// Loads every .png under root/&lt;class&gt;/. channels: 1 (gray) or 3 (RGB); null picks 3 if any image has colour,
    /// else 1. Alpha is dropped (not composited), gray is repeated into R, G and B, and RGB becomes gray by ITU-R 601 luma.
    /// Every image must have the size of the first.
    /// </summary>
    public static ImageDataset Load(string root, int? channels = null)
    {
        if (channels is not null and not (1 or 3))
            throw new ArgumentOutOfRangeException(nameof(channels), channels, $"image folder '{root}': channels must be 1 (gray) or 3 (RGB)");
        if (!Directory.Exists(root)) throw new DirectoryNotFoundException($"image folder '{root}' does not exist");
        var classFolders = Directory.GetDirectories(root).OrderBy(Path.GetFileName, StringComparer.Ordinal).ToArray();
        if (classFolders.Length == 0)
            throw new InvalidDataException($"image folder '{root}': expected one sub-folder per class (root/<class>/<image>.png), found none");

        var images = new List<(string Path, int Label, PngImage Image)>();
        for (int label = 0; label < classFolders.Length; label++)
        {
            // Other files (thumbnails, .DS_Store, licences) are skipped: folders downloaded as data sets often hold them.
            var files = Directory.GetFiles(classFolders[label])
                .Where(f => f.EndsWith(".png", StringComparison.OrdinalIgnoreCase))
                .OrderBy(Path.GetFileName, StringComparer.Ordinal).ToArray();
            if (files.Length == 0)
                throw new InvalidDataException($"image folder '{root}': class folder '{classFolders[label]}' holds no .png images");
            foreach (string file in files) images.Add((file, label, Png.Read(file)));
        }

        var (width, height) = (images[0].Image.Width, images[0].Image.Height);
        foreach (var (path, _, image) in images)
            if (image.Width != width || image.Height != height)
                throw new InvalidDataException($"image folder '{root}': image '{path}' is {image.Width}×{image.Height} (width×height), expected {width}×{height} like '{images[0].Path}'");

        int outputChannels = channels ?? (images.Any(i => i.Image.HasColour) ? 3 : 1);
        int imageSize = outputChannels * width * height;
        if ((long)images.Count * imageSize > Array.MaxLength)
            throw new InvalidDataException($"image folder '{root}': {images.Count} images of {outputChannels}×{height}×{width} need {(long)images.Count * imageSize:N0} bytes, more than one data set may hold ({Array.MaxLength:N0})");
        var pixels = new byte[(long)images.Count * imageSize];
        var labels = new int[images.Count];
        for (int i = 0; i < images.Count; i++)
        {
            ToPlanar(images[i].Image, outputChannels, pixels.AsSpan(i * imageSize, imageSize));
            labels[i] = images[i].Label;
        }
        return new ImageDataset(root, pixels, labels, outputChannels, height, width, classFolders.Select(f => Path.GetFileName(f)).ToArray());
    }

    /// <summary>
    /// Interleaved [H, W, C] samples to planar [channels, H, W] with channels 1 (gray) or 3 (RGB), converted as Load
    /// converts them (alpha dropped, gray repeated, RGB to BT.601 luma).
    /// </summary>
    public static void ToPlanar(PngImage image, int channels, Span<byte> destination)
    {
        if (channels is not (1 or 3))
            throw new ArgumentOutOfRangeException(nameof(channels), channels, "PNG image: can be converted to 1 (gray) or 3 (RGB) channels only");
        if (destination.Length != channels * image.Width * image.Height)
            throw new ArgumentException($"PNG image: {destination.Length} bytes cannot hold {channels}×{image.Height}×{image.Width} planar samples");
        int plane = image.Width * image.Height, stride = image.Channels;
        var source = image.Pixels;
        for (int p = 0; p < plane; p++)
        {
            int s = p * stride;
            if (channels == 1)
                destination[p] = image.HasColour ? Luma(source[s], source[s + 1], source[s + 2]) : source[s];
            else if (image.HasColour)
                (destination[p], destination[plane + p], destination[2 * plane + p]) = (source[s], source[s + 1], source[s + 2]);
            else
                destination[p] = destination[plane + p] = destination[2 * plane + p] = source[s];
        }
    }

    // Y = 0.299 R + 0.587 G + 0.114 B (ITU-R BT.601) in 16-bit fixed point, rounded: the same integer formula as
    // Pillow's convert("L"), so a folder read here gives the pixels torchvision would see.
    private static byte Luma(byte r, byte g, byte b) => (byte)((r * 19595 + g * 38470 + b * 7471 + 0x8000) >> 16);
}
