// The compute devices this process can use, for `standalone devices` and for messages that name a device. The CPU
// is always there; GPU backends add their devices here when their native library loads.
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Standalone.Backends.Cpu;

namespace Standalone;

/// <summary>One device: its selector ("cpu", "opencl:0"), a name, and descriptive facts (label, value).</summary>
public sealed record DeviceInfo(Device Device, string Name, IReadOnlyList<(string Label, string Value)> Facts);

public static class Devices
{
    /// <summary>Every device found, the CPU first.</summary>
    public static IReadOnlyList<DeviceInfo> List() => [Cpu()];

    /// <summary>Which GPU backends exist in this build and why a device of theirs may be missing.</summary>
    public static IReadOnlyList<(string Backend, string Status)> BackendStatus() =>
    [
        ("opencl", "not built yet in this version (planned: P/Invoke to libOpenCL.so.1)"),
        ("cuda", "not built yet in this version (planned: driver API + NVRTC)"),
    ];

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
