// The OpenCL runtime itself: device discovery, kernel builds (every kernel file compiles; a broken one reports its
// build log and numbered source), the program cache, and errors for unknown devices and impossible allocations.
using Standalone.Backends.OpenCl;
using Standalone.Backends.OpenCl.Native;
using Standalone.Kernels;
using Standalone.Tests.Support;

namespace Standalone.Tests.Backends;

[TestFixture]
public sealed class OpenClRuntimeTests
{
    private static OpenClBackend Backend() => (OpenClBackend)TestBackends.Require("opencl");

    [Test]
    public void EveryKernelFileBuilds()
    {
        var backend = Backend();
        Assert.That(KernelSources.Files, Is.Not.Empty);
        Assert.DoesNotThrow(() => backend.Programs.BuildAll());
    }

    [Test]
    public void ABuildFailureReportsTheLogAndTheNumberedSource()
    {
        var backend = Backend();
        string source = KernelSources.Read("prelude_opencl.h") + "\nKERNEL broken(GLOBAL float* y)\n{\n    y[0] = undefined_name;\n}\n";
        var error = Assert.Throws<ClException>(() => backend.Programs.Build("broken.c", source))!;
        Assert.That(error.Message, Does.Contain("CL_BUILD_PROGRAM_FAILURE"));
        Assert.That(error.Message, Does.Contain("undefined_name"));
        int line = source.Split('\n').ToList().FindIndex(l => l.Contains("undefined_name")) + 1;
        Assert.That(error.Message, Does.Contain($"{line,5}      y[0] = undefined_name;"), "the source is numbered line by line");
    }

    [Test]
    public void DevicesAreNumberedAndDescribed()
    {
        Backend();
        var devices = OpenClRuntime.Devices;
        Assert.That(devices.Select(d => d.Index), Is.EqualTo(Enumerable.Range(0, devices.Count)));
        Assert.That(devices.All(d => d.Name.Length > 0 && d.Version.StartsWith("OpenCL ", StringComparison.Ordinal) && d.GlobalMemory > 0 && d.ComputeUnits > 0));
        Assert.That(Devices.Open("opencl:0"), Is.SameAs(OpenClRuntime.Backend(0)), "one backend per device");
        var error = Assert.Throws<ArgumentException>(() => Devices.Open($"opencl:{devices.Count}"))!;
        Assert.That(error.Message, Does.Contain($"there is no device opencl:{devices.Count}").And.Contain(devices[0].Name));
    }

    [Test]
    public void AnAllocationLargerThanTheDeviceAllowsIsAClearError()
    {
        var backend = Backend();
        long elements = (long)(backend.Info.MaxAllocation / 4) + 1024;
        var error = Assert.Throws<OutOfMemoryException>(() => backend.Allocate(DType.Float32, elements))!;
        Assert.That(error.Message, Does.Contain("exceeds the device's largest allocation"));
        Assert.That(error.Message, Does.Contain(backend.Info.Name));
    }

    [Test]
    public void Float64IsRefusedWithAReason()
    {
        var error = Assert.Throws<NotSupportedException>(() => Tensor.Zeros(new Shape(3), DType.Float64, Backend()))!;
        Assert.That(error.Message, Does.Contain("Float64 tensors are not supported on OpenCL"));
    }
}
