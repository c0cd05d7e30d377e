// Reads PyTorch checkpoints (.pth/.pt) in the zip format torch.save writes since PyTorch 1.6: a zip archive holding
// <name>/data.pkl (a pickle of the saved object) and <name>/data/<key> (the raw little-endian bytes of each storage).
// The pickle is read by Razorvine.Pickle, which builds .NET objects and never runs Python code; on top of that only
// the globals a state dict needs are accepted (tensor and parameter rebuilders, storage types, OrderedDict) — any
// other global is refused by name, so a pickled nn.Module or an arbitrary object is an error, not a surprise.
// Accepted shapes of the saved object: a state dict, or a dict holding one under "state_dict" or "model"; keys that
// all start with "module." (nn.DataParallel) lose that prefix. Storages: float32, float64, float16 and bfloat16
// (both widened to float32), int64, int32; tensors may share a storage and be views with an offset and strides.
using System.Collections;
using System.IO.Compression;
using System.Buffers.Binary;
using Razorvine.Pickle;
using Razorvine.Pickle.Objects;
using Standalone.Backends.Cpu;

namespace Standalone.Models.IO;

public static class TorchCheckpoint
{
    /// <summary>The largest storage (bytes) and pickle a checkpoint may hold.</summary>
    private const long MaxStorageBytes = 8L << 30, MaxPickleBytes = 256L << 20;

    /// <summary>True when the file starts like a zip archive (PyTorch's format since 1.6).</summary>
    public static bool IsZip(string path)
    {
        using var stream = InputFile.OpenRead(path, "model file");
        Span<byte> magic = stackalloc byte[4];
        return stream.ReadAtLeast(magic, 4, throwOnEndOfStream: false) == 4 && magic.SequenceEqual("PK\u0003\u0004"u8);
    }

    /// <summary>The state dict a PyTorch checkpoint holds, as (key, tensor) in natural key order, tensors on the CPU.</summary>
    public static List<(string Name, Tensor Value)> Read(string path)
    {
        InputFile.Check(path, "PyTorch checkpoint");
        if (!IsZip(path)) throw LegacyOrNot(path);
        using var archive = OpenArchive(path);
        var pickle = archive.Entries.Where(e => e.FullName.EndsWith("/data.pkl", StringComparison.Ordinal) || e.FullName == "data.pkl").ToList();
        if (pickle.Count != 1)
            throw new InvalidDataException($"PyTorch checkpoint {path}: expected one data.pkl in the archive, found {pickle.Count}");
        string root = pickle[0].FullName[..^"data.pkl".Length];
        if (archive.GetEntry(root + "byteorder") is { } order && ReadText(order, path) is not "little")
            throw new NotSupportedException($"PyTorch checkpoint {path}: its storages are big-endian; only little-endian checkpoints are read");

        object saved;
        try
        {
            using var unpickler = new TorchUnpickler();
            saved = unpickler.loads(ReadEntry(pickle[0], path, MaxPickleBytes));
        }
        catch (PickleException e)
        {
            throw new InvalidDataException($"PyTorch checkpoint {path}: {Describe(e)}", e);
        }
        catch (Exception e) when (e is InvalidCastException or IndexOutOfRangeException or ArgumentException or NullReferenceException or KeyNotFoundException)
        {
            // .NET's own words here name its types, not the file's problem.
            throw new InvalidDataException($"PyTorch checkpoint {path}: the pickle is malformed (an instruction met a value of the wrong kind: a damaged or crafted file)", e);
        }

        var storages = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        byte[] Storage(StorageRef s)
        {
            if (storages.TryGetValue(s.Key, out var bytes)) return bytes;
            var entry = archive.GetEntry($"{root}data/{s.Key}")
                ?? throw new InvalidDataException($"PyTorch checkpoint {path}: storage '{s.Key}' is missing from the archive");
            bytes = ReadEntry(entry, path, MaxStorageBytes);
            if (bytes.LongLength != s.Numel * s.Kind.Size)
                throw new InvalidDataException($"PyTorch checkpoint {path}: storage '{s.Key}' holds {bytes.LongLength} bytes, but {s.Numel} {s.Kind.Name} elements need {s.Numel * s.Kind.Size}");
            return storages[s.Key] = bytes;
        }

        var tensors = new List<(string, Tensor)>();
        try
        {
            foreach (var (name, reference) in StateDict(saved, path))
                tensors.Add((name, Materialize(reference, Storage(reference.Storage), name, path)));
        }
        catch
        {
            foreach (var (_, t) in tensors) t.Dispose();
            throw;
        }
        return tensors;
    }

    // ---- the saved object ---------------------------------------------------------------------------------------

