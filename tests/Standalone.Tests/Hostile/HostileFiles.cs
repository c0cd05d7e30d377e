// Builders of the harness's valid inputs (tiny, so that a thousand cases run in a minute or two) and the mutations
// applied to them: byte flips, truncations, rewritten safetensors headers and metadata, FIFOs and other non-files.
using System.Buffers.Binary;
using System.IO.Compression;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json.Nodes;
using Standalone.Models.Data;
using Standalone.Models.Training;
using Standalone.Models.Zoo;

namespace Standalone.Tests.Hostile;

internal static partial class HostileFiles
{
    /// <summary>A freshly initialised model file (no training: any weights are a valid model) with its data description.</summary>
    public static void Model(string path, ModelSpec spec, DataInfo data)
    {
        var model = ModelZoo.Create(spec, seed: 1);
        Checkpoint.SaveModel(path, model, spec, data);
    }

    public static DataInfo Info(string dataset, int channels, int side, int classes) => new()
    {
        Dataset = dataset,
        Mean = Enumerable.Repeat(0.5f, channels).ToArray(),
        Std = Enumerable.Repeat(0.25f, channels).ToArray(),
        Input = [channels, side, side],
        Classes = Enumerable.Range(0, classes).Select(c => $"c{c}").ToArray(),
    };

    /// <summary>root/{train,test}/{a,b}/i.png: gray side×side images.</summary>
    public static void PngFolder(string root, int perClass, int side, int seed)
    {
        var random = new Random(seed);
        foreach (string split in new[] { "train", "test" })
            foreach (string label in new[] { "a", "b" })
            {
                string folder = Path.Combine(root, split, label);
                Directory.CreateDirectory(folder);
                for (int i = 0; i < perClass; i++)
                {
                    var pixels = new byte[side * side];
                    random.NextBytes(pixels);
                    Png.Write(Path.Combine(folder, $"{i}.png"), new PngImage(side, side, 1, pixels));
                }
            }
    }

    public static byte[] IdxBytes(int[] dims, byte[] data)
    {
        var header = new byte[4 + 4 * dims.Length];
        header[2] = 0x08;
        header[3] = (byte)dims.Length;
        for (int d = 0; d < dims.Length; d++) BinaryPrimitives.WriteUInt32BigEndian(header.AsSpan(4 + 4 * d), (uint)dims[d]);
        return [.. header, .. data];
    }

    public static byte[] Gzip(byte[] raw)
    {
        using var output = new MemoryStream();
        using (var gzip = new GZipStream(output, CompressionLevel.Fastest, leaveOpen: true)) gzip.Write(raw);
        return output.ToArray();
    }

    /// <summary>A CIFAR-10 record file: count × (label byte + 3072 pixel bytes).</summary>
    public static byte[] CifarRecords(int count, int seed)
    {
        var random = new Random(seed);
        var bytes = new byte[count * (1 + Cifar.ImageBytes)];
        random.NextBytes(bytes);
        for (int i = 0; i < count; i++) bytes[i * (1 + Cifar.ImageBytes)] = (byte)(i % 10);
        return bytes;
    }

    // ---- safetensors -------------------------------------------------------------------------------------------

    /// <summary>The header's JSON and where the data starts.</summary>
    public static (string Header, int DataStart) SplitSafeTensors(byte[] file)
    {
        int length = (int)BinaryPrimitives.ReadUInt64LittleEndian(file);
        return (Encoding.UTF8.GetString(file, 8, length), 8 + length);
    }

    /// <summary>The same file with another header (its length prefix rewritten).</summary>
    public static byte[] WithHeader(byte[] file, string header)
    {
        var (_, dataStart) = SplitSafeTensors(file);
        byte[] json = Encoding.UTF8.GetBytes(header);
        var result = new byte[8 + json.Length + file.Length - dataStart];
        BinaryPrimitives.WriteUInt64LittleEndian(result, (ulong)json.Length);
        json.CopyTo(result, 8);
        file.AsSpan(dataStart).CopyTo(result.AsSpan(8 + json.Length));
        return result;
    }

    /// <summary>The header as a JSON object, changed by <paramref name="edit"/>, written back into the file.</summary>
    public static byte[] EditHeader(byte[] file, Action<JsonObject> edit)
    {
        var header = JsonNode.Parse(SplitSafeTensors(file).Header)!.AsObject();
        edit(header);
        return WithHeader(file, header.ToJsonString());
    }

    /// <summary>Edits one metadata record (a JSON string inside __metadata__, such as standalone.model).</summary>
    public static byte[] EditMetadata(byte[] file, string key, Action<JsonObject> edit) => EditHeader(file, header =>
    {
        var metadata = header["__metadata__"]!.AsObject();
        var record = JsonNode.Parse(metadata[key]!.GetValue<string>())!.AsObject();
        edit(record);
        metadata[key] = record.ToJsonString();
    });

    /// <summary>Where a tensor's bytes are in the file.</summary>
    public static (int Begin, int End) TensorBytes(byte[] file, string name)
    {
        var (header, dataStart) = SplitSafeTensors(file);
        var offsets = JsonNode.Parse(header)![name]!["data_offsets"]!.AsArray();
        return (dataStart + (int)offsets[0]!.GetValue<long>(), dataStart + (int)offsets[1]!.GetValue<long>());
    }

    public static byte[] SetFloat(byte[] file, string tensor, int element, float value)
    {
        var copy = (byte[])file.Clone();
        var (begin, _) = TensorBytes(file, tensor);
        BinaryPrimitives.WriteSingleLittleEndian(copy.AsSpan(begin + 4 * element), value);
        return copy;
    }

    // ---- special files ------------------------------------------------------------------------------------------

    [LibraryImport("libc", EntryPoint = "mkfifo", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int MkFifo(string path, uint mode);

    /// <summary>Replaces path by a FIFO (opening it for reading would block until a writer comes).</summary>
    public static void Fifo(string path)
    {
        if (File.Exists(path)) File.Delete(path);
        if (MkFifo(path, 0x1B6) != 0) throw new IOException($"mkfifo {path} failed ({Marshal.GetLastPInvokeError()})");
    }

    /// <summary>Copies a directory tree.</summary>
    public static void CopyTree(string from, string to)
    {
        if (Directory.Exists(to)) Directory.Delete(to, recursive: true);
        foreach (string dir in Directory.GetDirectories(from, "*", SearchOption.AllDirectories)) Directory.CreateDirectory(dir.Replace(from, to));
        Directory.CreateDirectory(to);
        foreach (string file in Directory.GetFiles(from, "*", SearchOption.AllDirectories)) File.Copy(file, file.Replace(from, to), overwrite: true);
    }
}
