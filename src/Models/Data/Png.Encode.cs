// The PNG writer: 8-bit gray, gray+alpha, RGB or RGBA in one IDAT chunk, and Write, which puts the file in place
// atomically (AtomicFile). Each scanline gets the filter the PNG specification recommends choosing adaptively for
// true-colour and gray images (§12.8), the heuristic libpng uses too: filter the row all five ways and keep the
// result with the smallest sum of absolute values, bytes read as signed. Figures are flat regions, smooth ramps and
// rows repeated by nearest-neighbour upscaling, which Sub and Up turn into runs of zeros that deflate shrinks to almost
// nothing; trying five filters costs five passes over a row, nothing next to the compression itself.
using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;
using Standalone.Models.IO;

namespace Standalone.Models.Data;

public static partial class Png
{
    /// <summary>An 8-bit PNG of the image (1 channel gray, 2 gray+alpha, 3 RGB, 4 RGBA), each row adaptively filtered.</summary>
    public static byte[] Encode(PngImage image)
    {
        int pixelBytes = image.Channels, rowBytes = image.Width * pixelBytes;
        var filtered = new byte[(long)image.Height * (rowBytes + 1)];
        var candidate = new byte[rowBytes];
        for (int y = 0; y < image.Height; y++)
        {
            var row = image.Pixels.AsSpan(y * rowBytes, rowBytes);
            var above = y > 0 ? image.Pixels.AsSpan((y - 1) * rowBytes, rowBytes) : ReadOnlySpan<byte>.Empty;
            var output = filtered.AsSpan(y * (rowBytes + 1), rowBytes + 1);
            long best = long.MaxValue;
            for (byte filter = 0; filter <= 4; filter++)
            {
                long cost = FilterRow(filter, row, above, pixelBytes, candidate);
                if (cost >= best) continue;   // ties keep the earlier, simpler filter
                best = cost;
                output[0] = filter;
                candidate.CopyTo(output[1..]);
            }
        }
        using var compressed = new MemoryStream();
        using (var zlib = new ZLibStream(compressed, CompressionLevel.Optimal, leaveOpen: true)) zlib.Write(filtered);

        var header = new byte[13];
        BinaryPrimitives.WriteUInt32BigEndian(header, (uint)image.Width);
        BinaryPrimitives.WriteUInt32BigEndian(header.AsSpan(4), (uint)image.Height);
        header[8] = 8;
        header[9] = image.Channels switch { 1 => Gray, 2 => GrayAlpha, 3 => Rgb, _ => Rgba };
        using var file = new MemoryStream();
        file.Write(Signature);
        WriteChunk(file, "IHDR", header);
        WriteChunk(file, "IDAT", compressed.GetBuffer().AsSpan(0, (int)compressed.Length));
        WriteChunk(file, "IEND", []);
        return file.ToArray();
    }

    /// <summary>Encodes the image and writes it to path through a temporary file, so no reader sees half a PNG.</summary>
    public static void Write(string path, PngImage image) => AtomicFile.WriteAllBytes(path, Encode(image));

    /// <summary>
    /// Filters one row (§9.2): stored = x − predictor (mod 256), the predictor from the unfiltered left (a), above (b)
    /// and above-left (c) bytes, zero outside the image. Returns Σ |stored| with stored read as a signed byte.
    /// </summary>
    private static long FilterRow(byte filter, ReadOnlySpan<byte> row, ReadOnlySpan<byte> above, int left, Span<byte> output)
    {
        long cost = 0;
        for (int i = 0; i < row.Length; i++)
        {
            int a = i >= left ? row[i - left] : 0;
            int b = above.IsEmpty ? 0 : above[i];
            int c = !above.IsEmpty && i >= left ? above[i - left] : 0;
            int predictor = filter switch { 0 => 0, 1 => a, 2 => b, 3 => (a + b) >> 1, _ => Paeth(a, b, c) };
            byte stored = (byte)(row[i] - predictor);
            output[i] = stored;
            cost += Math.Abs((int)(sbyte)stored);   // as int: |sbyte −128| overflows sbyte
        }
        return cost;
    }

    private static void WriteChunk(Stream file, string type, ReadOnlySpan<byte> data)
    {
        var chunk = new byte[12 + data.Length];
        BinaryPrimitives.WriteUInt32BigEndian(chunk, (uint)data.Length);
        Encoding.ASCII.GetBytes(type, chunk.AsSpan(4, 4));
        data.CopyTo(chunk.AsSpan(8));
        BinaryPrimitives.WriteUInt32BigEndian(chunk.AsSpan(8 + data.Length), Crc32.Compute(chunk.AsSpan(4, 4 + data.Length)));
        file.Write(chunk);
    }
}
