// PyTorch reference fixtures: data/reference/*.safetensors, written once by data/reference/make_fixtures.py and read
// here through the engine's own safetensors reader. A missing or stale fixture fails with the command that remakes
// it. TensorAssert compares engine results with the references under named tolerances and, on failure, prints the
// first mismatches and the largest differences (it prints the largest differences on success too, as evidence).
using System.Globalization;
using System.Text;
using Standalone.Models.IO;

namespace Standalone.Tests.Reference;

/// <summary>
/// Element i passes when |actual − expected| ≤ Relative·|expected_i| + OfMax·max_j |expected_j|: a relative bound,
/// with a floor scaled to the tensor's largest value so that entries that cancel to nearly zero are judged against
/// the magnitude of the terms that produced them, not against their own tiny size.
/// </summary>
public readonly record struct Tolerance(double Relative, double OfMax)
{
    public override string ToString() => $"{Relative:G3}·|expected| + {OfMax:G3}·max|expected|";
}

/// <summary>The tolerances shared by the op fixtures (the ResNet step names its own).</summary>
internal static class Tolerances
{
    /// <summary>
    /// Float64 engine vs float64 PyTorch on the same inputs: only the order of summation differs (errors ~1e-15), so
    /// 1e-10 leaves a wide margin while any wrong formula, index or scale fails by orders of magnitude.
    /// </summary>
    public static readonly Tolerance Float64 = new(1e-10, 1e-10);

    /// <summary>
    /// Float32 engine on float32-rounded inputs vs the float64 reference: input rounding (6e-8 relative) and float32
    /// accumulation over at most a few hundred terms give errors ~1e-7 of the largest term; 1e-5 bounds that.
    /// </summary>
    public static readonly Tolerance Float32 = new(1e-5, 1e-5);

    public static Tolerance For(DType dtype) => dtype == DType.Float64 ? Float64 : Float32;
}

/// <summary>One fixture file: its tensors by name and its metadata.</summary>
internal sealed class Fixture : IDisposable
{
    /// <summary>Must equal FORMAT_VERSION in the script; bump both when the layout of a fixture changes.</summary>
    public const string FormatVersion = "1";
    public const string Script = "data/reference/make_fixtures.py";
    private readonly SafeTensorsFile _file;
    private readonly string _regenerateHint;

    private Fixture(string name, SafeTensorsFile file, string script)
    {
        Name = name;
        _file = file;
        _regenerateHint = RegenerateHint(script);
    }

    private static string RegenerateHint(string script) =>
        "re-run `/usr/bin/python3 " + script + "` from the repository root (needs PyTorch) and commit the files it writes";

    public string Name { get; }
    public IReadOnlyDictionary<string, string> Metadata => _file.Metadata;

    /// <summary>
    /// Loads data/reference/{name}.safetensors, failing the test with the regeneration command (the script that wrote
    /// the file) if it is missing or stale.
    /// </summary>
    public static Fixture Load(string name, string script = Script)
    {
        string hint = RegenerateHint(script);
        string path = Path.Combine(RepositoryRoot(), "data", "reference", name + ".safetensors");
        if (!File.Exists(path)) Assert.Fail($"reference fixture {path} is missing: {hint}");
        var file = SafeTensors.Read(path);
        file.Metadata.TryGetValue("format_version", out var version);
        if (version != FormatVersion)
        {
            file.Dispose();
            Assert.Fail($"reference fixture {path} has format_version '{version ?? "(none)"}', the tests expect '{FormatVersion}': {hint}");
        }
        return new Fixture(name, file, script);
    }

    /// <summary>
    /// A fixture tensor on the backend the test runs on (Tensor.DefaultBackend): the file's own tensor on the CPU, a
    /// copy elsewhere — in Float32 where the device has no Float64. The copy belongs to the caller's TensorScope.
    /// </summary>
    public Tensor this[string key]
    {
        get
        {
            if (!_file.Contains(key)) throw new AssertionException($"reference fixture '{Name}' has no tensor '{key}': {_regenerateHint}");
            var stored = _file[key];
            var backend = Tensor.DefaultBackend;
            if (stored.Backend == backend) return stored;
            using var typed = stored.DType == DType.Float64 ? stored.To(DType.Float32) : stored.Share();
            return typed.To(backend);
        }
    }

    public bool Contains(string key) => _file.Contains(key);

