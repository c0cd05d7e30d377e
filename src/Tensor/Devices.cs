// The compute devices this process can use, for `standalone devices` and for messages that name a device. The CPU
// is always there; the GPU backend (ILGPU) adds the CUDA and OpenCL devices it finds, and its kernel simulator.
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Standalone.Backends;
using Standalone.Backends.Cpu;
using Standalone.Backends.Gpu;

namespace Standalone;

/// <summary>One device: its selector ("cpu", "opencl:0"), a name, and descriptive facts (label, value).</summary>
public sealed record DeviceInfo(Device Device, string Name, IReadOnlyList<(string Label, string Value)> Facts);

public static class Devices
{
    /// <summary>The environment variable that picks the device when no --device option is given.</summary>
    public const string EnvironmentVariable = "STANDALONE_DEVICE";

    /// <summary>Every device found, the CPU first, then CUDA and OpenCL devices (usable or not), then the kernel simulator.</summary>
    public static IReadOnlyList<DeviceInfo> List() =>
        [Cpu(), .. GpuRuntime.Devices.Select(Gpu), .. GpuRuntime.Simulator is { } simulator ? [Gpu(simulator)] : Array.Empty<DeviceInfo>()];

    /// <summary>Which GPU backends exist in this build and why a device of theirs may be missing.</summary>
    public static IReadOnlyList<(string Backend, string Status)> BackendStatus() =>
    [
        ("cuda", GpuRuntime.CudaUnavailable is { } cudaMissing ? $"no device ({cudaMissing})"
            : $"{Count(DeviceKind.Cuda)} device(s) through ILGPU (PTX generated in process; only the NVIDIA driver is needed); --device cuda picks cuda:0"),
        ("opencl", GpuRuntime.OpenClUnavailable is { } why ? $"no usable device ({why})"
            : $"{Count(DeviceKind.OpenCl)} device(s) through ILGPU (OpenCL 2.0, or 3.0 with the generic address space); --device opencl picks the first usable GPU"),
        ("sim", GpuRuntime.Unavailable is { } ilgpu ? $"no device ({ilgpu})"
            : "ILGPU's CPU accelerator runs the GPU kernels on this machine's cores (--device sim, for checking kernels; slow)"),
    ];

    private static int Count(DeviceKind kind) => GpuRuntime.Devices.Count(d => d.Device.Kind == kind && d.Unusable == null);

    /// <summary>
    /// The backend for a device selector: "cpu", "cuda" (cuda:0), "cuda:N", "opencl" (the first usable GPU, else the
    /// first usable OpenCL device), "opencl:N", "sim" (the kernel simulator). Unknown selectors and missing devices
    /// throw with what is available.
    /// </summary>
    public static IBackend Open(string selector)
    {
        var device = Device.Parse(selector);
        bool indexed = selector.Contains(':');
        return device.Kind switch
        {
            DeviceKind.Cpu => CpuBackend.Instance,
            DeviceKind.OpenCl => GpuRuntime.Backend(DeviceKind.OpenCl, indexed ? device.Index : null),
            DeviceKind.Simulator => GpuRuntime.Backend(DeviceKind.Simulator, 0),
            _ => GpuRuntime.Backend(DeviceKind.Cuda, device.Index),
        };
    }

    public static IBackend Open(Device device) => device.Kind switch
    {
        DeviceKind.Cpu => CpuBackend.Instance,
        _ => GpuRuntime.Backend(device.Kind, device.Kind == DeviceKind.Simulator ? 0 : device.Index),
    };

    /// <summary>
    /// Makes the chosen device the default for new tensors: <paramref name="selector"/> when given, else
    /// STANDALONE_DEVICE, else the CPU. Returns the backend now in use.
    /// </summary>
    public static IBackend Select(string? selector)
    {
        selector ??= Environment.GetEnvironmentVariable(EnvironmentVariable);
        var backend = string.IsNullOrWhiteSpace(selector) ? CpuBackend.Instance : Open(selector);
        Tensor.DefaultBackend = backend;
        return backend;
    }

    private static DeviceInfo Gpu(GpuDeviceInfo d) => new(d.Device, d.Name, d.Facts);

    private static DeviceInfo Cpu()
    {
        string simd = Avx512F.IsSupported ? "AVX-512F + FMA (8×32 GEMM micro-kernel)"
            : Avx2.IsSupported && Fma.IsSupported ? "AVX2 + FMA (6×16 GEMM micro-kernel)"
            : Vector128.IsHardwareAccelerated ? "128-bit vectors (4×8 GEMM micro-kernel)" : "scalar";
        long memory = GC.GetGCMemoryInfo().TotalAvailableMemoryBytes;
        return new DeviceInfo(Device.Cpu, CpuModelName(),
        [
            ("logical cores", Environment.ProcessorCount.ToString()),
            ("threads used", $"{CpuParallel.ThreadCount} (STANDALONE_THREADS to change)"),
            ("vector unit", simd),
            ("memory available", $"{memory / (1024.0 * 1024 * 1024):F1} GiB"),
        ]);
    }

    private static string CpuModelName()
    {
        try
        {
            if (File.Exists("/proc/cpuinfo"))
                foreach (string line in File.ReadLines("/proc/cpuinfo"))
                    if (line.StartsWith("model name", StringComparison.Ordinal) && line.IndexOf(':') is int colon and > 0)
                        return line[(colon + 1)..].Trim();
        }
        catch (IOException) { }
        return System.Runtime.InteropServices.RuntimeInformation.ProcessArchitecture + " CPU";
    }
}
