// ImageFolder on temporary folders of PNGs written with Png.Encode: ordinal class and file order, the channel
// conversions (gray repeated to RGB, RGB to gray by BT.601 luma, alpha dropped, the default channel count), and
// the errors for a size mismatch, an empty root, an empty class folder and an unsupported channel count.
using Standalone.Models.Data;
using Standalone.Tests.Support;

namespace Standalone.Tests.Data;

[TestFixture]
public sealed class ImageFolderTests : ScratchDirectoryTest
{
    private void Write(string className, string fileName, PngImage image)
    {
        string folder = Path.Combine(Scratch, className);
        Directory.CreateDirectory(folder);
        File.WriteAllBytes(Path.Combine(folder, fileName), Png.Encode(image));
    }

    /// <summary>A 2×1 gray image whose two pixels are both <paramref name="level"/>.</summary>
    private static PngImage Gray(byte level) => new(2, 1, 1, [level, level]);

    [Test]
    public void ClassesAndImagesAreInOrdinalNameOrder()
    {
        // Ordinal order puts upper case first and "10" before "2": B < a < b, 1.png < 10.png < 2.png.
        Write("b", "2.png", Gray(1));
        Write("b", "10.png", Gray(2));
        Write("b", "1.png", Gray(3));
        Write("a", "x.png", Gray(4));
        Write("B", "y.png", Gray(5));
        File.WriteAllText(Path.Combine(Scratch, "b", "notes.txt"), "not an image");

        var set = ImageFolder.Load(Scratch);

        Assert.That(set.Classes, Is.EqualTo(new[] { "B", "a", "b" }));
        Assert.That(set.Labels, Is.EqualTo(new[] { 0, 1, 2, 2, 2 }));
        Assert.That(Enumerable.Range(0, set.Count).Select(i => set.Image(i)[0]), Is.EqualTo(new byte[] { 5, 4, 3, 2, 1 }));
        Assert.That((set.Channels, set.Height, set.Width), Is.EqualTo((1, 1, 2)), "an all-gray folder defaults to one channel");
    }

    [Test]
    public void ColourFolderDefaultsToPlanarRgbWithGrayRepeatedAndAlphaDropped()
    {
        Write("colour", "rgba.png", new PngImage(2, 1, 4, [10, 20, 30, 40, 50, 60, 70, 80]));
        Write("gray", "graya.png", new PngImage(2, 1, 2, [90, 1, 100, 2]));

        var set = ImageFolder.Load(Scratch);

        Assert.That(set.Channels, Is.EqualTo(3));
        // Planar: R of both pixels, then G, then B.
        Assert.That(set.Image(0).ToArray(), Is.EqualTo(new byte[] { 10, 50, 20, 60, 30, 70 }));
        Assert.That(set.Image(1).ToArray(), Is.EqualTo(new byte[] { 90, 100, 90, 100, 90, 100 }));
    }

    [Test]
    public void RgbBecomesGrayByBt601Luma()
    {
        // (R·19595 + G·38470 + B·7471 + 32768) >> 16, Pillow's convert("L"): pure red 255 → 76 (4,996,725 + 32,768 =
        // 5,029,493; / 65,536 = 76.7), pure green → 150, pure blue → 29, white → 255 (weights sum to 65,536).
        Write("c", "rgb.png", new PngImage(4, 1, 3, [255, 0, 0, 0, 255, 0, 0, 0, 255, 255, 255, 255]));
        Write("g", "gray.png", new PngImage(4, 1, 1, [7, 8, 9, 10]));

        var set = ImageFolder.Load(Scratch, channels: 1);

        Assert.That(set.Channels, Is.EqualTo(1));
        Assert.That(set.Image(0).ToArray(), Is.EqualTo(new byte[] { 76, 150, 29, 255 }));
        Assert.That(set.Image(1).ToArray(), Is.EqualTo(new byte[] { 7, 8, 9, 10 }));
    }

    [Test]
    public void GrayFolderExpandsToRgbWhenThreeChannelsAreRequested()
    {
        Write("g", "gray.png", Gray(42));
        var set = ImageFolder.Load(Scratch, channels: 3);
        Assert.That(set.Image(0).ToArray(), Is.EqualTo(new byte[] { 42, 42, 42, 42, 42, 42 }));
    }

    [Test]
    public void ImageOfAnotherSizeIsNamedWithTheExpectedSize()
    {
        Write("a", "first.png", Gray(1));
        Write("b", "ok.png", Gray(2));
        Write("b", "wide.png", new PngImage(3, 1, 1, [1, 2, 3]));

        var error = Assert.Throws<InvalidDataException>(() => ImageFolder.Load(Scratch))!;

        Assert.That(error.Message, Does.Contain(Path.Combine(Scratch, "b", "wide.png")));
        Assert.That(error.Message, Does.Contain("is 3×1"));
        Assert.That(error.Message, Does.Contain("expected 2×1"));
    }

    [Test]
    public void RootWithoutClassFoldersIsRejected()
    {
        File.WriteAllBytes(Path.Combine(Scratch, "stray.png"), Png.Encode(Gray(1)));
        var error = Assert.Throws<InvalidDataException>(() => ImageFolder.Load(Scratch))!;
        Assert.That(error.Message, Does.Contain(Scratch).And.Contain("one sub-folder per class"));
    }

    [Test]
    public void ClassFolderWithoutImagesIsRejected()
    {
        Write("a", "one.png", Gray(1));
        Directory.CreateDirectory(Path.Combine(Scratch, "empty"));
        var error = Assert.Throws<InvalidDataException>(() => ImageFolder.Load(Scratch))!;
        Assert.That(error.Message, Does.Contain(Path.Combine(Scratch, "empty")).And.Contain("holds no .png images"));
    }

    [Test]
    public void MissingRootAndUnsupportedChannelCountAreRejected()
    {
        Assert.Throws<DirectoryNotFoundException>(() => ImageFolder.Load(Path.Combine(Scratch, "absent")));
        Assert.Throws<ArgumentOutOfRangeException>(() => ImageFolder.Load(Scratch, channels: 2));
    }
}
