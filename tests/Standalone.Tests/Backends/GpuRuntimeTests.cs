// The GPU backend's runtime: code generation of every kernel for CUDA (PTX for sm_70 and sm_90) and OpenCL (OpenCL C
// 2.0) with no GPU and no OpenCL device, device discovery and selection, and the errors for unknown devices,
// impossible allocations and Float64. The simulator (ILGPU's CPU accelerator) is always there, so these never skip.
using System.Reflection;
using ILGPU;
using ILGPU.Backends;
using ILGPU.Backends.EntryPoints;
using ILGPU.Backends.OpenCL;
using ILGPU.Backends.PTX;
using ILGPU.Runtime;
using ILGPU.Runtime.Cuda;
using ILGPU.Runtime.OpenCL;
using Standalone.Backends.Gpu;
using Standalone.Backends.Gpu.Kernels;
using Standalone.Tests.Support;

namespace Standalone.Tests.Backends;

[TestFixture]
public sealed class GpuRuntimeTests
{
    /// <summary>Every kernel: the public static void methods of the kernel classes (the helpers return values).</summary>
    public static IEnumerable<MethodInfo> Kernels() =>
        typeof(KernelView).Assembly.GetTypes()
            .Where(t => t.Namespace == typeof(KernelView).Namespace && t.IsAbstract && t.IsSealed) // static classes
            .SelectMany(t => t.GetMethods(BindingFlags.Public | BindingFlags.Static | BindingFlags.DeclaredOnly))
            .Where(m => m.ReturnType == typeof(void))
            .OrderBy(m => m.DeclaringType!.Name + "." + m.Name);

    private static Context CodeGenerationContext() =>
        Context.Create(builder => builder.EnableAlgorithms().Optimize(OptimizationLevel.O1).Inlining(InliningMode.Aggressive));

    [Test]
    public void TheKernelCatalogIsComplete()
    {
        var names = Kernels().Select(m => $"{m.DeclaringType!.Name}.{m.Name}").ToList();
        Assert.That(names, Has.Count.GreaterThanOrEqualTo(35));
        Assert.That(names, Does.Contain("GemmKernels.Tile64x64").And.Contain("NormKernels.Sums").And.Contain("ConvKernels.Im2Col")
            .And.Contain("PoolKernels.MaxBackward").And.Contain("IndexKernels.IndexSelect8").And.Contain("ReduceKernels.ArgMaxRows"));
    }

    /// <summary>
    /// PTX for a Volta (sm_70) and a Hopper (sm_90) device. ILGPU writes the lowest architecture that has every capability
    /// it uses as the PTX target (sm_80 at most, in 1.5.3); the driver compiles that PTX for the GPU it runs on.
    /// </summary>
    [TestCase(70, "sm_70")]
    [TestCase(90, "sm_80")]
    public void EveryKernelCompilesToPtx(int sm, string target)
    {
        var architecture = sm == 70 ? CudaArchitecture.SM_70 : CudaArchitecture.SM_90;
        using var context = CodeGenerationContext();
        using var backend = new PTXBackend(context, new CudaCapabilityContext(architecture), architecture, CudaInstructionSet.ISA_78, null);
        foreach (var kernel in Kernels())
        {
            var compiled = (PTXCompiledKernel)backend.Compile(EntryPointDescription.FromExplicitlyGroupedKernel(kernel), new KernelSpecialization());
            string ptx = compiled.PTXAssembly;
            string name = $"{kernel.DeclaringType!.Name}.{kernel.Name}";
            Assert.That(ptx, Does.Contain($".target {target}").And.Contain(".entry"), name);
            Assert.That(ptx, Does.Not.Contain(".extern"), $"{name}: a call ILGPU could not map to PTX (the driver would refuse the module)");
        }
    }

    [Test]
    public void EveryKernelCompilesToOpenClC()
    {
        using var context = CodeGenerationContext();
        using var backend = new CLBackend(context, new CLCapabilityContext(false, false, false, false, false), CLDeviceVendor.Other, CLCVersion.CL20);
        foreach (var kernel in Kernels())
        {
            var compiled = (CLCompiledKernel)backend.Compile(EntryPointDescription.FromExplicitlyGroupedKernel(kernel), new KernelSpecialization());
            Assert.That(compiled.Source, Does.Contain("kernel void"), $"{kernel.DeclaringType!.Name}.{kernel.Name}");
        }
    }

    [Test]
    public void TheSimulatorIsADeviceWithItsOwnBackend()
    {
        var backend = (GpuBackend)TestBackends.Require("sim");
        Assert.That(Devices.Open("sim"), Is.SameAs(backend), "one backend per device");
        Assert.That(Devices.Open(new Device(DeviceKind.Simulator)), Is.SameAs(backend));
        Assert.That(backend.Name, Does.Contain("ILGPU CPU accelerator"));
        Assert.That(Devices.List().Select(d => d.Device), Does.Contain(new Device(DeviceKind.Simulator)));
    }

    [Test]
    public void DevicesAreNumberedAndEveryUnusableOneSaysWhy()
    {
        foreach (var kind in new[] { DeviceKind.Cuda, DeviceKind.OpenCl })
        {
            var devices = GpuRuntime.Devices.Where(d => d.Device.Kind == kind).ToList();
            Assert.That(devices.Select(d => d.Device.Index), Is.EqualTo(Enumerable.Range(0, devices.Count)));
            foreach (var device in devices.Where(d => d.Unusable != null))
            {
                var error = Assert.Throws<NotSupportedException>(() => Devices.Open(device.Device.ToString()))!;
                Assert.That(error.Message, Does.Contain("cannot be used").And.Contain(device.Unusable));
            }
        }
        if (GpuRuntime.Devices.All(d => d.Device.Kind != DeviceKind.Cuda))
        {
            var error = Assert.Throws<InvalidOperationException>(() => Devices.Open("cuda"))!;
            Assert.That(error.Message, Does.StartWith("CUDA: no device available (").And.Contain(GpuRuntime.CudaUnavailable));
        }
    }

    [Test]
    public void AnAllocationLargerThanTheDeviceAllowsIsAClearError()
    {
        var backend = (GpuBackend)TestBackends.Require("sim");
        long elements = backend.Limits.MaxAllocation / 4 + 1024;
        var error = Assert.Throws<OutOfMemoryException>(() => backend.Allocate(DType.Float32, elements))!;
        Assert.That(error.Message, Does.Contain("exceeds the device's largest allocation").And.Contain("sim"));
    }

    [Test]
    public void Float64IsRefusedWithAReason()
    {
        var backend = TestBackends.Require("sim");
        var error = Assert.Throws<NotSupportedException>(() => Tensor.Zeros(new Shape(3), DType.Float64, backend))!;
        Assert.That(error.Message, Does.Contain("Float64 tensors are not supported"));
    }

    [Test]
    public void KernelsCompileOnFirstUseOnly()
    {
        var backend = (GpuBackend)TestBackends.Require("sim");
        using var a = Tensor.Ones(new Shape(5), DType.Float32, backend);
        using var b = a.Exp();
        int compiled = backend.CompiledKernels.Count;
        using var c = a.Exp();
        Assert.That(backend.CompiledKernels.Count, Is.EqualTo(compiled), "a second launch reuses the compiled kernel");
    }
}
