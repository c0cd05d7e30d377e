// The PNG writer: gray, gray+alpha, RGB and RGBA images of odd sizes (1×1, 7×3, 11×3) round-trip through the decoder,
// the adaptive filter choice is the hand-derivable one on a ramp, and Write leaves exactly the file it names.
using System.Buffers.Binary;
using System.IO.Compression;
using Standalone.Models.Data;
using Standalone.Tests.Support;

namespace Standalone.Tests.Data;

[TestFixture]
public sealed class PngEncoderTests : ScratchDirectoryTest
{
    [Test]
    public void EncodeThenDecodeRoundTrips([Values(1, 2, 3, 4)] int channels, [Values(1, 7, 11)] int width, [Values(1, 3)] int height)
    {
        var image = new PngImage(width, height, channels, PngFiles.Samples(width * height * channels, channels + width));
        var decoded = Png.Decode(Png.Encode(image), "encoded.png");
        Assert.That((decoded.Width, decoded.Height, decoded.Channels), Is.EqualTo((width, height, channels)));
        Assert.That(decoded.Pixels, Is.EqualTo(image.Pixels));
    }

    [Test]
    public void EachRowGetsTheFilterWithTheSmallestSumOfAbsoluteValues()
    {
        // Three identical gray rows 0, 10, ..., 60. Row 0 (nothing above): None sums to 210, Sub to 0 + 6·10 = 60,
        // Up to 210, Average to 0 + 10 + 15 + 20 + ... = 165, Paeth (b = c = 0, so it predicts a) ties Sub at 60 and
        // the tie keeps Sub. Rows 1 and 2: Up leaves all zeros.
        const int width = 7, height = 3;
        byte[] row = Enumerable.Range(0, width).Select(x => (byte)(10 * x)).ToArray();
        var image = new PngImage(width, height, 1, [.. row, .. row, .. row]);

        byte[] raw = DecompressedImageData(Png.Encode(image));

        Assert.That(Enumerable.Range(0, height).Select(y => raw[y * (width + 1)]), Is.EqualTo(new byte[] { 1, 2, 2 }));
        Assert.That(raw.AsSpan(1, width).ToArray(), Is.EqualTo(new byte[] { 0, 10, 10, 10, 10, 10, 10 }));
        Assert.That(raw.Skip(width + 1).Where((_, i) => i % (width + 1) != 0), Is.All.EqualTo((byte)0));
    }

    [Test]
    public void WriteLeavesOnlyTheNamedFile()
    {
        var image = new PngImage(3, 2, 3, PngFiles.Samples(18, 5));
        string path = Path.Combine(Scratch, "figures", "out.png");
        Png.Write(path, image);
        Png.Write(path, image);   // overwriting is allowed
        Assert.That(Directory.GetFiles(Path.Combine(Scratch, "figures")), Is.EqualTo(new[] { path }));
        Assert.That(Png.Decode(File.ReadAllBytes(path), path).Pixels, Is.EqualTo(image.Pixels));
    }

    /// <summary>The inflated IDAT data of a file with one IDAT chunk: rows of a filter byte and the filtered samples.</summary>
    private static byte[] DecompressedImageData(byte[] file)
    {
        for (int offset = PngFiles.Signature.Length; offset < file.Length;)
        {
            int length = (int)BinaryPrimitives.ReadUInt32BigEndian(file.AsSpan(offset));
            if (System.Text.Encoding.ASCII.GetString(file, offset + 4, 4) == "IDAT")
            {
                using var zlib = new ZLibStream(new MemoryStream(file, offset + 8, length), CompressionMode.Decompress);
                using var raw = new MemoryStream();
                zlib.CopyTo(raw);
                return raw.ToArray();
            }
            offset += 12 + length;
        }
        throw new InvalidDataException("the encoded file has no IDAT chunk");
    }
}
