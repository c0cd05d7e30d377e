// Reads safetensors files (docs/formats.md): [u64 little-endian N][N bytes of UTF-8 JSON header][data buffer].
// Validation is strict and happens before any tensor is built: a checkpoint that loads "mostly" is worse than one
// that does not load, so every problem is reported with the file name and what was expected.
// F32, F64, I32 and I64 load as themselves; F16 and BF16 are widened to Float32; other dtypes are refused.
// Tensors are read into host (CPU) memory; loading them into a model moves them to its device (Module.LoadStateDict).
using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using Standalone.Backends.Cpu;

namespace Standalone.Models.IO;

/// <summary>The tensors of a safetensors file, in header order, and its <c>__metadata__</c> map.</summary>
public sealed class SafeTensorsFile : IDisposable
{
    private readonly Dictionary<string, Tensor> _byName;

    internal SafeTensorsFile(string path, List<(string Name, Tensor Value)> tensors, Dictionary<string, string> metadata)
    {
        Path = path;
        Tensors = tensors;
        Metadata = metadata;
        _byName = tensors.ToDictionary(t => t.Name, t => t.Value, StringComparer.Ordinal);
    }

    public string Path { get; }
    public IReadOnlyList<(string Name, Tensor Value)> Tensors { get; }
    public IReadOnlyDictionary<string, string> Metadata { get; }

    public bool Contains(string name) => _byName.ContainsKey(name);

    public Tensor this[string name] => _byName.TryGetValue(name, out var t)
        ? t
        : throw new KeyNotFoundException($"safetensors '{Path}': no tensor named '{name}'");

    /// <summary>The tensors whose names start with prefix, keyed by the rest of the name (e.g. "init." → a state dict).</summary>
    public Dictionary<string, Tensor> WithPrefix(string prefix) =>
        Tensors.Where(t => t.Name.StartsWith(prefix, StringComparison.Ordinal))
            .ToDictionary(t => t.Name[prefix.Length..], t => t.Value, StringComparer.Ordinal);

    public void Dispose()
    {
        foreach (var (_, t) in Tensors) t.Dispose();
    }
}

public static partial class SafeTensors
{
    /// <summary>The largest header a reader accepts (the format's own limit).</summary>
    public const long MaxHeaderBytes = 100_000_000;

    /// <summary>Every dtype of the format and its size in bytes; only some of them can be read (see ReadData).</summary>
    private static readonly Dictionary<string, int> DTypeSizes = new(StringComparer.Ordinal)
    {
        ["BOOL"] = 1, ["U8"] = 1, ["I8"] = 1, ["I16"] = 2, ["U16"] = 2, ["F16"] = 2, ["BF16"] = 2,
        ["I32"] = 4, ["U32"] = 4, ["F32"] = 4, ["F64"] = 8, ["I64"] = 8, ["U64"] = 8,
    };

    private static readonly string[] ReadableDTypes = ["F32", "F64", "I32", "I64", "F16", "BF16"];

    private sealed record Entry(string Name, string DType, int[] Shape, long Begin, long End);

    /// <summary>
    /// Reads every tensor of a safetensors file onto the default backend. The tensors belong to the caller (and to
    /// the current TensorScope, if one is open); disposing the result disposes them.
    /// </summary>
    public static SafeTensorsFile Read(string path)
    {
        using var stream = InputFile.OpenRead(path, "safetensors file");
        long fileLength = stream.Length;
        if (fileLength < 8) throw Bad(path, $"file is {fileLength} bytes, shorter than the 8-byte header length");
        Span<byte> prefix = stackalloc byte[8];
        stream.ReadExactly(prefix);
        ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(prefix);
        if (headerLength > MaxHeaderBytes)
            throw Bad(path, $"header length {headerLength} exceeds the limit of {MaxHeaderBytes:N0} bytes");
        if (headerLength > (ulong)(fileLength - 8))
            throw Bad(path, $"header length {headerLength} is larger than the file ({fileLength - 8} bytes follow the length)");
        var header = new byte[headerLength];
        stream.ReadExactly(header);
        long dataStart = 8 + (long)headerLength, dataLength = fileLength - dataStart;

        var (entries, metadata) = ParseHeader(path, header);
        CheckLayout(path, entries, dataLength);
        foreach (var e in entries)
            if (Array.IndexOf(ReadableDTypes, e.DType) < 0)
                throw new NotSupportedException($"safetensors '{path}': tensor '{e.Name}' has dtype {e.DType}, which is unsupported " +
                    $"(supported: F32, F64, I32, I64; F16 and BF16 are read as F32)");

        var tensors = new List<(string, Tensor)>(entries.Count);
        try
        {
            foreach (var e in entries)
            {
                long count = e.End - e.Begin;
                if (count > Array.MaxLength) throw Bad(path, $"tensor '{e.Name}' holds {count} bytes, more than one read can take ({Array.MaxLength})");
                var bytes = new byte[count];
                stream.Position = dataStart + e.Begin;
                stream.ReadExactly(bytes);
                tensors.Add((e.Name, ToTensor(bytes, e.DType, new Shape(e.Shape))));
            }
        }
        catch
        {
            foreach (var (_, t) in tensors) t.Dispose();
            throw;
        }
        return new SafeTensorsFile(path, tensors, metadata);
    }

