// The IDX reader on hand-made files: raw and gzip'd files give the same dimensions and bytes, Fashion-MNIST-style
// directories load as ImageDatasets, and every malformed case is rejected naming the file, the offset and the
// expectation.
using System.IO.Compression;
using Standalone.Models.Data;
using Standalone.Tests.Support;

namespace Standalone.Tests.Data;

[TestFixture]
public sealed class IdxTests : ScratchDirectoryTest
{
    /// <summary>An IDX file of unsigned bytes: 00 00 08 ndims, big-endian sizes, data.</summary>
    private static byte[] IdxBytes(int[] dims, byte[] data)
    {
        var bytes = new List<byte> { 0, 0, 0x08, (byte)dims.Length };
        foreach (int d in dims) bytes.AddRange([(byte)(d >> 24), (byte)(d >> 16), (byte)(d >> 8), (byte)d]);
        bytes.AddRange(data);
        return bytes.ToArray();
    }

    private string Write(string name, byte[] bytes, bool gzip = false)
    {
        string path = Path.Combine(Scratch, name);
        if (!gzip)
        {
            File.WriteAllBytes(path, bytes);
            return path;
        }
        using var file = File.Create(path);
        using var zip = new GZipStream(file, CompressionLevel.Fastest);
        zip.Write(bytes);
        return path;
    }

    [Test]
    public void RawAndGzipReadTheSame([Values] bool gzip)
    {
        var data = Enumerable.Range(0, 2 * 3 * 4).Select(i => (byte)(i * 7)).ToArray();
        var (dims, bytes) = Idx.Read(Write("x.idx", IdxBytes([2, 3, 4], data), gzip));
        Assert.That(dims, Is.EqualTo(new[] { 2, 3, 4 }));
        Assert.That(bytes, Is.EqualTo(data));
    }

    [Test]
    public void MnistDirectoryLoadsImagesAndLabels()
    {
        var pixels = Enumerable.Range(0, 3 * 2 * 2).Select(i => (byte)i).ToArray();
        Write("t10k-images-idx3-ubyte.gz", IdxBytes([3, 2, 2], pixels), gzip: true);
        Write("t10k-labels-idx1-ubyte", IdxBytes([3], [9, 0, 4]));
        var set = Mnist.Load(Scratch, train: false, Mnist.FashionClasses);
        Assert.That((set.Count, set.Channels, set.Height, set.Width), Is.EqualTo((3, 1, 2, 2)));
        Assert.That(set.Labels, Is.EqualTo(new[] { 9, 0, 4 }));
        Assert.That(set.Image(2).ToArray(), Is.EqualTo(new byte[] { 8, 9, 10, 11 }));
        Assert.That(set.Classes[9], Is.EqualTo("Ankle boot"));
    }

    [Test]
    public void TruncatedDataNamesFileOffsetAndCounts()
    {
        var bytes = IdxBytes([2, 3, 3], new byte[18])[..^5];
        string path = Write("short.idx", bytes);
        var e = Assert.Throws<InvalidDataException>(() => Idx.Read(path))!;
        Assert.That(e.Message, Does.Contain(path).And.Contain("offset 16").And.Contain("18 data bytes").And.Contain("found 13").And.Contain("truncated"));
    }

    [Test]
    public void TruncatedGzipStreamIsReported()
    {
        string path = Write("cut.gz", IdxBytes([100], new byte[100]), gzip: true);
        var whole = File.ReadAllBytes(path);
        File.WriteAllBytes(path, whole[..(whole.Length / 2)]);
        var e = Assert.Throws<InvalidDataException>(() => Idx.Read(path))!;
        Assert.That(e.Message, Does.Contain(path));
    }

    [TestCase(new byte[] { 1, 0, 8, 1, 0, 0, 0, 0 }, "offset 0", "magic number")]
    [TestCase(new byte[] { 0, 0, 0x0D, 1, 0, 0, 0, 0 }, "offset 2", "0x08 (unsigned byte), found 0x0d")]
    [TestCase(new byte[] { 0, 0, 8, 0 }, "offset 3", "1 to 3 dimensions")]
    [TestCase(new byte[] { 0, 0, 8, 3, 0, 0, 0, 1, 0, 0, 0x0F, 0xA0, 0, 0, 0x0F, 0xA0 }, "offset 8", "an image side of at most 1,024, found 4,000")]
    [TestCase(new byte[] { 0, 0, 8, 3, 0, 0, 0, 1 }, "offset 8", "3 dimension sizes")]
    [TestCase(new byte[] { 0, 0 }, "offset 0", "4-byte magic")]
    public void MalformedHeadersAreNamed(byte[] bytes, string offset, string expected)
    {
        string path = Write("bad.idx", bytes);
        var e = Assert.Throws<InvalidDataException>(() => Idx.Read(path))!;
        Assert.That(e.Message, Does.Contain(path).And.Contain(offset).And.Contain(expected));
    }

    [Test]
    public void ImageAndLabelCountsMustAgree()
    {
        Write("train-images-idx3-ubyte", IdxBytes([2, 1, 1], [1, 2]));
        Write("train-labels-idx1-ubyte", IdxBytes([3], [1, 2, 3]));
        var e = Assert.Throws<InvalidDataException>(() => Mnist.Load(Scratch, train: true, Mnist.DigitClasses))!;
        Assert.That(e.Message, Does.Contain("2 images but 3 labels"));
    }

    [Test]
    public void LabelOutsideTheClassesIsNamedAtItsOffset()
    {
        Write("train-images-idx3-ubyte", IdxBytes([2, 1, 1], [1, 2]));
        Write("train-labels-idx1-ubyte", IdxBytes([2], [1, 10]));
        var e = Assert.Throws<InvalidDataException>(() => Mnist.Load(Scratch, train: true, Mnist.DigitClasses))!;
        Assert.That(e.Message, Does.Contain("offset 9").And.Contain("label below 10, found 10"));
    }

    [Test]
    public void MissingFilesAreNamed()
    {
        var e = Assert.Throws<FileNotFoundException>(() => Mnist.Load(Scratch, train: true, Mnist.DigitClasses))!;
        Assert.That(e.Message, Does.Contain("train-images-idx3-ubyte.gz"));
    }

    [Test]
    public void ShippedFashionMnistIsFoundAndComplete()
    {
        string dir = DataCatalog.Locate("fashion-mnist", null);
        var test = DataCatalog.Load("fashion-mnist", dir, train: false);
        Assert.That((test.Count, test.Channels, test.Height, test.Width), Is.EqualTo((10_000, 1, 28, 28)));
        // Fashion-MNIST's test split is balanced: 1,000 images per class.
        Assert.That(test.Labels.GroupBy(l => l).Select(g => g.Count()), Is.All.EqualTo(1000));
    }
}
