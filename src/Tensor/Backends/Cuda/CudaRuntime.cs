// Finds the CUDA devices of this machine, once, on first use. Loading is lazy: the driver library (libcuda.so.1,
// installed with the NVIDIA driver) is looked for only when something asks, and a machine without it — or whose
// driver finds no GPU (cuInit: CUDA_ERROR_NO_DEVICE) — simply has no CUDA devices; Unavailable says why. Devices are
// numbered as the driver orders them ("cuda:0", "cuda:1", ...; CUDA_VISIBLE_DEVICES applies).
using System.Runtime.InteropServices;
using Standalone.Backends.Cuda.Native;

namespace Standalone.Backends.Cuda;

/// <summary>One CUDA device as found: its driver handle (CUdevice) and the facts `standalone devices` shows.</summary>
public sealed record CudaDeviceInfo(
    int Index, int Handle, string Name, ulong TotalMemory, int ComputeCapabilityMajor, int ComputeCapabilityMinor,
    int Multiprocessors, int ClockMHz, int MaxThreadsPerBlock, int MaxSharedMemoryPerBlock, int MaxGridY, int MaxGridZ,
    int DriverVersion)
{
    /// <summary>Labelled facts for `standalone devices`.</summary>
    public IReadOnlyList<(string Label, string Value)> Facts =>
    [
        ("compute capability", $"{ComputeCapabilityMajor}.{ComputeCapabilityMinor}"),
        ("multiprocessors", ClockMHz > 0 ? $"{Multiprocessors} at {ClockMHz} MHz" : $"{Multiprocessors}"),
        ("memory", $"{TotalMemory / (1024.0 * 1024 * 1024):F2} GiB; {MaxSharedMemoryPerBlock / 1024} KiB shared per block, up to {MaxThreadsPerBlock} threads"),
        ("driver", $"CUDA {DriverVersion / 1000}.{DriverVersion % 1000 / 10}"),
        ("NVRTC", Nvrtc.Available ? $"{Nvrtc.Version.Major}.{Nvrtc.Version.Minor} ({Nvrtc.LibraryPath})" : $"unavailable: {Nvrtc.Unavailable}"),
    ];
}

public static unsafe class CudaRuntime
{
    private static readonly Lazy<(IReadOnlyList<CudaDeviceInfo> Devices, string? Unavailable)> Found = new(Discover);

    /// <summary>Every CUDA device, in the driver's order (empty when there is no driver or no GPU).</summary>
    public static IReadOnlyList<CudaDeviceInfo> Devices => Found.Value.Devices;

    /// <summary>Why there are no devices (no driver, no GPU, an error), or null when some were found.</summary>
    public static string? Unavailable => Found.Value.Unavailable;

    private static readonly Dictionary<int, CudaBackend> Backends = new();

    /// <summary>The backend of device <paramref name="index"/> (cuda:0 when null); created once per device and shared.</summary>
    public static CudaBackend Backend(int? index = null)
    {
        var devices = Devices;
        if (devices.Count == 0)
            throw new InvalidOperationException($"CUDA: no device available ({Unavailable}). CUDA needs an NVIDIA GPU and its driver; use --device cpu or opencl");
        int chosen = index ?? 0;
        if (chosen < 0 || chosen >= devices.Count)
            throw new ArgumentException($"CUDA: there is no device cuda:{chosen}; this machine has {devices.Count}: " +
                string.Join(", ", devices.Select(d => $"cuda:{d.Index} ({d.Name})")));
        if (!Nvrtc.Available)
            throw new InvalidOperationException($"CUDA: NVRTC, which compiles the kernels, is not available ({Nvrtc.Unavailable}); install the CUDA runtime compiler (libnvrtc) or use --device cpu or opencl");
        lock (Backends)
        {
            if (!Backends.TryGetValue(chosen, out var backend)) Backends[chosen] = backend = new CudaBackend(devices[chosen]);
            return backend;
        }
    }

    private static (IReadOnlyList<CudaDeviceInfo>, string?) Discover()
    {
        if (!NativeLibrary.TryLoad(CudaDriver.Library, typeof(CudaRuntime).Assembly, null, out _))
            return ([], $"{CudaDriver.Library} not found (no NVIDIA driver)");
        try
        {
            int status = CudaDriver.cuInit(0);
            if (status != 0) return ([], $"the NVIDIA driver could not start: cuInit returned {CudaException.StatusName(status)} ({status})");
            int driverVersion, count;
            CudaDriver.Check(CudaDriver.cuDriverGetVersion(&driverVersion), "cuDriverGetVersion");
            CudaDriver.Check(CudaDriver.cuDeviceGetCount(&count), "cuDeviceGetCount");
            if (count == 0) return ([], "the NVIDIA driver lists no device");
            var devices = new List<CudaDeviceInfo>();
            for (int i = 0; i < count; i++)
            {
                int handle = Device(i);
                int Attribute(int attribute) => CudaDriver.Attribute(handle, attribute);
                devices.Add(new CudaDeviceInfo(
                    i, handle, CudaDriver.DeviceName(handle), TotalMemory(handle),
                    Attribute(CudaDriver.AttributeComputeCapabilityMajor), Attribute(CudaDriver.AttributeComputeCapabilityMinor),
                    Attribute(CudaDriver.AttributeMultiprocessorCount), ClockMHz(handle),
                    Attribute(CudaDriver.AttributeMaxThreadsPerBlock), Attribute(CudaDriver.AttributeMaxSharedMemoryPerBlock),
                    Attribute(CudaDriver.AttributeMaxGridDimY), Attribute(CudaDriver.AttributeMaxGridDimZ), driverVersion));
            }
            return (devices, null);
        }
        catch (Exception e) when (e is CudaException or DllNotFoundException or EntryPointNotFoundException)
        {
            return ([], e.Message);
        }
    }

    private static int Device(int ordinal)
    {
        int device;
        CudaDriver.Check(CudaDriver.cuDeviceGet(&device, ordinal), "cuDeviceGet");
        return device;
    }

    private static ulong TotalMemory(int device)
    {
        nuint bytes;
        CudaDriver.Check(CudaDriver.cuDeviceTotalMem_v2(&bytes, device), "cuDeviceTotalMem");
        return bytes;
    }

    /// <summary>The peak clock in MHz, or 0 where the driver no longer reports it (the attribute is in kHz).</summary>
    private static int ClockMHz(int device)
    {
        int kHz;
        return CudaDriver.cuDeviceGetAttribute(&kHz, CudaDriver.AttributeClockRate, device) == 0 ? kHz / 1000 : 0;
    }
}
