// A protobuf message being written: its fields in the order they were added, encoded in the wire format
// (https://protobuf.dev/programming-guides/encoding/) — tag = field number << 3 | wire type, then a varint (type 0),
// four little-endian bytes (type 5), or a varint length and that many bytes (type 2: strings, bytes, nested
// messages). Sizes are computed before anything is written, so a nested message streams straight to the file
// without being buffered: a model's weights are copied once, into their raw_data, and never again.
// Repeated scalars are written one tag per value (proto2's default encoding, which ONNX's .proto uses); parsers
// accept that and the packed form alike.
using System.Buffers.Binary;
using System.Text;

namespace Standalone.Models.IO.Onnx;

internal sealed class ProtoMessage
{
    private enum WireType { Varint = 0, LengthDelimited = 2, Fixed32 = 5 }

    private readonly record struct Field(int Number, WireType Type, ulong Scalar, ReadOnlyMemory<byte> Bytes, ProtoMessage? Message);

    private readonly List<Field> _fields = [];
    private long _size = -1;

    /// <summary>An int32, int64, uint64, bool or enum field. Negative values take ten bytes (two's complement), as protobuf's int64 does.</summary>
    public ProtoMessage Varint(int number, long value) => Add(new Field(number, WireType.Varint, (ulong)value, default, null));

    /// <summary>A repeated integer field, one tag per value.</summary>
    public ProtoMessage Varints(int number, IEnumerable<long> values)
    {
        foreach (long v in values) Varint(number, v);
        return this;
    }

    /// <summary>A float field (wire type 5: the IEEE-754 bits, little-endian).</summary>
    public ProtoMessage Float(int number, float value) => Add(new Field(number, WireType.Fixed32, BitConverter.SingleToUInt32Bits(value), default, null));

    /// <summary>A string field (UTF-8 bytes).</summary>
    public ProtoMessage String(int number, string value) => Bytes(number, Encoding.UTF8.GetBytes(value));

    /// <summary>A bytes field; the memory is written as it is when the message is written, not copied now.</summary>
    public ProtoMessage Bytes(int number, ReadOnlyMemory<byte> value) => Add(new Field(number, WireType.LengthDelimited, 0, value, null));

    /// <summary>A nested message (it must not change after this call: its size is cached).</summary>
    public ProtoMessage Message(int number, ProtoMessage message) => Add(new Field(number, WireType.LengthDelimited, 0, default, message));

    private ProtoMessage Add(Field field)
    {
        if (field.Number is < 1 or > (1 << 29) - 1) throw new ArgumentOutOfRangeException(nameof(field), $"protobuf: field number {field.Number} is outside 1..2^29-1");
        if (_size >= 0) throw new InvalidOperationException("protobuf: a message cannot gain fields after its size was taken (it is already part of another message)");
        _fields.Add(field);
        return this;
    }

    /// <summary>The encoded size in bytes (without a length prefix).</summary>
    public long Size
    {
        get
        {
            if (_size >= 0) return _size;
            long size = 0;
            foreach (var f in _fields)
            {
                size += VarintSize(Tag(f));
                size += f.Type switch
                {
                    WireType.Varint => VarintSize(f.Scalar),
                    WireType.Fixed32 => 4,
                    _ => LengthDelimitedSize(PayloadSize(f)),
                };
            }
            return _size = size;
        }
    }

    public void WriteTo(Stream stream)
    {
        Span<byte> scratch = stackalloc byte[10];
        foreach (var f in _fields)
        {
            WriteVarint(stream, Tag(f), scratch);
            switch (f.Type)
            {
                case WireType.Varint:
                    WriteVarint(stream, f.Scalar, scratch);
                    break;
                case WireType.Fixed32:
                    BinaryPrimitives.WriteUInt32LittleEndian(scratch, (uint)f.Scalar);
                    stream.Write(scratch[..4]);
                    break;
                default:
                    WriteVarint(stream, (ulong)PayloadSize(f), scratch);
                    if (f.Message != null) f.Message.WriteTo(stream);
                    else stream.Write(f.Bytes.Span);
                    break;
            }
        }
    }

    /// <summary>The message as bytes (small messages; large ones should stream with WriteTo).</summary>
    public byte[] ToArray()
    {
        using var stream = new MemoryStream(checked((int)Size));
        WriteTo(stream);
        return stream.ToArray();
    }

    private static ulong Tag(Field f) => (ulong)f.Number << 3 | (ulong)f.Type;

    private static long PayloadSize(Field f) => f.Message?.Size ?? f.Bytes.Length;

    private static long LengthDelimitedSize(long payload) => VarintSize((ulong)payload) + payload;

    /// <summary>Seven bits a byte: 1 byte below 2^7, 2 below 2^14, ..., 10 for values ≥ 2^63.</summary>
    internal static int VarintSize(ulong value)
    {
        int bytes = 1;
        while (value >= 0x80) { value >>= 7; bytes++; }
        return bytes;
    }

    private static void WriteVarint(Stream stream, ulong value, Span<byte> scratch)
    {
        int n = 0;
        while (value >= 0x80)
        {
            scratch[n++] = (byte)(value | 0x80);
            value >>= 7;
        }
        scratch[n++] = (byte)value;
        stream.Write(scratch[..n]);
    }
}
