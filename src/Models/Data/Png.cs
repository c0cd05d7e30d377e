// A small PNG reader (this file) and writer (Png.Encode.cs) over System.IO.Compression.ZLibStream, enough for
// image-folder data sets and for writing figures. Decode supports what data sets use: 8-bit gray, gray+alpha, RGB and RGBA; gray at 1, 2 and 4
// bits; palette images at 1, 2, 4 and 8 bits with an optional tRNS alpha table; all five scanline filters; image data
// split over any number of IDAT chunks. Every chunk's CRC is checked. 16-bit samples and Adam7 interlacing are
// rejected rather than half-supported: every error is an InvalidDataException naming the file, the byte offset and
// what was expected there. The encoder is in Png.Encode.cs.
using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;

using Standalone.Models.IO;

namespace Standalone.Models.Data;

public static partial class Png
{
    private static ReadOnlySpan<byte> Signature => [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A];

    // Colour types of the IHDR chunk (PNG specification, section 11.2.2).
    private const byte Gray = 0, Rgb = 2, Palette = 3, GrayAlpha = 4, Rgba = 6;

    private readonly record struct Header(int Width, int Height, int BitDepth, int ColourType)
    {
        /// <summary>Samples per pixel as stored in the file (a palette index is one sample).</summary>
        public int FileChannels => ColourType switch { Rgb => 3, GrayAlpha => 2, Rgba => 4, _ => 1 };
        /// <summary>Bytes of one scanline without its filter byte.</summary>
        public long RowBytes => ((long)Width * FileChannels * BitDepth + 7) / 8;
        /// <summary>The filters' byte distance to the "left" pixel: a whole pixel, at least one byte (PNG §9.2).</summary>
        public int FilterStride => Math.Max(1, FileChannels * BitDepth / 8);
    }

    /// <summary>The largest width or height decoded: a few header bytes must not ask for gigabytes.</summary>
    public const int MaxSide = 4096;

    /// <summary>Reads and decodes a PNG file (a regular file of at most 256 MiB).</summary>
    public static PngImage Read(string path) => Decode(InputFile.ReadAllBytes(path, "image file", 256 << 20), path);

    public static PngImage Decode(ReadOnlySpan<byte> file, string name)
    {
        if (file.Length < Signature.Length || !file[..Signature.Length].SequenceEqual(Signature))
            throw Error(name, 0, "the 8-byte PNG signature 89 50 4E 47 0D 0A 1A 0A");
        Header? header = null;
        byte[]? palette = null, paletteAlpha = null;
        using var imageData = new MemoryStream();
        int firstImageData = -1;
        int offset = Signature.Length;
        while (true)
        {
            if (file.Length - offset < 12)
                throw Error(name, offset, $"a chunk (12 bytes of length, type and CRC at least) but the file ends after {file.Length - offset} more bytes, before the IEND chunk");
            uint length = BinaryPrimitives.ReadUInt32BigEndian(file[offset..]);
            string type = Encoding.ASCII.GetString(file.Slice(offset + 4, 4));
            if (length > int.MaxValue || file.Length - offset - 12 < length)
                throw Error(name, offset, $"chunk {type} of {length} data bytes plus its CRC, but only {file.Length - offset - 12} bytes remain (truncated chunk)");
            var data = file.Slice(offset + 8, (int)length);
            int crcOffset = offset + 8 + (int)length;
            uint storedCrc = BinaryPrimitives.ReadUInt32BigEndian(file[crcOffset..]);
            uint actualCrc = Crc32.Compute(file.Slice(offset + 4, 4 + (int)length));
            if (storedCrc != actualCrc)
                throw Error(name, crcOffset, $"CRC {actualCrc:X8} of chunk {type}, found {storedCrc:X8}");
            if (header is null && type != "IHDR")
                throw Error(name, offset, $"the IHDR chunk first, found {type}");

            switch (type)
            {
                case "IHDR":
                    if (header is not null) throw Error(name, offset, "one IHDR chunk, found a second");
                    header = ReadHeader(data, name, offset + 8);
                    break;
                case "PLTE":
                    if (length == 0 || length % 3 != 0 || length > 768)
                        throw Error(name, offset, $"a PLTE chunk of 1–256 RGB entries (a multiple of 3 bytes up to 768), found {length} bytes");
                    palette = data.ToArray();
                    break;
                case "tRNS":
                    // Only a palette's alpha table is kept; the single transparent colour of gray and RGB images is
                    // ignored because data sets drop alpha anyway.
                    if (header!.Value.ColourType == Palette)
                    {
                        if (palette is null) throw Error(name, offset, "the PLTE chunk before tRNS");
                        if (length > palette.Length / 3)
                            throw Error(name, offset, $"at most {palette.Length / 3} tRNS entries (one per palette entry), found {length}");
                        paletteAlpha = data.ToArray();
                    }
                    break;
                case "IDAT":
                    if (firstImageData < 0) firstImageData = offset;
                    imageData.Write(data);
                    break;
                case "IEND":
                    if (firstImageData < 0) throw Error(name, offset, "at least one IDAT chunk before IEND");
                    if (header!.Value.ColourType == Palette && palette is null)
                        throw Error(name, offset, "a PLTE chunk before IEND (colour type 3 needs a palette)");
                    return ToImage(Inflate(imageData, header.Value, name, firstImageData), header.Value, palette, paletteAlpha, name);
                default:
                    // Bit 5 of the first type byte clear marks a critical chunk, which a decoder may not skip (§5.4).
                    if ((file[offset + 4] & 0x20) == 0)
                        throw Error(name, offset, $"a known critical chunk (IHDR, PLTE, IDAT, IEND), found unknown critical chunk {type}");
                    break;
            }
            offset = crcOffset + 4;
        }
    }

