// IDX files (MNIST, Fashion-MNIST): magic 00 00 <type> <ndims>, ndims big-endian u32 sizes, then the data in C order.
// Only type 0x08 (unsigned byte) is read — the type every MNIST-family file uses. gzip'd files are recognised by
// their own magic (1f 8b), not by name. Offsets in messages are into the decompressed stream.
using System.Buffers.Binary;
using System.IO.Compression;

namespace Standalone.Models.Data;

public static class Idx
{
    /// <summary>The dimensions and the bytes of an IDX file of unsigned bytes (gzip'd or raw).</summary>
    public static (int[] Dims, byte[] Data) Read(string path)
    {
        byte[] bytes;
        try
        {
            bytes = ReadAll(path);
        }
        catch (InvalidDataException e)
        {
            throw new InvalidDataException($"IDX file {path}: the gzip stream is corrupt ({e.Message})", e);
        }
        if (bytes.Length < 4) throw Error(path, 0, $"a 4-byte magic number, but the file holds {bytes.Length} bytes");
        if (bytes[0] != 0 || bytes[1] != 0)
            throw Error(path, 0, $"the magic number 00 00 <type> <ndims>, found {bytes[0]:x2} {bytes[1]:x2} {bytes[2]:x2} {bytes[3]:x2}");
        if (bytes[2] != 0x08) throw Error(path, 2, $"data type 0x08 (unsigned byte), found 0x{bytes[2]:x2}");
        int ndims = bytes[3];
        if (ndims == 0) throw Error(path, 3, "at least one dimension, found 0");
        int headerEnd = 4 + 4 * ndims;
        if (bytes.Length < headerEnd) throw Error(path, bytes.Length, $"{ndims} dimension sizes ending at offset {headerEnd}, but the file ends");
        var dims = new int[ndims];
        long count = 1;
        for (int d = 0; d < ndims; d++)
        {
            uint size = BinaryPrimitives.ReadUInt32BigEndian(bytes.AsSpan(4 + 4 * d));
            if (size > int.MaxValue) throw Error(path, 4 + 4 * d, $"a dimension size below 2³¹, found {size}");
            dims[d] = (int)size;
            count *= size;
        }
        long available = bytes.Length - headerEnd;
        if (available != count)
            throw Error(path, headerEnd, $"{count} data bytes for dimensions [{string.Join(", ", dims)}], found {available}" +
                (available < count ? " (the file is truncated)" : " (trailing bytes)"));
        return (dims, bytes[headerEnd..]);
    }

    private static byte[] ReadAll(string path)
    {
        byte[] raw = File.ReadAllBytes(path);
        if (raw.Length < 2 || raw[0] != 0x1f || raw[1] != 0x8b) return raw;
        using var gzip = new GZipStream(new MemoryStream(raw), CompressionMode.Decompress);
        using var output = new MemoryStream(raw.Length * 4);
        gzip.CopyTo(output);
        return output.ToArray();
    }

    private static InvalidDataException Error(string path, long offset, string expected) =>
        new($"IDX file {path}, offset {offset}: expected {expected}");
}
