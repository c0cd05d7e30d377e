// The PNG decoder against files built byte by byte by PngFiles (its own forward filters and chunk writer): every
// supported colour type under every filter type, palettes at every bit depth with and without tRNS, IDAT split over
// several chunks, and one hand-made malformed file per rejection, asserting that the error names the file, the byte
// offset and what was expected. (The encoder's tests are in PngEncoderTests.)
using System.Buffers.Binary;
using Standalone.Models.Data;

namespace Standalone.Tests.Data;

[TestFixture]
public sealed class PngTests
{
    private static int ChannelsOf(byte colourType) => colourType switch { 0 => 1, 4 => 2, 2 => 3, 6 => 4, _ => throw new ArgumentOutOfRangeException(nameof(colourType)) };

    [Test]
    public void Crc32MatchesTheStandardCheckValue() =>
        // The CRC-32/ISO-HDLC check value: CRC of the ASCII digits "123456789".
        Assert.That(Crc32.Compute("123456789"u8), Is.EqualTo(0xCBF43926u));

    [Test]
    public void EightBitColourTypesDecodeUnderEveryFilter([Values(0, 2, 4, 6)] byte colourType, [Values(0, 1, 2, 3, 4)] byte filter)
    {
        const int width = 5, height = 4;
        int channels = ChannelsOf(colourType);
        byte[] pixels = PngFiles.Samples(width * height * channels, colourType + filter);
        byte[] file = PngFiles.Image(width, height, 8, colourType, pixels, channels, [filter]);

        var image = Png.Decode(file, "colour.png");

        Assert.That((image.Width, image.Height, image.Channels), Is.EqualTo((width, height, channels)));
        Assert.That(image.Pixels, Is.EqualTo(pixels));
    }

    [Test]
    public void EachRowMayUseADifferentFilter()
    {
        const int width = 6, height = 7;
        byte[] pixels = PngFiles.Samples(width * height * 4, 3);
        byte[] file = PngFiles.Image(width, height, 8, 6, pixels, 4, [4, 1, 3, 2, 0, 4, 3]);
        Assert.That(Png.Decode(file, "mixed.png").Pixels, Is.EqualTo(pixels));
    }

    [Test]
    public void PaletteImagesDecodeAtEveryBitDepth([Values(1, 2, 4, 8)] int bitDepth, [Values] bool withAlpha)
    {
        // 7 pixels a row, so sub-byte rows end in padding bits; filters cycle through all five (one byte a pixel).
        const int width = 7, height = 5;
        int entries = Math.Min(1 << bitDepth, 20);
        byte[] palette = PngFiles.Samples(entries * 3, bitDepth);
        // tRNS may be shorter than the palette; entries past its end are opaque.
        byte[] alpha = PngFiles.Samples((entries + 1) / 2, bitDepth + 7);
        int[] indices = Enumerable.Range(0, width * height).Select(i => (i * 7 + i / width) % entries).ToArray();
        byte[][] chunks = withAlpha ? [PngFiles.Chunk("PLTE", palette), PngFiles.Chunk("tRNS", alpha)] : [PngFiles.Chunk("PLTE", palette)];
        byte[] file = PngFiles.Image(width, height, (byte)bitDepth, 3, PngFiles.Pack(indices, width, bitDepth), 1, [0, 1, 2, 3, 4], chunks);

        var image = Png.Decode(file, "palette.png");

        int channels = withAlpha ? 4 : 3;
        var expected = indices.SelectMany(i => withAlpha
            ? new[] { palette[3 * i], palette[3 * i + 1], palette[3 * i + 2], i < alpha.Length ? alpha[i] : (byte)255 }
            : new[] { palette[3 * i], palette[3 * i + 1], palette[3 * i + 2] }).ToArray();
        Assert.That((image.Width, image.Height, image.Channels), Is.EqualTo((width, height, channels)));
        Assert.That(image.Pixels, Is.EqualTo(expected));
    }

    [Test]
    public void LowBitDepthGrayScalesToTheFullRange([Values(1, 2, 4)] int bitDepth)
    {
        // A level v of d bits means v / (2^d - 1) of full scale: at 2 bits 0, 1, 2, 3 are 0, 85, 170, 255.
        const int width = 9, height = 2;
        int maximum = (1 << bitDepth) - 1;
        int[] levels = Enumerable.Range(0, width * height).Select(i => i % (maximum + 1)).ToArray();
        byte[] file = PngFiles.Image(width, height, (byte)bitDepth, 0, PngFiles.Pack(levels, width, bitDepth), 1, [2]);
        Assert.That(Png.Decode(file, "gray.png").Pixels, Is.EqualTo(levels.Select(v => (byte)(v * 255 / maximum)).ToArray()));
    }

    [Test]
    public void ImageDataMaySpanSeveralIdatChunksAndAncillaryChunksAreSkipped()
    {
        const int width = 4, height = 3;
        byte[] pixels = PngFiles.Samples(width * height * 3, 9);
        byte[] compressed = PngFiles.Zlib(PngFiles.Filter(pixels, width * 3, 3, [1, 4]));
        int third = compressed.Length / 3;
        byte[] file = PngFiles.File(
            PngFiles.Header(width, height, 8, 2),
            PngFiles.Chunk("tEXt", "Comment\0split"u8),
            PngFiles.Chunk("IDAT", compressed.AsSpan(0, third)),
            PngFiles.Chunk("IDAT", []),
            PngFiles.Chunk("IDAT", compressed.AsSpan(third, third)),
            PngFiles.Chunk("IDAT", compressed.AsSpan(2 * third)),
            PngFiles.Chunk("IEND", []));
        Assert.That(Png.Decode(file, "split.png").Pixels, Is.EqualTo(pixels));
    }