    /// <summary>The (key, tensor reference) pairs of the state dict inside what was saved.</summary>
    private static List<(string Name, TensorRef Tensor)> StateDict(object saved, string path)
    {
        if (saved is ClassDict pickled)
            throw new InvalidDataException($"PyTorch checkpoint {path}: it pickles a Python object of class {pickled.ClassName}, which is refused: " +
                "only a state dict of tensors is read (save model.state_dict() rather than the module; reading a pickled nn.Module would mean running Python)");
        var dict = saved as IDictionary ?? throw new InvalidDataException($"PyTorch checkpoint {path}: it holds {Kind(saved)}, not a state dict (a dict of tensors)");
        if (!IsStateDict(dict))
            foreach (string wrapper in new[] { "state_dict", "model" })
                if (dict.Contains(wrapper) && dict[wrapper] is IDictionary inner && IsStateDict(inner))
                {
                    dict = inner;
                    break;
                }
        if (!IsStateDict(dict))
        {
            var bad = dict.Keys.Cast<object>().Select(k => (Key: k, Value: dict[k])).FirstOrDefault(e => e.Value is not TensorRef);
            throw new InvalidDataException($"PyTorch checkpoint {path}: it is not a state dict, nor a dict holding one under 'state_dict' or 'model' " +
                $"(its entry '{bad.Key}' is {Kind(bad.Value)})");
        }
        var entries = dict.Keys.Cast<object>().Select(k => (Name: k as string ?? throw new InvalidDataException($"PyTorch checkpoint {path}: a state-dict key is {Kind(k)}, not a string"),
            Tensor: (TensorRef)dict[k]!)).ToList();
        // The unpickler fills dicts as Hashtables, which forget the file's order: the keys are put in natural order
        // (layer4 before layer10), which for the zoo's networks starts at the input convolution and ends at the classifier.
        entries = entries.OrderBy(e => e.Name, NaturalOrder.Instance).ToList();
        if (entries.Count > 0 && entries.All(e => e.Name.StartsWith("module.", StringComparison.Ordinal)))
            entries = entries.Select(e => (e.Name["module.".Length..], e.Tensor)).ToList();
        return entries;
    }

    private static bool IsStateDict(IDictionary dict) => dict.Count > 0 && dict.Values.Cast<object?>().All(v => v is TensorRef);

    private static string Kind(object? value) => value switch
    {
        null => "None",
        ClassDict c => $"a Python object of class {c.ClassName}",
        string => "a string",
        IDictionary => "a dict",
        ICollection => "a list",
        TensorRef => "a tensor",
        _ => $"a {value.GetType().Name}",
    };

    /// <summary>A tensor of the storage's values at the reference's offset, shape and strides (copied to be contiguous).</summary>
    private static Tensor Materialize(TensorRef t, byte[] storage, string name, string path)
    {
        void Require(bool ok, string problem) { if (!ok) throw new InvalidDataException($"PyTorch checkpoint {path}: tensor '{name}' {problem}"); }
        int rank = t.Size.Length;
        Require(rank <= Shape.MaxRank && t.Stride.Length == rank, $"has size [{string.Join(", ", t.Size)}] and stride [{string.Join(", ", t.Stride)}] (expected one stride per dimension, at most {Shape.MaxRank})");
        Require(t.Size.All(s => s is >= 0 and <= int.MaxValue) && t.Stride.All(s => s >= 0) && t.Offset >= 0, "has a negative or huge size, stride or offset");
        long count = 1, last = t.Offset;
        foreach (long s in t.Size) count *= s;
        for (int d = 0; d < rank; d++) last += t.Size[d] == 0 ? 0 : (t.Size[d] - 1) * t.Stride[d];
        Require(count == 0 || last < t.Storage.Numel, $"reaches element {last} of a storage of {t.Storage.Numel}");
        Require(count <= Array.MaxLength, $"holds {count} elements, more than one tensor may");
        var shape = new Shape(Array.ConvertAll(t.Size, s => (int)s));
        return t.Storage.Kind.Name switch
        {
            "float32" => Gather(t, count, i => BinaryPrimitives.ReadSingleLittleEndian(storage.AsSpan((int)(4 * i))), shape),
            "float64" => Gather(t, count, i => BinaryPrimitives.ReadDoubleLittleEndian(storage.AsSpan((int)(8 * i))), shape),
            "float16" => Gather(t, count, i => (float)BitConverter.UInt16BitsToHalf(BinaryPrimitives.ReadUInt16LittleEndian(storage.AsSpan((int)(2 * i)))), shape),
            "bfloat16" => Gather(t, count, i => BitConverter.Int32BitsToSingle(BinaryPrimitives.ReadUInt16LittleEndian(storage.AsSpan((int)(2 * i))) << 16), shape),
            "int64" => Gather(t, count, i => BinaryPrimitives.ReadInt64LittleEndian(storage.AsSpan((int)(8 * i))), shape),
            _ => Gather(t, count, i => BinaryPrimitives.ReadInt32LittleEndian(storage.AsSpan((int)(4 * i))), shape),
        };
    }

