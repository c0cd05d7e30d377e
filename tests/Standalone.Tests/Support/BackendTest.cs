// Fixtures that run on every backend: a class deriving from BackendTest and marked
// [TestFixtureSource(typeof(TestBackends), nameof(TestBackends.All))] is instantiated once per backend ("cpu",
// "opencl"). While its tests run, new tensors are created on that backend (Tensor.DefaultBackend); a backend whose
// device is missing on this machine makes the fixture inconclusive, never silently green. OpenClTestCount counts the
// tests that ran on OpenCL, so CI can print it.
using Standalone.Backends;
using Standalone.Backends.Cpu;

namespace Standalone.Tests.Support;

public static class TestBackends
{
    public static readonly string[] All = ["cpu", "opencl"];

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
}

public abstract class BackendTest
{
    private static int _openClTests;

    protected BackendTest(string device) => DeviceName = device;

    public string DeviceName { get; }

    /// <summary>The backend under test (valid inside tests).</summary>
    protected IBackend Backend { get; private set; } = CpuBackend.Instance;

    /// <summary>The CPU oracle.</summary>
    protected static IBackend Cpu => CpuBackend.Instance;

    public static int OpenClTestCount => _openClTests;

    [OneTimeSetUp]
    public void OpenBackend()
    {
        var (backend, missing) = TestBackends.TryOpen(DeviceName);
        if (backend == null) Assert.Inconclusive($"{DeviceName}: no device on this machine ({missing})");
        Backend = backend;
    }

    [SetUp]
    public void UseBackend()
    {
        Tensor.DefaultBackend = Backend;
        if (Backend.Device.Kind == DeviceKind.OpenCl) Interlocked.Increment(ref _openClTests);
    }

    [TearDown]
    public void RestoreCpu() => Tensor.DefaultBackend = CpuBackend.Instance;

    /// <summary>A copy of a (CPU) tensor on the backend under test.</summary>
    protected Tensor OnDevice(Tensor t) => t.To(Backend);

    /// <summary>A copy of a tensor on the CPU, as float64 values.</summary>
    protected static double[] Values(Tensor t) => t.ToDoubleArray();
}
