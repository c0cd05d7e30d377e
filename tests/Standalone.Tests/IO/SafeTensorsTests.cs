// The safetensors reader and writer: round trips of every written dtype (a scalar and an empty tensor included) with
// metadata, F16/BF16 decoding from hand-made bytes, and one hand-made malformed file per rejection, asserting that
// the error names the file and the problem.
using System.Buffers.Binary;
using System.Text;
using Standalone.Models.IO;

namespace Standalone.Tests.IO;

[TestFixture]
public sealed class SafeTensorsTests
{
    private string _directory = "";

    [OneTimeSetUp]
    public void CreateDirectory()
    {
        _directory = Path.Combine(Path.GetTempPath(), "standalone-safetensors-tests-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(_directory);
    }

    [OneTimeTearDown]
    public void DeleteDirectory() => Directory.Delete(_directory, recursive: true);

    private string NewPath(string name) => Path.Combine(_directory, $"{name}-{Guid.NewGuid():N}.safetensors");

    // ---- round trip -----------------------------------------------------------------------------------------

    [Test]
    public void RoundTripKeepsNamesOrderDTypesShapesValuesAndMetadata()
    {
        using var scope = TensorScope.Begin();
        string path = NewPath("roundtrip");
        var written = new (string Name, Tensor Value)[]
        {
            ("conv.weight", Tensor.FromArray(new[] { 1.5f, -2.25f, float.MaxValue, float.Epsilon, 0f, -0f }, 2, 1, 3)),
            ("double", Tensor.FromArray(new[] { Math.PI, -1e300, 5e-324, double.NegativeInfinity }, 4)),
            ("bn.num_batches_tracked", Tensor.Scalar(7, DType.Int64)),
            ("labels", Tensor.FromArray(new[] { long.MinValue, -1, 0, long.MaxValue }, 2, 2)),
            ("ints", Tensor.FromArray(new[] { int.MinValue, 3, int.MaxValue }, 3)),
            ("empty", Tensor.Zeros(new Shape(0, 3))),
            ("a.scalar", Tensor.Scalar(0.125, DType.Float64)),
        };
        var metadata = new Dictionary<string, string> { ["format"] = "pt", ["note"] = "quotes \" and \\ and ünïcödé" };

        SafeTensors.Write(path, written, metadata);
        using var file = SafeTensors.Read(path);

        Assert.That(file.Tensors.Select(t => t.Name), Is.EqualTo(written.Select(t => t.Name)));
        Assert.That(file.Metadata, Is.EquivalentTo(metadata));
        foreach (var (name, value) in written)
        {
            var read = file[name];
            Assert.That(read.DType, Is.EqualTo(value.DType), name);
            Assert.That(read.Shape, Is.EqualTo(value.Shape), name);
            switch (value.DType)
            {
                case DType.Float32: Assert.That(read.ToArray<float>(), Is.EqualTo(value.ToArray<float>()), name); break;
                case DType.Float64: Assert.That(read.ToArray<double>(), Is.EqualTo(value.ToArray<double>()), name); break;
                case DType.Int32: Assert.That(read.ToArray<int>(), Is.EqualTo(value.ToArray<int>()), name); break;
                default: Assert.That(read.ToArray<long>(), Is.EqualTo(value.ToArray<long>()), name); break;
            }
        }
        Assert.That(BitConverter.DoubleToInt64Bits(file["double"].ToArray<double>()[2]), Is.EqualTo(1L), "the subnormal survives bit for bit");
        Assert.That(file["a.scalar"].Shape.Rank, Is.Zero);
    }

    [Test]
    public void WriterPadsTheHeaderWithSpacesToAMultipleOfEight()
    {
        using var scope = TensorScope.Begin();
        string path = NewPath("padding");
        SafeTensors.Write(path, [("x", Tensor.FromArray(new[] { 1f, 2f, 3f }, 3))], null);
        var bytes = File.ReadAllBytes(path);
        long n = (long)BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        string header = Encoding.UTF8.GetString(bytes, 8, (int)n);
        Assert.That(n % 8, Is.Zero);
        Assert.That(header, Does.StartWith("{\"x\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,12]}}"));
        Assert.That(header.TrimEnd(' '), Does.EndWith("}"));
        Assert.That(bytes.Length, Is.EqualTo(8 + n + 12));
        Assert.That(BinaryPrimitives.ReadSingleLittleEndian(bytes.AsSpan((int)(8 + n + 4))), Is.EqualTo(2f));
        Assert.That(Directory.GetFiles(_directory, "*.tmp-*"), Is.Empty, "no temporary file is left behind");
    }

    [Test]
    public void WriterRejectsDuplicateAndReservedNames()
    {
        using var scope = TensorScope.Begin();
        var t = Tensor.Zeros(new Shape(1));
        var duplicate = Assert.Throws<ArgumentException>(() => SafeTensors.Write(NewPath("dup"), [("a", t), ("a", t)], null));
        Assert.That(duplicate!.Message, Does.Contain("'a' is given twice"));
        var reserved = Assert.Throws<ArgumentException>(() => SafeTensors.Write(NewPath("reserved"), [("__metadata__", t)], null));
        Assert.That(reserved!.Message, Does.Contain("__metadata__"));
    }

    // ---- half precision -------------------------------------------------------------------------------------

    [Test]
    public void F16AndBF16AreWidenedToFloat32()
    {
        // F16: 1.0 = 0x3C00, −2.0 = 0xC000, 0.5 = 0x3800, 65504 (largest) = 0x7BFF, 2^−24 (smallest subnormal) = 0x0001.
        // BF16 is the top 16 bits of an F32: 1.0 = 0x3F80, −3.5 = 0xC060, 3.140625 = 0x4049.
        ushort[] half = [0x3C00, 0xC000, 0x3800, 0x7BFF, 0x0001];
        ushort[] brain = [0x3F80, 0xC060, 0x4049];
        var data = new byte[2 * (half.Length + brain.Length)];
        for (int i = 0; i < half.Length; i++) BinaryPrimitives.WriteUInt16LittleEndian(data.AsSpan(2 * i), half[i]);
        for (int i = 0; i < brain.Length; i++) BinaryPrimitives.WriteUInt16LittleEndian(data.AsSpan(2 * (half.Length + i)), brain[i]);
        string path = Craft("half",
            """{"h":{"dtype":"F16","shape":[5],"data_offsets":[0,10]},"b":{"dtype":"BF16","shape":[3,1],"data_offsets":[10,16]}}""", data);

        using var scope = TensorScope.Begin();
        using var file = SafeTensors.Read(path);
        Assert.That(file["h"].DType, Is.EqualTo(DType.Float32));
        Assert.That(file["h"].ToArray<float>(), Is.EqualTo(new[] { 1f, -2f, 0.5f, 65504f, MathF.Pow(2, -24) }));
        Assert.That(file["b"].Shape, Is.EqualTo(new Shape(3, 1)));
        Assert.That(file["b"].ToArray<float>(), Is.EqualTo(new[] { 1f, -3.5f, 3.140625f }));
    }

    // ---- rejections -----------------------------------------------------------------------------------------

    private const string OneF32 = """{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}""";

    [Test]
    public void RejectsAFileShorterThanTheLengthPrefix()
    {
        string path = NewPath("short");
        File.WriteAllBytes(path, [1, 0, 0, 0, 0]);
        AssertRejected(path, "shorter than the 8-byte header length");
    }

    [Test]
    public void RejectsAHeaderLengthLargerThanTheFile() =>
        AssertRejected(Craft("long", OneF32, new byte[8], headerLength: 4096), "header length 4096 is larger than the file");

    [Test]
    public void RejectsAHeaderLengthOverTheLimit() =>
        AssertRejected(Craft("limit", OneF32, new byte[8], headerLength: 100_000_001), "exceeds the limit of 100,000,000 bytes");

    [TestCase("""{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}""", "not valid JSON", TestName = "RejectsTruncatedJson")]
    [TestCase("""{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}}""", "not valid JSON", TestName = "RejectsContentAfterTheObject")]
    [TestCase("""{a:1}""", "not valid JSON", TestName = "RejectsUnquotedKeys")]
    [TestCase("""["a"]""", "does not start with '{'", TestName = "RejectsAnArrayHeader")]
    [TestCase(""" {"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}""", "does not start with '{'", TestName = "RejectsLeadingWhitespace")]
    [TestCase("""{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}""", "duplicate key 'a' in the header", TestName = "RejectsDuplicateTensorNames")]
    [TestCase("""{"a":{"dtype":"F32","dtype":"F32","shape":[2],"data_offsets":[0,8]}}""", "duplicate key 'dtype' in entry 'a'", TestName = "RejectsDuplicateEntryFields")]
    [TestCase("""{"__metadata__":{"k":"1","k":"2"},"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}""", "duplicate key 'k' in __metadata__", TestName = "RejectsDuplicateMetadataKeys")]
    [TestCase("""{"a":[1,2]}""", "entry 'a' must be an object", TestName = "RejectsAnEntryThatIsNotAnObject")]
    [TestCase("""{"a":{"shape":[2],"data_offsets":[0,8]}}""", "entry 'a' is missing dtype", TestName = "RejectsAMissingDType")]
    [TestCase("""{"a":{"dtype":"F32","data_offsets":[0,8]}}""", "entry 'a' is missing shape", TestName = "RejectsAMissingShape")]
    [TestCase("""{"a":{"dtype":"F32","shape":[2]}}""", "entry 'a' is missing data_offsets", TestName = "RejectsMissingDataOffsets")]
    [TestCase("""{"a":{"dtype":"F24","shape":[2],"data_offsets":[0,8]}}""", "unknown dtype 'F24'", TestName = "RejectsAnUnknownDType")]
    [TestCase("""{"a":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}}""", "shape holds the negative value -2", TestName = "RejectsANegativeDimension")]
    [TestCase("""{"a":{"dtype":"F32","shape":[2.5],"data_offsets":[0,8]}}""", "shape must hold non-negative integers, got 2.5", TestName = "RejectsAFractionalDimension")]
    [TestCase("""{"a":{"dtype":"F32","shape":["2"],"data_offsets":[0,8]}}""", "shape must hold non-negative integers, got String", TestName = "RejectsAStringDimension")]
    [TestCase("""{"a":{"dtype":"F32","shape":[2],"data_offsets":[0]}}""", "data_offsets must be [BEGIN, END]", TestName = "RejectsOneOffset")]
    [TestCase("""{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,12]}}""", "are out of range (the data buffer holds 8 bytes)", TestName = "RejectsOffsetsOutOfRange")]
    [TestCase("""{"a":{"dtype":"F32","shape":[0],"data_offsets":[8,0]}}""", "end before they begin", TestName = "RejectsEndBeforeBegin")]
    [TestCase("""{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[2,6]}}""", "tensors 'a' and 'b' overlap", TestName = "RejectsOverlappingEntries")]
    [TestCase("""{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}""", "bytes 4 to 8 at its end belong to no tensor", TestName = "RejectsUncoveredTrailingBytes")]
    [TestCase("""{"a":{"dtype":"F16","shape":[1],"data_offsets":[0,2]},"b":{"dtype":"F16","shape":[1],"data_offsets":[6,8]}}""", "hole in the data buffer: bytes 2 to 6", TestName = "RejectsAHoleBetweenEntries")]
    [TestCase("""{"a":{"dtype":"F64","shape":[2],"data_offsets":[0,8]}}""", "size mismatch", TestName = "RejectsASizeThatDoesNotMatchTheShape")]
    [TestCase("""{"__metadata__":{"epoch":3},"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}""", "__metadata__ value of 'epoch' must be a string", TestName = "RejectsNonStringMetadata")]
    [TestCase("""{"__metadata__":[],"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}""", "__metadata__ must be an object of strings", TestName = "RejectsMetadataThatIsNotAnObject")]
    public void RejectsMalformedHeaders(string header, string problem) => AssertRejected(Craft("bad", header, new byte[8]), problem);

    [Test]
    public void RejectsAHeaderThatIsNotUtf8()
    {
        var header = Encoding.UTF8.GetBytes("""{"a?":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}""");
        header[3] = 0xFF; // the '?' in the name becomes a byte that is never valid UTF-8
        AssertRejected(CraftBytes("utf8", header, new byte[8]), "not valid JSON");
    }

    [Test]
    public void RefusesValidButUnsupportedDTypes()
    {
        string path = Craft("bool", """{"flags":{"dtype":"BOOL","shape":[8],"data_offsets":[0,8]}}""", new byte[8]);
        var ex = Assert.Throws<NotSupportedException>(() => SafeTensors.Read(path));
        Assert.That(ex!.Message, Does.Contain(path).And.Contain("tensor 'flags' has dtype BOOL, which is unsupported"));
    }

    // ---- helpers --------------------------------------------------------------------------------------------

    private static void AssertRejected(string path, string problem)
    {
        var ex = Assert.Throws<InvalidDataException>(() => SafeTensors.Read(path));
        Assert.That(ex!.Message, Does.Contain(path).And.Contain(problem));
    }

    /// <summary>Writes [length][header padded with spaces to a multiple of 8][data]; headerLength overrides the length field.</summary>
    private string Craft(string name, string header, byte[] data, ulong? headerLength = null) =>
        CraftBytes(name, Encoding.UTF8.GetBytes(header), data, headerLength);

    private string CraftBytes(string name, byte[] header, byte[] data, ulong? headerLength = null)
    {
        int padded = (header.Length + 7) / 8 * 8;
        var bytes = new byte[8 + padded + data.Length];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, headerLength ?? (ulong)padded);
        header.CopyTo(bytes, 8);
        bytes.AsSpan(8 + header.Length, padded - header.Length).Fill((byte)' ');
        data.CopyTo(bytes, 8 + padded);
        string path = NewPath(name);
        File.WriteAllBytes(path, bytes);
        return path;
    }
}