    /// <summary>Reads the view's elements in C order: the storage index steps by the strides, like an odometer.</summary>
    private static Tensor Gather<T>(TensorRef t, long count, Func<long, T> read, Shape shape) where T : unmanaged
    {
        var values = new T[count];
        var position = new long[t.Size.Length];
        long at = t.Offset;
        for (long i = 0; i < count; i++)
        {
            values[i] = read(at);
            for (int d = t.Size.Length - 1; d >= 0; d--)
            {
                at += t.Stride[d];
                if (++position[d] < t.Size[d]) break;
                at -= t.Size[d] * t.Stride[d];
                position[d] = 0;
            }
        }
        return Tensor.FromArray<T>(values, shape, CpuBackend.Instance);
    }

    // ---- the archive --------------------------------------------------------------------------------------------

    private static ZipArchive OpenArchive(string path)
    {
        try
        {
            return new ZipArchive(File.OpenRead(path), ZipArchiveMode.Read);
        }
        catch (InvalidDataException e)
        {
            throw new InvalidDataException($"PyTorch checkpoint {path}: the zip archive is corrupt ({e.Message.TrimEnd('.')})", e);
        }
    }

    private static byte[] ReadEntry(ZipArchiveEntry entry, string path, long maxBytes)
    {
        if (entry.Length > Math.Min(maxBytes, Array.MaxLength))
            throw new InvalidDataException($"PyTorch checkpoint {path}: '{entry.FullName}' is {entry.Length:N0} bytes, more than such an entry may hold");
        try
        {
            using var stream = entry.Open();
            var bytes = new byte[entry.Length];
            int read = stream.ReadAtLeast(bytes, bytes.Length, throwOnEndOfStream: false);
            if (read < bytes.Length || stream.ReadByte() >= 0)
                throw new InvalidDataException($"PyTorch checkpoint {path}: '{entry.FullName}' does not hold the {entry.Length} bytes its header announces");
            return bytes;
        }
        catch (InvalidDataException e) when (!e.Message.StartsWith("PyTorch checkpoint", StringComparison.Ordinal))
        {
            throw new InvalidDataException($"PyTorch checkpoint {path}: '{entry.FullName}' is corrupt ({e.Message.TrimEnd('.')})", e);
        }
    }

    private static string ReadText(ZipArchiveEntry entry, string path) => System.Text.Encoding.ASCII.GetString(ReadEntry(entry, path, 64)).Trim();

    /// <summary>The error for a file that is not a zip archive: the legacy format gets advice, anything else says what it is not.</summary>
    private static Exception LegacyOrNot(string path)
    {
        using var stream = InputFile.OpenRead(path, "PyTorch checkpoint");
        int first = stream.ReadByte();
        return first == 0x80
            ? new NotSupportedException($"PyTorch checkpoint {path} is in the legacy (pre-1.6) format; re-save it in PyTorch with " +
                "torch.save(torch.load(PATH), NEW_PATH), which writes the zip format, or export it with safetensors")
            : new InvalidDataException($"PyTorch checkpoint {path} is not a zip archive (a .pth/.pt file written by torch.save starts with 'PK')");
    }

    /// <summary>A pickle error in words: which Python global was refused, or what is malformed.</summary>
    private static string Describe(PickleException e)
    {
        var refused = System.Text.RegularExpressions.Regex.Match(e.Message, @"ClassDict \(for ([\w.]+)\)");
        if (refused.Success)
            return $"it pickles the Python global {refused.Groups[1].Value}, which is refused: only a state dict of tensors is read " +
                "(save model.state_dict() rather than the module; a whole pickled nn.Module cannot be read without running Python)";
        return $"the pickle cannot be read ({e.Message.TrimEnd('.')})";
    }

    // ---- the unpickler's vocabulary -----------------------------------------------------------------------------

    private sealed record StorageKind(string Name, int Size) : IObjectConstructor
    {
        public object construct(object[] args) => throw new PickleException($"storage type {Name} is not constructed, only referenced");
    }

    private sealed record StorageRef(StorageKind Kind, string Key, long Numel);

    private sealed record TensorRef(StorageRef Storage, long Offset, long[] Size, long[] Stride);

