// Tests that run on every backend. Two forms:
// - a fixture deriving from BackendTest, marked [TestFixtureSource(typeof(TestBackends), nameof(TestBackends.All))],
//   is instantiated once per backend ("cpu", "sim" — the GPU kernels on ILGPU's CPU accelerator —, "cuda", "opencl");
// - a single test taking [ValueSource(typeof(TestBackends), nameof(TestBackends.Precisions))] string on
//   ("cpu/Float64", "cpu/Float32", "opencl/Float32", ...) opens it with `using var _ = TestBackends.Use(on, out var dtype)`.
// While such a test runs, new tensors are created on its backend (Tensor.DefaultBackend). A backend whose device is
// missing on this machine makes the test inconclusive, never silently green, and the run's coverage (how many tests
// ran on each backend, how many found no device) is written out by BackendCoverage so CI can check it.
using Standalone.Backends;
using Standalone.Backends.Cpu;

namespace Standalone.Tests.Support;

public static class TestBackends
{
    public static readonly string[] All = ["cpu", "sim", "cuda", "opencl"];

    /// <summary>Every backend with the float dtypes it runs: Float64 only on the CPU.</summary>
    public static readonly string[] Precisions = [.. All.SelectMany(b => b == "cpu" ? new[] { "cpu/Float64", "cpu/Float32" } : [$"{b}/Float32"])];

    private static readonly Dictionary<string, (int Ran, int Missing)> Counts = new();

    /// <summary>Per backend: tests that ran on it, and tests (or whole fixtures) that found no device.</summary>
    public static IReadOnlyDictionary<string, (int Ran, int Missing)> Coverage
    {
        get { lock (Counts) return new Dictionary<string, (int, int)>(Counts); }
    }

    /// <summary>The backend for a selector, or null with the reason when its device is missing here.</summary>
    public static (IBackend? Backend, string? Missing) TryOpen(string selector)
    {
        try
        {
            return (Devices.Open(selector), null);
        }
        catch (Exception e) when (e is InvalidOperationException or NotSupportedException)
        {
            return (null, e.Message);
        }
    }

    /// <summary>Opens the backend (inconclusive when missing) or fails; counts the outcome.</summary>
    public static IBackend Require(string selector)
    {
        var (backend, missing) = TryOpen(selector);
        Count(selector, backend != null);
        if (backend == null) Assert.Inconclusive($"{selector}: no device on this machine ({missing})");
        return backend!;
    }

    /// <summary>Makes "backend/DType" the default backend until disposed; dtype receives the DType part.</summary>
    public static IDisposable Use(string on, out DType dtype)
    {
        var parts = on.Split('/');
        dtype = Enum.Parse<DType>(parts[1]);
        var backend = Require(parts[0]);
        Tensor.DefaultBackend = backend;
        return new Restore();
    }

    internal static void Count(string selector, bool ran)
    {
        lock (Counts)
        {
            var (r, m) = Counts.GetValueOrDefault(selector);
            Counts[selector] = ran ? (r + 1, m) : (r, m + 1);
        }
    }

    private sealed class Restore : IDisposable
    {
        public void Dispose() => Tensor.DefaultBackend = CpuBackend.Instance;
    }
}

public abstract class BackendTest
{
    protected BackendTest(string device) => DeviceName = device;

    public string DeviceName { get; }

    /// <summary>The backend under test (valid inside tests).</summary>
    protected IBackend Backend { get; private set; } = CpuBackend.Instance;

    /// <summary>The CPU oracle.</summary>
    protected static IBackend Cpu => CpuBackend.Instance;

    protected bool OnCpu => Backend is CpuBackend;

    /// <summary>
    /// True on the kernel simulator (ILGPU's CPU accelerator), which runs the GPU kernels four to five orders of
    /// magnitude slower than native code: model-level fixtures shrink their batch and width there (never skip).
    /// </summary>
    protected bool OnSimulator => Backend.Device.Kind == DeviceKind.Simulator;

    [OneTimeSetUp]
    public void OpenBackend() => Backend = TestBackends.Require(DeviceName);

    [SetUp]
    public void UseBackend()
    {
        Tensor.DefaultBackend = Backend;
        TestBackends.Count(DeviceName, ran: true);
    }

    [TearDown]
    public void RestoreCpu() => Tensor.DefaultBackend = CpuBackend.Instance;

    /// <summary>A copy of a (CPU) tensor on the backend under test.</summary>
    protected Tensor OnDevice(Tensor t) => t.To(Backend);
}
