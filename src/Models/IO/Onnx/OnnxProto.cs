// The ONNX messages the exporter writes, built as protobuf messages with the field numbers of onnx.proto
// (docs/formats.md lists them): ModelProto, GraphProto, NodeProto, AttributeProto, TensorProto, ValueInfoProto (with
// TypeProto and TensorShapeProto inside) and the StringStringEntryProto of metadata_props.
using System.Buffers.Binary;
using System.Runtime.InteropServices;

namespace Standalone.Models.IO.Onnx;

internal static class OnnxProto
{
    public const long IrVersion = 7;
    public const long Opset = 13;

    // TensorProto.DataType
    public const long Float = 1;
    public const long Int64 = 7;

    // AttributeProto.AttributeType
    private const long AttributeFloat = 1, AttributeInt = 2, AttributeString = 3, AttributeInts = 7;

    /// <summary>ModelProto{ir_version=1, producer_name=2, graph=7, opset_import=8 {domain=1, version=2}, metadata_props=14 {key=1, value=2}}.</summary>
    public static ProtoMessage Model(ProtoMessage graph, IReadOnlyDictionary<string, string> metadata)
    {
        var model = new ProtoMessage()
            .Varint(1, IrVersion)
            .String(2, "standalone")
            .Message(7, graph)
            .Message(8, new ProtoMessage().String(1, "").Varint(2, Opset));
        foreach (var (key, value) in metadata)
            model.Message(14, new ProtoMessage().String(1, key).String(2, value));
        return model;
    }

    /// <summary>GraphProto{node=1, name=2, initializer=5, input=11, output=12}.</summary>
    public static ProtoMessage Graph(string name, IEnumerable<ProtoMessage> nodes, IEnumerable<ProtoMessage> initializers, ProtoMessage input, ProtoMessage output)
    {
        var graph = new ProtoMessage();
        foreach (var node in nodes) graph.Message(1, node);
        graph.String(2, name);
        foreach (var initializer in initializers) graph.Message(5, initializer);
        return graph.Message(11, input).Message(12, output);
    }

    /// <summary>NodeProto{input=1, output=2, name=3, op_type=4, attribute=5}; an empty input name marks an omitted optional input.</summary>
    public static ProtoMessage Node(string opType, string name, IEnumerable<string> inputs, string output, IEnumerable<ProtoMessage> attributes)
    {
        var node = new ProtoMessage();
        foreach (string input in inputs) node.String(1, input);
        node.String(2, output).String(3, name).String(4, opType);
        foreach (var attribute in attributes) node.Message(5, attribute);
        return node;
    }

    /// <summary>AttributeProto{name=1, f=2, type=20 FLOAT}.</summary>
    public static ProtoMessage Attribute(string name, float value) => new ProtoMessage().String(1, name).Float(2, value).Varint(20, AttributeFloat);

    /// <summary>AttributeProto{name=1, i=3, type=20 INT}.</summary>
    public static ProtoMessage Attribute(string name, long value) => new ProtoMessage().String(1, name).Varint(3, value).Varint(20, AttributeInt);

    /// <summary>AttributeProto{name=1, s=4, type=20 STRING}.</summary>
    public static ProtoMessage Attribute(string name, string value) => new ProtoMessage().String(1, name).String(4, value).Varint(20, AttributeString);

    /// <summary>AttributeProto{name=1, ints=8, type=20 INTS}.</summary>
    public static ProtoMessage Attribute(string name, params long[] values) => new ProtoMessage().String(1, name).Varints(8, values).Varint(20, AttributeInts);

    /// <summary>TensorProto{dims=1, data_type=2 FLOAT, name=8, raw_data=9} of a float32 tensor — raw data little-endian, row-major.</summary>
    public static ProtoMessage FloatTensor(string name, Tensor value)
    {
        if (value.DType != DType.Float32) throw new ArgumentException($"ONNX tensor '{name}': expected float32 data, got {value.DType}");
        var raw = new byte[value.Numel * sizeof(float)];
        value.CopyTo(MemoryMarshal.Cast<byte, float>(raw.AsSpan()));
        if (!BitConverter.IsLittleEndian)
            for (int i = 0; i < raw.Length; i += sizeof(float)) raw.AsSpan(i, sizeof(float)).Reverse();
        return TensorMessage(name, value.Shape.ToArray(), Float, raw);
    }

    /// <summary>TensorProto{dims=1, data_type=2 INT64, name=8, raw_data=9} of rank 1 — raw data little-endian int64.</summary>
    public static ProtoMessage Int64Tensor(string name, ReadOnlySpan<long> values)
    {
        var raw = new byte[values.Length * sizeof(long)];
        for (int i = 0; i < values.Length; i++) BinaryPrimitives.WriteInt64LittleEndian(raw.AsSpan(i * sizeof(long)), values[i]);
        return TensorMessage(name, [values.Length], Int64, raw);
    }

    private static ProtoMessage TensorMessage(string name, int[] dims, long dataType, byte[] raw) =>
        new ProtoMessage().Varints(1, dims.Select(d => (long)d)).Varint(2, dataType).String(8, name).Bytes(9, raw);

    /// <summary>
    /// ValueInfoProto{name=1, type=2 → TypeProto{tensor_type=1 → {elem_type=1 FLOAT, shape=2 → TensorShapeProto{dim=1 →
    /// {dim_value=1 | dim_param=2}}}}}: a float tensor whose first axis is the symbolic <paramref name="batch"/>.
    /// </summary>
    public static ProtoMessage FloatValue(string name, string batch, IEnumerable<int> otherDims)
    {
        var shape = new ProtoMessage().Message(1, new ProtoMessage().String(2, batch));
        foreach (int d in otherDims) shape.Message(1, new ProtoMessage().Varint(1, d));
        var tensorType = new ProtoMessage().Varint(1, Float).Message(2, shape);
        return new ProtoMessage().String(1, name).Message(2, new ProtoMessage().Message(1, tensorType));
    }
}