    // ---- malformed files ----------------------------------------------------------------------------------------

    // A valid 3×2 RGB file. Layout: signature 0–7, IHDR chunk 8–32 (data 16–28: bit depth at 24, interlace at 28),
    // IDAT chunk at 33 (data from 41), its CRC at 41 + n, IEND at 45 + n.
    private const int Width = 3, Height = 2, IdatOffset = 33;
    private static readonly byte[] RgbPixels = PngFiles.Samples(Width * Height * 3, 1);
    private static byte[] RawRows(int rows) => PngFiles.Filter(RgbPixels[..(rows * Width * 3)], Width * 3, 3, [0]);
    private static byte[] Valid() => PngFiles.Image(Width, Height, 8, 2, RgbPixels, 3, [0]);
    private static int IdatLength(byte[] file) => (int)BinaryPrimitives.ReadUInt32BigEndian(file.AsSpan(IdatOffset));
    private static byte[] WithImageData(byte[] compressed) =>
        PngFiles.File(PngFiles.Header(Width, Height, 8, 2), PngFiles.Chunk("IDAT", compressed), PngFiles.Chunk("IEND", []));

    private static IEnumerable<TestCaseData> MalformedFiles()
    {
        TestCaseData Case(string name, byte[] file, params string[] expected) => new TestCaseData(name, file, expected).SetName($"Rejects{name}");

        var badSignature = Valid();
        badSignature[1] = (byte)'X';
        yield return Case("BadSignature", badSignature, "at byte 0", "signature");

        yield return Case("MissingHeader", PngFiles.File(PngFiles.Chunk("IDAT", PngFiles.Zlib(RawRows(Height))), PngFiles.Chunk("IEND", [])),
            "at byte 8", "IHDR chunk first, found IDAT");
        yield return Case("SixteenBitSamples", PngFiles.File(PngFiles.Header(Width, Height, 16, 2), PngFiles.Chunk("IEND", [])),
            "at byte 24", "bit depth 8", "found bit depth 16", "16-bit samples are not supported");
        yield return Case("Interlacing", PngFiles.File(PngFiles.Header(Width, Height, 8, 2, interlace: 1), PngFiles.Chunk("IEND", [])),
            "at byte 28", "interlace method 0, found 1");
        yield return Case("BadColourType", PngFiles.File(PngFiles.Header(Width, Height, 8, 5), PngFiles.Chunk("IEND", [])),
            "at byte 25", "colour type 0, 2, 3, 4 or 6, found 5");

        var valid = Valid();
        int n = IdatLength(valid);
        yield return Case("TruncatedChunk", valid[..(41 + n / 2)], $"at byte {IdatOffset}", "chunk IDAT", "truncated chunk");
        var badCrc = Valid();
        badCrc[41 + n / 2] ^= 0x10;
        yield return Case("BadCrc", badCrc, $"at byte {41 + n}", "CRC", "of chunk IDAT");
        yield return Case("MissingEnd", valid[..(45 + n)], $"at byte {45 + n}", "before the IEND chunk");
        yield return Case("MissingImageData", PngFiles.File(PngFiles.Header(Width, Height, 8, 2), PngFiles.Chunk("IEND", [])),
            $"at byte {IdatOffset}", "at least one IDAT chunk");

        // A zlib header then a deflate block of the reserved type 3 (first byte 0xFF: BFINAL 1, BTYPE 11).
        yield return Case("ZlibError", WithImageData([0x78, 0x9C, 0xFF, 0xFF, 0xFF, 0xFF]), $"at byte {IdatOffset}", "valid zlib stream");
        yield return Case("ShortImageData", WithImageData(PngFiles.Zlib(RawRows(1))), $"at byte {IdatOffset}",
            "20 decompressed bytes (2 rows of 1 filter byte and 9 data bytes)", "holds only 10");
        yield return Case("LongImageData", WithImageData(PngFiles.Zlib([.. RawRows(Height), 0, 0])), $"at byte {IdatOffset}",
            "20 decompressed bytes", "holds more");
        var badFilter = RawRows(Height);
        badFilter[Width * 3 + 1] = 5;
        yield return Case("UnknownFilterType", WithImageData(PngFiles.Zlib(badFilter)), "at byte 10 of the decompressed image data (row 1)",
            "filter type 0–4, found 5");

        yield return Case("PaletteIndexOutOfRange", PngFiles.Image(2, 1, 8, 3, [1, 2], 1, [0], PngFiles.Chunk("PLTE", new byte[6])),
            "at pixel (1, 0)", "palette index below 2, found 2");
        yield return Case("PaletteWithoutPlte", PngFiles.Image(2, 1, 8, 3, [0, 1], 1, [0]), "PLTE chunk before IEND");
        yield return Case("UnknownCriticalChunk", PngFiles.File(PngFiles.Header(Width, Height, 8, 2), PngFiles.Chunk("ABCD", [1]), PngFiles.Chunk("IEND", [])),
            $"at byte {IdatOffset}", "unknown critical chunk ABCD");
    }

    [TestCaseSource(nameof(MalformedFiles))]
    public void MalformedFileIsRejected(string name, byte[] file, string[] expected)
    {
        string fileName = $"{name}.png";
        var error = Assert.Throws<InvalidDataException>(() => Png.Decode(file, fileName))!;
        Assert.That(error.Message, Does.Contain($"PNG '{fileName}'"));
        foreach (string part in expected) Assert.That(error.Message, Does.Contain(part));
    }
}