    private static Header ReadHeader(ReadOnlySpan<byte> data, string name, int at)
    {
        if (data.Length != 13) throw Error(name, at - 8, $"an IHDR chunk of 13 bytes, found {data.Length}");
        uint width = BinaryPrimitives.ReadUInt32BigEndian(data);
        uint height = BinaryPrimitives.ReadUInt32BigEndian(data[4..]);
        if (width is 0 or > MaxSide) throw Error(name, at, $"a width of 1 to {MaxSide} pixels, found {width}");
        if (height is 0 or > MaxSide) throw Error(name, at + 4, $"a height of 1 to {MaxSide} pixels, found {height}");
        int bitDepth = data[8], colourType = data[9];
        bool supported = colourType switch
        {
            Gray or Palette => bitDepth is 1 or 2 or 4 or 8,
            Rgb or GrayAlpha or Rgba => bitDepth == 8,
            _ => throw Error(name, at + 9, $"colour type 0, 2, 3, 4 or 6, found {colourType}"),
        };
        if (!supported)
            throw Error(name, at + 8, $"bit depth 8 (or 1, 2, 4 for gray and palette images) for colour type {colourType}, found bit depth {bitDepth}" + (bitDepth == 16 ? " (16-bit samples are not supported)" : ""));
        if (data[10] != 0) throw Error(name, at + 10, $"compression method 0, found {data[10]}");
        if (data[11] != 0) throw Error(name, at + 11, $"filter method 0, found {data[11]}");
        if (data[12] != 0) throw Error(name, at + 12, $"interlace method 0, found {data[12]} (Adam7 interlacing is not supported)");
        var header = new Header((int)width, (int)height, bitDepth, colourType);
        if ((long)header.Height * (header.RowBytes + 1) > Array.MaxLength || (long)header.Width * header.Height * 4 > Array.MaxLength)
            throw Error(name, at, $"an image that fits in memory, found {width}×{height}");
        return header;
    }

    /// <summary>Decompresses the joined IDAT data and undoes the scanline filters, leaving the filter bytes in place.</summary>
    private static byte[] Inflate(MemoryStream compressed, Header header, string name, int firstImageData)
    {
        long rowBytes = header.RowBytes;
        var raw = new byte[header.Height * (rowBytes + 1)];
        compressed.Position = 0;
        int read = 0;
        try
        {
            using var zlib = new ZLibStream(compressed, CompressionMode.Decompress);
            for (int n; read < raw.Length && (n = zlib.Read(raw, read, raw.Length - read)) > 0;) read += n;
            if (read == raw.Length && zlib.ReadByte() >= 0)
                throw Error(name, firstImageData, $"{raw.Length} decompressed bytes ({header.Height} rows of 1 filter byte and {rowBytes} data bytes), but the zlib stream holds more");
        }
        catch (InvalidDataException e) when (!e.Message.StartsWith("PNG '", StringComparison.Ordinal))
        {
            throw Error(name, firstImageData, $"a valid zlib stream in the IDAT data ({e.Message})");
        }
        if (read < raw.Length)
            throw Error(name, firstImageData, $"{raw.Length} decompressed bytes ({header.Height} rows of 1 filter byte and {rowBytes} data bytes), but the zlib stream holds only {read}");
        Unfilter(raw, header, name);
        return raw;
    }

