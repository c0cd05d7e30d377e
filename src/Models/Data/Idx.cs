// IDX files (MNIST, Fashion-MNIST): magic 00 00 <type> <ndims>, ndims big-endian u32 sizes, then the data in C order.
// Only type 0x08 (unsigned byte) is read — the type every MNIST-family file uses. gzip'd files are recognised by
// their own magic (1f 8b), not by name. Offsets in messages are into the decompressed stream.
// The header is read first and bounded (sides, total bytes); then exactly the bytes it announces are read, so a
// small gzip'd file cannot expand into more memory than its header admits to.
using System.Buffers.Binary;
using System.IO.Compression;
using Standalone.Models.IO;

namespace Standalone.Models.Data;

public static class Idx
{
    /// <summary>The largest dimension after the first (an image side) and the most data bytes a file may announce.</summary>
    public const int MaxSide = 1024;
    public const long MaxBytes = 1L << 30;

    /// <summary>
    /// The dimensions and the bytes of an IDX file of unsigned bytes (gzip'd or raw); <paramref name="checkDims"/> sees
    /// the dimensions before the data is read (and may throw).
    /// </summary>
    public static (int[] Dims, byte[] Data) Read(string path, Action<int[]>? checkDims = null)
    {
        using var file = InputFile.OpenRead(path, "IDX file");
        bool gzipped = file.Length >= 2 && file.ReadByte() == 0x1f && file.ReadByte() == 0x8b;
        file.Position = 0;
        using Stream stream = gzipped ? new GZipStream(file, CompressionMode.Decompress) : file;
        try
        {
            return Read(path, stream, checkDims);
        }
        catch (InvalidDataException e) when (gzipped && !e.Message.StartsWith("IDX file", StringComparison.Ordinal))
        {
            throw new InvalidDataException($"IDX file {path}: the gzip stream is corrupt ({e.Message})", e);
        }
    }

    private static (int[] Dims, byte[] Data) Read(string path, Stream stream, Action<int[]>? checkDims)
    {
        Span<byte> magic = stackalloc byte[4];
        int got = stream.ReadAtLeast(magic, 4, throwOnEndOfStream: false);
        if (got < 4) throw Error(path, 0, $"a 4-byte magic number, but the file holds {got} bytes");
        if (magic[0] != 0 || magic[1] != 0)
            throw Error(path, 0, $"the magic number 00 00 <type> <ndims>, found {magic[0]:x2} {magic[1]:x2} {magic[2]:x2} {magic[3]:x2}");
        if (magic[2] != 0x08) throw Error(path, 2, $"data type 0x08 (unsigned byte), found 0x{magic[2]:x2}");
        int ndims = magic[3];
        if (ndims is 0 or > 3) throw Error(path, 3, $"1 to 3 dimensions (labels [N] or images [N, H, W]), found {ndims}");
        int headerEnd = 4 + 4 * ndims;
        var sizes = new byte[4 * ndims];
        got = stream.ReadAtLeast(sizes, sizes.Length, throwOnEndOfStream: false);
        if (got < sizes.Length) throw Error(path, 4 + got, $"{ndims} dimension sizes ending at offset {headerEnd}, but the file ends");
        var dims = new int[ndims];
        long count = 1;
        for (int d = 0; d < ndims; d++)
        {
            uint size = BinaryPrimitives.ReadUInt32BigEndian(sizes.AsSpan(4 * d));
            long limit = d == 0 ? MaxBytes : MaxSide;
            if (size > limit) throw Error(path, 4 + 4 * d, $"{(d == 0 ? "a count" : "an image side")} of at most {limit:N0}, found {size:N0}");
            dims[d] = (int)size;
            count *= size;
        }
        if (count > MaxBytes)
            throw Error(path, 4, $"at most {MaxBytes:N0} data bytes, but dimensions [{string.Join(", ", dims)}] announce {count:N0}");
        checkDims?.Invoke(dims);
        var data = new byte[count];
        long available = stream.ReadAtLeast(data, data.Length, throwOnEndOfStream: false);
        if (available < count)
            throw Error(path, headerEnd, $"{count} data bytes for dimensions [{string.Join(", ", dims)}], found {available} (the file is truncated)");
        if (stream.ReadByte() >= 0)
            throw Error(path, headerEnd + count, $"the end of the file after {count} data bytes for dimensions [{string.Join(", ", dims)}] (trailing bytes)");
        return (dims, data);
    }

    private static InvalidDataException Error(string path, long offset, string expected) =>
        new($"IDX file {path}, offset {offset}: expected {expected}");
}
