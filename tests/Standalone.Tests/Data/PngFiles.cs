// Test-side PNG writer that builds files byte by byte, independent of Png.Encode: it applies a chosen scanline
// filter per row (the forward transform of PNG §9.2, written separately from the decoder's inverse), splits the
// zlib stream over any number of IDAT chunks, and leaves every byte reachable so tests can corrupt one on purpose.
using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;
using Standalone.Models.Data;

namespace Standalone.Tests.Data;

internal static class PngFiles
{
    public static readonly byte[] Signature = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A];

    /// <summary>Varied samples that make every filter wrap around 256 somewhere; the exact values carry no meaning.</summary>
    public static byte[] Samples(int count, int seed) =>
        Enumerable.Range(0, count).Select(i => (byte)(i * 37 + seed * 101 + (i * i) % 23)).ToArray();

    /// <summary>Length, type, data, CRC over type and data.</summary>
    public static byte[] Chunk(string type, ReadOnlySpan<byte> data)
    {
        var chunk = new byte[12 + data.Length];
        BinaryPrimitives.WriteUInt32BigEndian(chunk, (uint)data.Length);
        Encoding.ASCII.GetBytes(type, chunk.AsSpan(4, 4));
        data.CopyTo(chunk.AsSpan(8));
        BinaryPrimitives.WriteUInt32BigEndian(chunk.AsSpan(8 + data.Length), Crc32.Compute(chunk.AsSpan(4, 4 + data.Length)));
        return chunk;
    }

    public static byte[] Header(int width, int height, byte bitDepth, byte colourType, byte interlace = 0)
    {
        var data = new byte[13];
        BinaryPrimitives.WriteUInt32BigEndian(data, (uint)width);
        BinaryPrimitives.WriteUInt32BigEndian(data.AsSpan(4), (uint)height);
        data[8] = bitDepth;
        data[9] = colourType;
        data[12] = interlace;
        return Chunk("IHDR", data);
    }

    public static byte[] File(params byte[][] chunks) => [.. Signature, .. chunks.SelectMany(c => c)];

    public static byte[] Zlib(byte[] raw)
    {
        using var output = new MemoryStream();
        using (var zlib = new ZLibStream(output, CompressionLevel.Optimal, leaveOpen: true)) zlib.Write(raw);
        return output.ToArray();
    }

    /// <summary>
    /// Prefixes each row of unfiltered scanlines with its filter byte and filters it: stored = x - predictor (mod 256),
    /// the predictor from the unfiltered left (a), above (b) and above-left (c) bytes, zero outside the image.
    /// </summary>
    public static byte[] Filter(byte[] scanlines, int rowBytes, int pixelBytes, IReadOnlyList<byte> filters)
    {
        int rows = scanlines.Length / rowBytes;
        var output = new byte[rows * (rowBytes + 1)];
        for (int y = 0; y < rows; y++)
        {
            byte filter = filters[y % filters.Count];
            output[y * (rowBytes + 1)] = filter;
            for (int i = 0; i < rowBytes; i++)
            {
                int x = scanlines[y * rowBytes + i];
                int a = i >= pixelBytes ? scanlines[y * rowBytes + i - pixelBytes] : 0;
                int b = y > 0 ? scanlines[(y - 1) * rowBytes + i] : 0;
                int c = y > 0 && i >= pixelBytes ? scanlines[(y - 1) * rowBytes + i - pixelBytes] : 0;
                int predictor = filter switch
                {
                    0 => 0,
                    1 => a,
                    2 => b,
                    3 => (a + b) / 2,
                    4 => PaethPredictor(a, b, c),
                    _ => throw new ArgumentOutOfRangeException(nameof(filters), filter, "filter type 0–4"),
                };
                output[y * (rowBytes + 1) + 1 + i] = (byte)(x - predictor);
            }
        }
        return output;
    }

    // Written as in the specification's pseudo-code (§9.4) rather than like the decoder's version.
    private static int PaethPredictor(int a, int b, int c)
    {
        int p = a + b - c;
        int pa = Math.Abs(p - a), pb = Math.Abs(p - b), pc = Math.Abs(p - c);
        if (pa <= pb && pa <= pc) return a;
        if (pb <= pc) return b;
        return c;
    }

    /// <summary>Packs samples of 1, 2, 4 or 8 bits into rows, most significant bits first, each row padded to a byte.</summary>
    public static byte[] Pack(int[] samples, int width, int bitDepth)
    {
        int rowBytes = (width * bitDepth + 7) / 8, rows = samples.Length / width;
        var packed = new byte[rows * rowBytes];
        for (int y = 0; y < rows; y++)
            for (int x = 0; x < width; x++)
            {
                int bit = x * bitDepth;
                packed[y * rowBytes + bit / 8] |= (byte)(samples[y * width + x] << (8 - bitDepth - bit % 8));
            }
        return packed;
    }

    /// <summary>A whole file: IHDR, the extra chunks, then the filtered, compressed scanlines in one IDAT, then IEND.</summary>
    public static byte[] Image(int width, int height, byte bitDepth, byte colourType, byte[] scanlines, int pixelBytes,
        IReadOnlyList<byte> filters, params byte[][] extraChunks)
    {
        int rowBytes = scanlines.Length / height;
        byte[] compressed = Zlib(Filter(scanlines, rowBytes, pixelBytes, filters));
        return File([Header(width, height, bitDepth, colourType), .. extraChunks, Chunk("IDAT", compressed), Chunk("IEND", [])]);
    }
}