    // Filter types (§9.2): each byte x was stored as x - predictor, predictor from the byte to the left (a), above
    // (b) and above-left (c) in the unfiltered image, all taken as 0 outside it; arithmetic is modulo 256.
    private static void Unfilter(byte[] raw, Header header, string name)
    {
        int rowBytes = (int)header.RowBytes, left = header.FilterStride;
        Span<byte> previous = Span<byte>.Empty;
        for (int y = 0; y < header.Height; y++)
        {
            int start = y * (rowBytes + 1);
            var row = raw.AsSpan(start + 1, rowBytes);
            byte filter = raw[start];
            switch (filter)
            {
                case 0: break;
                case 1:
                    for (int i = left; i < rowBytes; i++) row[i] += row[i - left];
                    break;
                case 2:
                    if (y > 0) for (int i = 0; i < rowBytes; i++) row[i] += previous[i];
                    break;
                case 3:
                    for (int i = 0; i < rowBytes; i++)
                    {
                        int a = i >= left ? row[i - left] : 0, b = y > 0 ? previous[i] : 0;
                        row[i] += (byte)((a + b) >> 1);
                    }
                    break;
                case 4:
                    for (int i = 0; i < rowBytes; i++)
                    {
                        int a = i >= left ? row[i - left] : 0, b = y > 0 ? previous[i] : 0, c = y > 0 && i >= left ? previous[i - left] : 0;
                        row[i] += Paeth(a, b, c);
                    }
                    break;
                default:
                    throw new InvalidDataException($"PNG '{name}': at byte {start} of the decompressed image data (row {y}), expected filter type 0–4, found {filter}");
            }
            previous = row;
        }
    }

    /// <summary>The one of a, b, c closest to a + b - c, ties broken in the order a, b, c (§9.4).</summary>
    private static byte Paeth(int a, int b, int c)
    {
        int p = a + b - c;
        int pa = Math.Abs(p - a), pb = Math.Abs(p - b), pc = Math.Abs(p - c);
        return (byte)(pa <= pb && pa <= pc ? a : pb <= pc ? b : c);
    }

    private static PngImage ToImage(byte[] raw, Header header, byte[]? palette, byte[]? paletteAlpha, string name)
    {
        int width = header.Width, height = header.Height, rowBytes = (int)header.RowBytes;
        int channels = header.ColourType == Palette ? (paletteAlpha is null ? 3 : 4) : header.FileChannels;
        var pixels = new byte[(long)width * height * channels];
        for (int y = 0; y < height; y++)
        {
            var row = raw.AsSpan(y * (rowBytes + 1) + 1, rowBytes);
            var output = pixels.AsSpan(y * width * channels, width * channels);
            if (header.ColourType != Palette && header.BitDepth == 8)
            {
                row.CopyTo(output);
                continue;
            }
            for (int x = 0; x < width; x++)
            {
                int sample = Sample(row, x, header.BitDepth);
                if (header.ColourType == Gray)
                {
                    // Scale a 1-, 2- or 4-bit gray level to 0–255 exactly (§13.12): 0b11 at 2 bits becomes 255.
                    output[x] = (byte)(sample * 255 / ((1 << header.BitDepth) - 1));
                    continue;
                }
                if (sample >= palette!.Length / 3)
                    throw new InvalidDataException($"PNG '{name}': at pixel ({x}, {y}) of the decompressed image data, expected a palette index below {palette.Length / 3}, found {sample}");
                palette.AsSpan(sample * 3, 3).CopyTo(output[(x * channels)..]);
                if (paletteAlpha is not null) output[x * channels + 3] = sample < paletteAlpha.Length ? paletteAlpha[sample] : (byte)255;
            }
        }
        return new PngImage(width, height, channels, pixels);
    }

    /// <summary>Sample x of a row packed most-significant bits first at 1, 2, 4 or 8 bits.</summary>
    private static int Sample(ReadOnlySpan<byte> row, int x, int bitDepth)
    {
        int bit = x * bitDepth;
        return (row[bit >> 3] >> (8 - bitDepth - (bit & 7))) & ((1 << bitDepth) - 1);
    }

    private static InvalidDataException Error(string name, long offset, string expected) =>
        new($"PNG '{name}': at byte {offset}, expected {expected}");
}