    private static Tensor ToTensor(byte[] bytes, string dtype, Shape shape)
    {
        switch (dtype)
        {
            case "F32": return FromLittleEndian<float>(bytes, shape);
            case "F64": return FromLittleEndian<double>(bytes, shape);
            case "I32": return FromLittleEndian<int>(bytes, shape);
            case "I64": return FromLittleEndian<long>(bytes, shape);
        }
        // Half-precision types are widened: F16 exactly through System.Half; BF16 is the top half of an F32.
        var values = new float[bytes.Length / 2];
        for (int i = 0; i < values.Length; i++)
        {
            ushort bits = BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(2 * i));
            values[i] = dtype == "F16" ? (float)BitConverter.UInt16BitsToHalf(bits) : BitConverter.Int32BitsToSingle(bits << 16);
        }
        return Tensor.FromArray<float>(values, shape, CpuBackend.Instance);
    }

    private static Tensor FromLittleEndian<T>(byte[] bytes, Shape shape) where T : unmanaged
    {
        if (!BitConverter.IsLittleEndian) ReverseElements(bytes, Unsafe.SizeOf<T>());
        return Tensor.FromArray<T>(MemoryMarshal.Cast<byte, T>(bytes), shape, CpuBackend.Instance);
    }

    /// <summary>Swaps the byte order of every element in place (little-endian file ⇄ big-endian host).</summary>
    private static void ReverseElements(Span<byte> bytes, int elementSize)
    {
        for (int i = 0; i + elementSize <= bytes.Length; i += elementSize) bytes.Slice(i, elementSize).Reverse();
    }

    // ---- header ---------------------------------------------------------------------------------------------

    private static (List<Entry> Entries, Dictionary<string, string> Metadata) ParseHeader(string path, byte[] header)
    {
        if (header.Length == 0 || header[0] != (byte)'{')
            throw Bad(path, "header does not start with '{' (it must be a JSON object)");
        var entries = new List<Entry>();
        var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
        var keys = new HashSet<string>(StringComparer.Ordinal);
        try
        {
            // Utf8JsonReader rather than JsonDocument: it sees every key, so duplicate keys can be rejected.
            var reader = new Utf8JsonReader(header);
            reader.Read();
            while (Next(ref reader) == JsonTokenType.PropertyName)
            {
                string key = reader.GetString()!;
                if (!keys.Add(key)) throw Bad(path, $"duplicate key '{key}' in the header");
                reader.Read();
                if (key == "__metadata__") ReadMetadata(path, ref reader, metadata);
                else entries.Add(ReadEntry(path, key, ref reader));
            }
            reader.Read(); // throws if anything but padding follows the object
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException)
        {
            throw Bad(path, $"header is not valid JSON: {ex.Message}", ex);
        }
        return (entries, metadata);
    }

    private static JsonTokenType Next(ref Utf8JsonReader reader)
    {
        reader.Read();
        return reader.TokenType;
    }

    private static void ReadMetadata(string path, ref Utf8JsonReader reader, Dictionary<string, string> metadata)
    {
        if (reader.TokenType != JsonTokenType.StartObject)
            throw Bad(path, $"__metadata__ must be an object of strings, got {reader.TokenType}");
        while (Next(ref reader) == JsonTokenType.PropertyName)
        {
            string key = reader.GetString()!;
            if (metadata.ContainsKey(key)) throw Bad(path, $"duplicate key '{key}' in __metadata__");
            reader.Read();
            if (reader.TokenType != JsonTokenType.String)
                throw Bad(path, $"__metadata__ value of '{key}' must be a string, got {reader.TokenType}");
            metadata[key] = reader.GetString()!;
        }
    }

    private static Entry ReadEntry(string path, string name, ref Utf8JsonReader reader)
    {
        if (reader.TokenType != JsonTokenType.StartObject)
            throw Bad(path, $"entry '{name}' must be an object with dtype, shape and data_offsets, got {reader.TokenType}");
        string? dtype = null;
        long[]? shape = null, offsets = null;
        var fields = new HashSet<string>(StringComparer.Ordinal);
        while (Next(ref reader) == JsonTokenType.PropertyName)
        {
            string field = reader.GetString()!;
            if (!fields.Add(field)) throw Bad(path, $"duplicate key '{field}' in entry '{name}'");
            reader.Read();
            switch (field)
            {
                case "dtype":
                    if (reader.TokenType != JsonTokenType.String) throw Bad(path, $"entry '{name}': dtype must be a string, got {reader.TokenType}");
                    dtype = reader.GetString()!;
                    if (!DTypeSizes.ContainsKey(dtype))
                        throw Bad(path, $"entry '{name}': unknown dtype '{dtype}' (expected one of {string.Join(", ", DTypeSizes.Keys)})");
                    break;
                case "shape": shape = ReadNonNegativeIntegers(path, name, field, ref reader); break;
                case "data_offsets": offsets = ReadNonNegativeIntegers(path, name, field, ref reader); break;
                default: reader.Skip(); break; // fields a later version of the format may add
            }
        }
        if (dtype == null || shape == null || offsets == null)
            throw Bad(path, $"entry '{name}' is missing {(dtype == null ? "dtype" : shape == null ? "shape" : "data_offsets")} (each entry needs dtype, shape and data_offsets)");
        if (offsets.Length != 2) throw Bad(path, $"entry '{name}': data_offsets must be [BEGIN, END], got {offsets.Length} numbers");
        if (shape.Length > Shape.MaxRank) throw Bad(path, $"entry '{name}': shape has {shape.Length} dimensions, more than the {Shape.MaxRank} supported");
        foreach (long d in shape)
            if (d > int.MaxValue) throw Bad(path, $"entry '{name}': shape dimension {d} is too large (at most {int.MaxValue})");
        return new Entry(name, dtype, Array.ConvertAll(shape, d => (int)d), offsets[0], offsets[1]);
    }

    private static long[] ReadNonNegativeIntegers(string path, string name, string field, ref Utf8JsonReader reader)
    {
        if (reader.TokenType != JsonTokenType.StartArray) throw Bad(path, $"entry '{name}': {field} must be an array of integers, got {reader.TokenType}");
        var values = new List<long>();
        while (Next(ref reader) != JsonTokenType.EndArray)
        {
            if (reader.TokenType != JsonTokenType.Number || !reader.TryGetInt64(out long v))
                throw Bad(path, $"entry '{name}': {field} must hold non-negative integers, got {(reader.TokenType == JsonTokenType.Number ? Encoding.UTF8.GetString(reader.ValueSpan) : reader.TokenType)}");
            if (v < 0) throw Bad(path, $"entry '{name}': {field} holds the negative value {v} (expected non-negative integers)");
            values.Add(v);
        }
        return values.ToArray();
    }

    // ---- layout ---------------------------------------------------------------------------------------------

    /// <summary>Each entry's offsets lie in the buffer and match its shape; together the entries tile the buffer exactly.</summary>
    private static void CheckLayout(string path, List<Entry> entries, long dataLength)
    {
        foreach (var e in entries)
        {
            if (e.End < e.Begin) throw Bad(path, $"tensor '{e.Name}': data_offsets [{e.Begin}, {e.End}] end before they begin");
            if (e.End > dataLength)
                throw Bad(path, $"tensor '{e.Name}': data_offsets [{e.Begin}, {e.End}] are out of range (the data buffer holds {dataLength} bytes)");
            long expected;
            try
            {
                expected = DTypeSizes[e.DType];
                foreach (int d in e.Shape) expected = checked(expected * d);
            }
            catch (OverflowException)
            {
                throw Bad(path, $"tensor '{e.Name}': shape [{string.Join(", ", e.Shape)}] is too large");
            }
            if (e.End - e.Begin != expected)
                throw Bad(path, $"tensor '{e.Name}': data_offsets [{e.Begin}, {e.End}] span {e.End - e.Begin} bytes, but shape " +
                    $"[{string.Join(", ", e.Shape)}] of {e.DType} needs {expected} (size mismatch)");
        }
        long position = 0;
        string? previous = null;
        foreach (var e in entries.OrderBy(e => e.Begin).ThenBy(e => e.End))
        {
            if (e.Begin < position) throw Bad(path, $"tensors '{previous}' and '{e.Name}' overlap in the data buffer (bytes {e.Begin} to {position})");
            if (e.Begin > position)
                throw Bad(path, $"hole in the data buffer: bytes {position} to {e.Begin} belong to no tensor (before '{e.Name}')");
            position = e.End;
            previous = e.Name;
        }
        if (position != dataLength)
            throw Bad(path, $"hole in the data buffer: bytes {position} to {dataLength} at its end belong to no tensor");
    }

    private static InvalidDataException Bad(string path, string problem, Exception? inner = null) =>
        new($"safetensors '{path}': {problem}", inner);
}
