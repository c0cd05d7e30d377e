// Finds the OpenCL devices of this machine, once, on first use. Loading is lazy: the ICD loader (libOpenCL.so.1) is
// looked for only when something asks, and a machine without it (or without any platform behind it) simply has no
// OpenCL devices — Unavailable says why. Devices are numbered across all platforms in the order the loader lists them
// ("opencl:0", "opencl:1", ...); "opencl" alone means the first GPU, else the first device.
using System.Runtime.InteropServices;
using Standalone.Backends.OpenCl.Native;

namespace Standalone.Backends.OpenCl;

/// <summary>One OpenCL device as found: handles and the facts `standalone devices` shows.</summary>
public sealed record OpenClDeviceInfo(
    int Index, nint Platform, nint Handle, string PlatformName, string PlatformVersion, string Name, string Vendor,
    string Version, string DriverVersion, bool IsGpu, uint ComputeUnits, ulong GlobalMemory, ulong MaxAllocation,
    ulong LocalMemory, ulong MaxWorkGroupSize, uint ClockMHz);

public static unsafe class OpenClRuntime
{
    private static readonly Lazy<(IReadOnlyList<OpenClDeviceInfo> Devices, string? Unavailable)> Found = new(Discover);
    private static readonly Dictionary<int, OpenClBackend> Backends = new();

    /// <summary>Every OpenCL device, numbered across platforms (empty when OpenCL is missing).</summary>
    public static IReadOnlyList<OpenClDeviceInfo> Devices => Found.Value.Devices;

    /// <summary>Why there are no devices (no ICD loader, no platform, an error), or null when some were found.</summary>
    public static string? Unavailable => Found.Value.Unavailable;

    /// <summary>
    /// The backend of device <paramref name="index"/>, or of the first GPU (else the first device) when null; created
    /// once per device and shared.
    /// </summary>
    public static OpenClBackend Backend(int? index = null)
    {
        var devices = Devices;
        if (devices.Count == 0)
            throw new InvalidOperationException($"OpenCL: no device available ({Unavailable}). Install an OpenCL driver (on Debian, for the CPU: apt install ocl-icd-libopencl1 pocl-opencl-icd) or use --device cpu");
        int chosen = index ?? (devices.FirstOrDefault(d => d.IsGpu) ?? devices[0]).Index;
        if (chosen < 0 || chosen >= devices.Count)
            throw new ArgumentException($"OpenCL: there is no device opencl:{chosen}; this machine has {devices.Count}: " +
                string.Join(", ", devices.Select(d => $"opencl:{d.Index} ({d.Name})")));
        lock (Backends)
        {
            if (!Backends.TryGetValue(chosen, out var backend)) Backends[chosen] = backend = new OpenClBackend(devices[chosen]);
            return backend;
        }
    }

    private static (IReadOnlyList<OpenClDeviceInfo>, string?) Discover()
    {
        if (!NativeLibrary.TryLoad(Cl.Library, typeof(OpenClRuntime).Assembly, null, out _))
            return ([], $"{Cl.Library} not found");
        try
        {
            uint platformCount;
            int status = Cl.clGetPlatformIDs(0, null, &platformCount);
            if (status == -1001 || platformCount == 0) return ([], "the OpenCL loader found no platform (no ICD installed)");
            Cl.Check(status, "clGetPlatformIDs");
            var platforms = new nint[platformCount];
            fixed (nint* p = platforms) Cl.Check(Cl.clGetPlatformIDs(platformCount, p, null), "clGetPlatformIDs");
            var devices = new List<OpenClDeviceInfo>();
            foreach (var platform in platforms)
            {
                uint deviceCount;
                status = Cl.clGetDeviceIDs(platform, Cl.DeviceTypeAll, 0, null, &deviceCount);
                if (status == -1 || deviceCount == 0) continue; // CL_DEVICE_NOT_FOUND
                Cl.Check(status, "clGetDeviceIDs");
                var handles = new nint[deviceCount];
                fixed (nint* d = handles) Cl.Check(Cl.clGetDeviceIDs(platform, Cl.DeviceTypeAll, deviceCount, d, null), "clGetDeviceIDs");
                string platformName = Cl.PlatformString(platform, Cl.PlatformName), platformVersion = Cl.PlatformString(platform, Cl.PlatformVersion);
                foreach (var handle in handles)
                    devices.Add(new OpenClDeviceInfo(
                        devices.Count, platform, handle, platformName, platformVersion,
                        Cl.DeviceString(handle, Cl.DeviceName), Cl.DeviceString(handle, Cl.DeviceVendor),
                        Cl.DeviceString(handle, Cl.DeviceVersion), Cl.DeviceString(handle, Cl.DriverVersion),
                        (Cl.DeviceValue<ulong>(handle, Cl.DeviceType) & Cl.DeviceTypeGpu) != 0,
                        Cl.DeviceValue<uint>(handle, Cl.DeviceMaxComputeUnits), Cl.DeviceValue<ulong>(handle, Cl.DeviceGlobalMemSize),
                        Cl.DeviceValue<ulong>(handle, Cl.DeviceMaxMemAllocSize), Cl.DeviceValue<ulong>(handle, Cl.DeviceLocalMemSize),
                        Cl.DeviceValue<nuint>(handle, Cl.DeviceMaxWorkGroupSize), Cl.DeviceValue<uint>(handle, Cl.DeviceMaxClockFrequency)));
            }
            return devices.Count == 0 ? ([], "the OpenCL platforms list no device") : (devices, null);
        }
        catch (Exception e) when (e is ClException or DllNotFoundException or EntryPointNotFoundException)
        {
            return ([], e.Message);
        }
    }
}
