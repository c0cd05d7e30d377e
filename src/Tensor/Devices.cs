// The compute devices this process can use, for `standalone devices` and for messages that name a device. The CPU
// is always there; GPU backends add their devices here when their native library loads.
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Standalone.Backends;
using Standalone.Backends.Cpu;
using Standalone.Backends.Cuda;
using Standalone.Backends.OpenCl;

namespace Standalone;

/// <summary>One device: its selector ("cpu", "opencl:0"), a name, and descriptive facts (label, value).</summary>
public sealed record DeviceInfo(Device Device, string Name, IReadOnlyList<(string Label, string Value)> Facts);

public static class Devices
{
    /// <summary>The environment variable that picks the device when no --device option is given.</summary>
    public const string EnvironmentVariable = "STANDALONE_DEVICE";

    /// <summary>Every device found, the CPU first.</summary>
    public static IReadOnlyList<DeviceInfo> List() => [Cpu(), .. OpenClRuntime.Devices.Select(OpenCl), .. CudaRuntime.Devices.Select(Cuda)];

    /// <summary>Which GPU backends exist in this build and why a device of theirs may be missing.</summary>
    public static IReadOnlyList<(string Backend, string Status)> BackendStatus() =>
    [
        ("opencl", OpenClRuntime.Unavailable is { } why ? $"no device ({why})" : $"{OpenClRuntime.Devices.Count} device(s); --device opencl picks the first GPU, else opencl:0"),
        ("cuda", CudaRuntime.Unavailable is { } cudaMissing ? $"no device ({cudaMissing})" : $"{CudaRuntime.Devices.Count} device(s); --device cuda picks cuda:0"),
    ];

    /// <summary>
    /// The backend for a device selector: "cpu", "opencl" (the first GPU, else the first OpenCL device), "opencl:N",
    /// "cuda" (cuda:0), "cuda:N". Unknown selectors and missing devices throw with what is available.
    /// </summary>
    public static IBackend Open(string selector)
    {
        var device = Device.Parse(selector);
        bool indexed = selector.Contains(':');
        return device.Kind switch
        {
            DeviceKind.Cpu => CpuBackend.Instance,
            DeviceKind.OpenCl => OpenClRuntime.Backend(indexed ? device.Index : null),
            _ => CudaRuntime.Backend(device.Index),
        };
    }

    public static IBackend Open(Device device) => device.Kind switch
    {
        DeviceKind.Cpu => CpuBackend.Instance,
        DeviceKind.OpenCl => OpenClRuntime.Backend(device.Index),
        _ => CudaRuntime.Backend(device.Index),
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

    private static DeviceInfo OpenCl(OpenClDeviceInfo d) => new(new Device(DeviceKind.OpenCl, d.Index), d.Name,
    [
        ("platform", $"{d.PlatformName} ({d.PlatformVersion})"),
        ("type", d.IsGpu ? "GPU" : "CPU or accelerator"),
        ("OpenCL version", d.Version),
        ("driver", d.DriverVersion),
        ("compute units", $"{d.ComputeUnits} at {d.ClockMHz} MHz"),
        ("global memory", $"{d.GlobalMemory / (1024.0 * 1024 * 1024):F2} GiB (largest buffer {d.MaxAllocation / (1024.0 * 1024 * 1024):F2} GiB)"),
        ("local memory", $"{d.LocalMemory / 1024} KiB; work-group size up to {d.MaxWorkGroupSize}"),
    ]);

    private static DeviceInfo Cuda(CudaDeviceInfo d) => new(new Device(DeviceKind.Cuda, d.Index), d.Name, d.Facts);

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
