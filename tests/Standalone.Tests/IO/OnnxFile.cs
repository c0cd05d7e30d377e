// A minimal, independent reader of the ONNX files the exporter writes, for the tests: the protobuf wire format
// decoded field by field (varints, fixed32, length-delimited; repeated integers packed or not), then the parts of
// ModelProto that docs/formats.md lists mapped into records. It shares no code with the writer, so a field number or
// wire type the writer gets wrong shows up here.
using System.Buffers.Binary;
using System.Text;

namespace Standalone.Tests.IO;

internal static class Protobuf
{
    /// <summary>One field: varints and fixed32 in Scalar, length-delimited payloads in Bytes.</summary>
    public readonly record struct Field(int Number, int WireType, ulong Scalar, ReadOnlyMemory<byte> Bytes)
    {
        public string Text => Encoding.UTF8.GetString(Bytes.Span);
        public float Float => BitConverter.UInt32BitsToSingle((uint)Scalar);
    }

    public static List<Field> Decode(ReadOnlyMemory<byte> message)
    {
        var fields = new List<Field>();
        var span = message.Span;
        int at = 0;
        while (at < span.Length)
        {
            ulong tag = ReadVarint(span, ref at);
            int number = (int)(tag >> 3), wireType = (int)(tag & 7);
            switch (wireType)
            {
                case 0:
                    fields.Add(new Field(number, 0, ReadVarint(span, ref at), default));
                    break;
                case 5:
                    fields.Add(new Field(number, 5, BinaryPrimitives.ReadUInt32LittleEndian(span[at..]), default));
                    at += 4;
                    break;
                case 2:
                    int length = checked((int)ReadVarint(span, ref at));
                    if (at + length > span.Length) throw new InvalidDataException($"protobuf: field {number} runs past the end of its message");
                    fields.Add(new Field(number, 2, 0, message.Slice(at, length)));
                    at += length;
                    break;
                default:
                    throw new InvalidDataException($"protobuf: field {number} has wire type {wireType}, which the exporter never writes");
            }
        }
        return fields;
    }

    /// <summary>The values of a repeated integer field, whether written one tag per value or packed.</summary>
    public static long[] Integers(List<Field> fields, int number)
    {
        var values = new List<long>();
        foreach (var f in fields.Where(f => f.Number == number))
        {
            if (f.WireType == 0) { values.Add((long)f.Scalar); continue; }
            var span = f.Bytes.Span;
            for (int at = 0; at < span.Length;) values.Add((long)ReadVarint(span, ref at));
        }
        return values.ToArray();
    }

    public static IEnumerable<List<Field>> Messages(List<Field> fields, int number) => fields.Where(f => f.Number == number).Select(f => Decode(f.Bytes));

    public static string Text(List<Field> fields, int number) => fields.LastOrDefault(f => f.Number == number).Text;

    public static long Integer(List<Field> fields, int number) => (long)fields.LastOrDefault(f => f.Number == number).Scalar;

    private static ulong ReadVarint(ReadOnlySpan<byte> span, ref int at)
    {
        ulong value = 0;
        for (int shift = 0; ; shift += 7)
        {
            if (at >= span.Length || shift > 63) throw new InvalidDataException("protobuf: truncated or over-long varint");
            byte b = span[at++];
            value |= (ulong)(b & 0x7F) << shift;
            if (b < 0x80) return value;
        }
    }
}

internal sealed record OnnxAttribute(string Name, long Type, long I, float F, long[] Ints, string S);

internal sealed record OnnxNode(string OpType, string Name, string[] Inputs, string[] Outputs, IReadOnlyDictionary<string, OnnxAttribute> Attributes)
{
    public long[] Ints(string name) => Attributes[name].Ints;
}

internal sealed record OnnxTensor(string Name, long[] Dims, long DataType, byte[] RawData)
{
    public long[] Int64s() => Enumerable.Range(0, RawData.Length / 8).Select(i => BinaryPrimitives.ReadInt64LittleEndian(RawData.AsSpan(8 * i))).ToArray();
}