    public IEnumerable<string> Names => _file.Tensors.Select(t => t.Name);

    /// <summary>The tensors under a prefix, keyed by the rest of their name ("init." → a state dict).</summary>
    public Dictionary<string, Tensor> WithPrefix(string prefix) => _file.WithPrefix(prefix);

    public string Meta(string key) => _file.Metadata.TryGetValue(key, out var value)
        ? value
        : throw new AssertionException($"reference fixture '{Name}' has no metadata '{key}': {_regenerateHint}");

    /// <summary>A metadata entry written as "key=value,key=value" (a case's geometry), as a dictionary.</summary>
    public IReadOnlyDictionary<string, string> Settings(string key) =>
        Meta(key).Split(',').Select(part => part.Split('=', 2)).ToDictionary(kv => kv[0], kv => kv[1]);

    /// <summary>Fails (naming the script) unless the fixture holds exactly the number of cases the test enumerates.</summary>
    public void RequireCases(int expected)
    {
        int count = int.Parse(Meta("cases"), CultureInfo.InvariantCulture);
        if (count != expected) Assert.Fail($"reference fixture '{Name}' holds {count} cases, the tests enumerate {expected}: {_regenerateHint}, or update the test");
    }

    public void Dispose() => _file.Dispose();

    /// <summary>The directory holding Standalone.sln, found by walking up from the test assembly.</summary>
    internal static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(TestContext.CurrentContext.TestDirectory); dir != null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Standalone.sln"))) return dir.FullName;
        throw new AssertionException($"cannot find the repository root (Standalone.sln) above {TestContext.CurrentContext.TestDirectory}");
    }
}

internal static class TensorAssert
{
    private const int MismatchesShown = 8;

    /// <summary>
    /// Asserts that actual matches expected (same shape; values within tolerance, compared in double precision) and
    /// writes the largest absolute and relative differences to the test output.
    /// </summary>
    public static void Close(Tensor? actual, Tensor expected, Tolerance tolerance, string what)
    {
        if (actual == null || actual.Shape != expected.Shape)
        {
            // Assert.That rather than Assert.Fail, so that inside a multiple-assert scope the other checks still run.
            Assert.That(actual?.Shape, Is.EqualTo(expected.Shape), $"{what}: {(actual == null ? "no tensor was computed" : "shape differs from the reference")}");
            return;
        }
        var a = actual.ToDoubleArray();
        var e = expected.ToDoubleArray();
        double scale = e.Length == 0 ? 0 : e.Max(Math.Abs);
        double maxAbs = 0, maxRel = 0;
        int failures = 0;
        var report = new StringBuilder();
        for (int i = 0; i < a.Length; i++)
        {
            double diff = Math.Abs(a[i] - e[i]);
            double allowed = tolerance.Relative * Math.Abs(e[i]) + tolerance.OfMax * scale;
            if (double.IsNaN(diff)) diff = double.PositiveInfinity;
            maxAbs = Math.Max(maxAbs, diff);
            if (e[i] != 0) maxRel = Math.Max(maxRel, diff / Math.Abs(e[i]));
            if (diff > allowed && failures++ < MismatchesShown)
                report.AppendLine(CultureInfo.InvariantCulture, $"  at {Index(i, expected.Shape)}: actual {a[i]:R}, expected {e[i]:R}, |Δ| {diff:G3} > allowed {allowed:G3}");
        }
        string summary = string.Create(CultureInfo.InvariantCulture,
            $"{what}: {actual.Shape} {actual.DType}, max |Δ| {maxAbs:G3}, max rel {maxRel:G3}, max |expected| {scale:G3}");
        TestContext.Out.WriteLine(summary);
        Assert.That(failures, Is.Zero, () => $"{summary}; {failures} of {a.Length} elements outside {tolerance}; first mismatches:\n{report}");
    }

    /// <summary>Asserts exact equality (integer tensors such as num_batches_tracked, and values that must not change).</summary>
    public static void Equal(Tensor? actual, Tensor expected, string what) => Close(actual, expected, new Tolerance(0, 0), what);

    private static string Index(int flat, Shape shape)
    {
        var index = new int[shape.Rank];
        for (int d = shape.Rank - 1; d >= 0; d--)
        {
            index[d] = flat % shape[d];
            flat /= shape[d];
        }
        return "[" + string.Join(", ", index) + "]";
    }
}
