// Writes safetensors files (docs/formats.md): tensors packed back to back in the given order, the JSON header padded
// with spaces to a multiple of 8 bytes (so the data buffer starts aligned), little-endian, written atomically.
using System.Buffers;
using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace Standalone.Models.IO;

public static partial class SafeTensors
{
    /// <summary>
    /// Writes tensors (Float32 → F32, Float64 → F64, Int32 → I32, Int64 → I64) and optional string metadata to path,
    /// through a temporary file and a rename so that a reader never sees a half-written file.
    /// </summary>
    public static void Write(string path, IEnumerable<(string Name, Tensor Value)> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        var list = tensors.ToList();
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (name, _) in list)
        {
            if (string.IsNullOrEmpty(name) || name == "__metadata__")
                throw new ArgumentException($"safetensors '{path}': tensor name '{name}' is not allowed (expected a non-empty name other than __metadata__)");
            if (!names.Add(name)) throw new ArgumentException($"safetensors '{path}': tensor name '{name}' is given twice");
        }

        var header = new ArrayBufferWriter<byte>();
        long dataLength = 0;
        using (var json = new Utf8JsonWriter(header, new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            json.WriteStartObject();
            if (metadata != null)
            {
                json.WriteStartObject("__metadata__");
                foreach (var (key, value) in metadata) json.WriteString(key, value);
                json.WriteEndObject();
            }
            foreach (var (name, t) in list)
            {
                long bytes = t.Numel * t.DType.Size();
                json.WriteStartObject(name);
                json.WriteString("dtype", DTypeName(t.DType));
                json.WriteStartArray("shape");
                foreach (int d in t.Shape.ToArray()) json.WriteNumberValue(d);
                json.WriteEndArray();
                json.WriteStartArray("data_offsets");
                json.WriteNumberValue(dataLength);
                json.WriteNumberValue(dataLength + bytes);
                json.WriteEndArray();
                json.WriteEndObject();
                dataLength += bytes;
            }
            json.WriteEndObject();
        }

        int headerLength = (header.WrittenCount + 7) / 8 * 8;
        long total = 8 + headerLength + dataLength;
        if (total > Array.MaxLength) throw new ArgumentException($"safetensors '{path}': {total} bytes is more than one file write can hold ({Array.MaxLength})");
        var file = new byte[total];
        BinaryPrimitives.WriteUInt64LittleEndian(file, (ulong)headerLength);
        header.WrittenSpan.CopyTo(file.AsSpan(8));
        file.AsSpan(8 + header.WrittenCount, headerLength - header.WrittenCount).Fill((byte)' ');

        long offset = 8 + headerLength;
        foreach (var (_, t) in list)
        {
            var slot = file.AsSpan((int)offset, (int)(t.Numel * t.DType.Size()));
            switch (t.DType)
            {
                case DType.Float32: t.CopyTo(MemoryMarshal.Cast<byte, float>(slot)); break;
                case DType.Float64: t.CopyTo(MemoryMarshal.Cast<byte, double>(slot)); break;
                case DType.Int32: t.CopyTo(MemoryMarshal.Cast<byte, int>(slot)); break;
                default: t.CopyTo(MemoryMarshal.Cast<byte, long>(slot)); break;
            }
            if (!BitConverter.IsLittleEndian) ReverseElements(slot, t.DType.Size());
            offset += slot.Length;
        }
        AtomicFile.WriteAllBytes(path, file);
    }

    private static string DTypeName(DType dtype) => dtype switch
    {
        DType.Float32 => "F32",
        DType.Float64 => "F64",
        DType.Int32 => "I32",
        DType.Int64 => "I64",
        _ => throw new ArgumentOutOfRangeException(nameof(dtype), dtype, "safetensors: no file dtype for this tensor dtype"),
    };
}