/// <summary>A graph input or output: name, element type and dims (a dim_param as its string, a dim_value as its number).</summary>
internal sealed record OnnxValue(string Name, long ElemType, string[] Dims);

internal sealed record OnnxModel(long IrVersion, string Producer, (string Domain, long Version)[] Opsets, string GraphName, OnnxNode[] Nodes,
    OnnxTensor[] Initializers, OnnxValue[] Inputs, OnnxValue[] Outputs, IReadOnlyDictionary<string, string> Metadata)
{
    public OnnxNode Node(string name) => Nodes.Single(n => n.Name == name);
    public OnnxTensor Initializer(string name) => Initializers.Single(t => t.Name == name);

    public static OnnxModel Read(string path) => Parse(File.ReadAllBytes(path));

    public static OnnxModel Parse(byte[] bytes)
    {
        var model = Protobuf.Decode(bytes);
        var graph = Protobuf.Messages(model, 7).Single();
        return new OnnxModel(
            Protobuf.Integer(model, 1),
            Protobuf.Text(model, 2),
            Protobuf.Messages(model, 8).Select(o => (Protobuf.Text(o, 1), Protobuf.Integer(o, 2))).ToArray(),
            Protobuf.Text(graph, 2),
            Protobuf.Messages(graph, 1).Select(ParseNode).ToArray(),
            Protobuf.Messages(graph, 5).Select(ParseTensor).ToArray(),
            Protobuf.Messages(graph, 11).Select(ParseValue).ToArray(),
            Protobuf.Messages(graph, 12).Select(ParseValue).ToArray(),
            Protobuf.Messages(model, 14).ToDictionary(e => Protobuf.Text(e, 1), e => Protobuf.Text(e, 2)));
    }

    /// <summary>NodeProto{input=1, output=2, name=3, op_type=4, attribute=5 → AttributeProto{name=1, f=2, i=3, s=4, ints=8, type=20}}.</summary>
    private static OnnxNode ParseNode(List<Protobuf.Field> node) => new(
        Protobuf.Text(node, 4),
        Protobuf.Text(node, 3),
        node.Where(f => f.Number == 1).Select(f => f.Text).ToArray(),
        node.Where(f => f.Number == 2).Select(f => f.Text).ToArray(),
        Protobuf.Messages(node, 5).Select(a => new OnnxAttribute(
            Protobuf.Text(a, 1), Protobuf.Integer(a, 20), Protobuf.Integer(a, 3),
            a.LastOrDefault(f => f.Number == 2).Float, Protobuf.Integers(a, 8), Protobuf.Text(a, 4))).ToDictionary(a => a.Name));

    /// <summary>TensorProto{dims=1, data_type=2, name=8, raw_data=9}.</summary>
    public static OnnxTensor ParseTensor(List<Protobuf.Field> tensor) => new(
        Protobuf.Text(tensor, 8), Protobuf.Integers(tensor, 1), Protobuf.Integer(tensor, 2), tensor.Single(f => f.Number == 9).Bytes.ToArray());

    /// <summary>ValueInfoProto{name=1, type=2 → {tensor_type=1 → {elem_type=1, shape=2 → {dim=1 → {dim_value=1, dim_param=2}}}}}.</summary>
    private static OnnxValue ParseValue(List<Protobuf.Field> value)
    {
        var tensorType = Protobuf.Messages(Protobuf.Messages(value, 2).Single(), 1).Single();
        var dims = Protobuf.Messages(Protobuf.Messages(tensorType, 2).Single(), 1)
            .Select(d => d.Any(f => f.Number == 2) ? Protobuf.Text(d, 2) : Protobuf.Integer(d, 1).ToString()).ToArray();
        return new OnnxValue(Protobuf.Text(value, 1), Protobuf.Integer(tensorType, 1), dims);
    }
}