    /// <summary>Persistent ids ('storage', type, key, location, numel) become storage references; nothing is read yet.</summary>
    private sealed class TorchUnpickler : Unpickler
    {
        static TorchUnpickler()
        {
            foreach (var kind in new[] { new StorageKind("float32", 4), new StorageKind("float64", 8), new StorageKind("float16", 2), new StorageKind("bfloat16", 2),
                         new StorageKind("int64", 8), new StorageKind("int32", 4) })
                registerConstructor("torch", kind.Name switch
                {
                    "float32" => "FloatStorage", "float64" => "DoubleStorage", "float16" => "HalfStorage", "bfloat16" => "BFloat16Storage",
                    "int64" => "LongStorage", _ => "IntStorage",
                }, kind);
            registerConstructor("torch._utils", "_rebuild_tensor_v2", new Constructor(RebuildTensor));
            registerConstructor("torch._utils", "_rebuild_parameter", new Constructor(args => args.Length >= 1 && args[0] is TensorRef t ? t
                : throw new PickleException("_rebuild_parameter expects a tensor")));
            registerConstructor("collections", "OrderedDict", new Constructor(_ => new PickledOrderedDict()));
        }

        protected override object persistentLoad(object pid)
        {
            if (pid is not object[] { Length: 5 } id || id[0] as string != "storage" || id[1] is not StorageKind kind || id[2] is not string key || ToLong(id[4]) is not long numel || numel < 0)
                throw new PickleException($"a persistent id that is not a storage of float32, float64, float16, bfloat16, int64 or int32 " +
                    $"({(pid is object[] { Length: > 1 } a && a[1] is ClassDict c ? $"a {c.ClassName}" : "something else")}); only those are read");
            return new StorageRef(kind, key, numel);
        }

        /// <summary>torch._utils._rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad, backward_hooks[, metadata]).</summary>
        private static object RebuildTensor(object[] args)
        {
            if (args.Length < 4 || args[0] is not StorageRef storage || ToLong(args[1]) is not long offset || args[2] is not object[] size || args[3] is not object[] stride)
                throw new PickleException("_rebuild_tensor_v2 expects (storage, offset, size, stride, ...)");
            long[] Longs(object[] values) => values.Select(v => ToLong(v) ?? throw new PickleException("a tensor size or stride is not an integer")).ToArray();
            return new TensorRef(storage, offset, Longs(size), Longs(stride));
        }

        private static long? ToLong(object? value) => value switch
        {
            int i => i,
            long l => l,
            System.Numerics.BigInteger b when b >= long.MinValue && b <= long.MaxValue => (long)b,
            _ => null,
        };
    }

    /// <summary>
    /// collections.OrderedDict as the unpickler can fill it (a Hashtable). Its __setstate__ takes the module's
    /// _metadata attribute, which a state dict does not need.
    /// </summary>
    private sealed class PickledOrderedDict : Hashtable
    {
        // The name and signature are the unpickler's convention for BUILD, which finds the method by reflection.
        [System.Diagnostics.CodeAnalysis.DynamicDependency(nameof(__setstate__), typeof(PickledOrderedDict))]
        public PickledOrderedDict() { }

        public void __setstate__(Hashtable state) { }
    }

    private sealed class Constructor(Func<object[], object> build) : IObjectConstructor
    {
        public object construct(object[] args) => build(args);
    }

    /// <summary>Orders "layer10" after "layer4": digit runs compare as numbers.</summary>
    private sealed class NaturalOrder : IComparer<string>
    {
        public static readonly NaturalOrder Instance = new();

        public int Compare(string? a, string? b)
        {
            var (x, y) = (a ?? "", b ?? "");
            int i = 0, j = 0;
            while (i < x.Length && j < y.Length)
            {
                if (char.IsAsciiDigit(x[i]) && char.IsAsciiDigit(y[j]))
                {
                    // Numbers compare by length once leading zeros are gone, then digit by digit.
                    int si = i, sj = j;
                    while (i < x.Length && char.IsAsciiDigit(x[i])) i++;
                    while (j < y.Length && char.IsAsciiDigit(y[j])) j++;
                    ReadOnlySpan<char> left = x.AsSpan(si, i - si).TrimStart('0'), right = y.AsSpan(sj, j - sj).TrimStart('0');
                    int c = left.Length != right.Length ? left.Length.CompareTo(right.Length) : left.SequenceCompareTo(right);
                    if (c != 0) return c;
                }
                else
                {
                    int c = x[i].CompareTo(y[j]);
                    if (c != 0) return c;
                    i++;
                    j++;
                }
            }
            return (x.Length - i).CompareTo(y.Length - j);
        }
    }
}
