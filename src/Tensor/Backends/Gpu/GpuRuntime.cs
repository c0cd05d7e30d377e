// Finds the accelerators ILGPU can drive, once, on first use: CUDA devices (through the NVIDIA driver, libcuda; ILGPU
// generates the PTX, so no toolkit is needed), OpenCL devices (every one found is listed; those without OpenCL 2.0, or
// 3.0 with the generic address space, which ILGPU's OpenCL backend needs, are listed with the reason and cannot be
// opened), and ILGPU's CPU accelerator, the kernel simulator ("sim"), which runs the GPU kernels on the host's cores.
// A machine without a driver or an OpenCL loader simply has no such devices; Unavailable says why.
using ILGPU;
using ILGPU.Backends.OpenCL;
using ILGPU.Runtime;
using ILGPU.Runtime.CPU;
using ILGPU.Runtime.Cuda;
using ILGPU.Runtime.OpenCL;

namespace Standalone.Backends.Gpu;

/// <summary>One accelerator as found: its selector, name, facts for `standalone devices`, and why it cannot be used (or null).</summary>
public sealed record GpuDeviceInfo(Device Device, string Name, IReadOnlyList<(string Label, string Value)> Facts, string? Unusable);

public static class GpuRuntime
{
    /// <summary>
    /// The simulator's work groups: up to 4 warps of 4 work items. ILGPU's CPU accelerator runs every work item of a group
    /// as a thread, and each launch wakes them all (about 20 µs a thread here): 16 keep barriers and multi-warp trees in
    /// play at a launch cost of about 0.6 ms, where 32 cost twice that.
    /// </summary>
    private const int SimulatorWarp = 4, SimulatorWarps = 4;

    private static readonly Lazy<Found> State = new(Discover);
    private static readonly Dictionary<Device, GpuBackend> Backends = new();

    private sealed record Found(Context? Context, IReadOnlyList<(GpuDeviceInfo Info, ILGPU.Runtime.Device? Device)> Devices, string? CudaMissing,
        string? OpenClMissing, string? StartFailure = null);

    /// <summary>Every CUDA and OpenCL device found (usable or not), in selector order.</summary>
    public static IReadOnlyList<GpuDeviceInfo> Devices => [.. State.Value.Devices.Select(d => d.Info).Where(d => d.Device.Kind != DeviceKind.Simulator)];

    /// <summary>The kernel simulator (ILGPU's CPU accelerator), or null where ILGPU cannot start (a NativeAOT build).</summary>
    public static GpuDeviceInfo? Simulator => State.Value.Devices.FirstOrDefault(d => d.Info.Device.Kind == DeviceKind.Simulator).Info;

    /// <summary>Why ILGPU could not start here, or null when it did.</summary>
    public static string? Unavailable => State.Value.StartFailure;

    /// <summary>Why there is no CUDA device here, or null when there is one.</summary>
    public static string? CudaUnavailable => State.Value.CudaMissing;

    /// <summary>Why there is no usable OpenCL device here, or null when there is one.</summary>
    public static string? OpenClUnavailable => State.Value.OpenClMissing;

    /// <summary>
    /// The backend of a device, created once and shared. An OpenCL device chosen without an index is the first usable
    /// GPU, else the first usable device. Missing or unusable devices throw with what this machine has.
    /// </summary>
    public static GpuBackend Backend(DeviceKind kind, int? index)
    {
        var found = State.Value;
        var candidates = found.Devices.Where(d => d.Info.Device.Kind == kind).ToList();
        string label = kind switch { DeviceKind.Cuda => "CUDA", DeviceKind.OpenCl => "OpenCL", _ => "the simulator" };
        if (candidates.Count == 0)
        {
            string why = kind == DeviceKind.OpenCl ? found.OpenClMissing ?? "none found" : found.CudaMissing ?? "none found";
            throw new InvalidOperationException($"{label}: no device available ({why}); use --device cpu" + (kind == DeviceKind.Cuda ? " or opencl" : " or cuda"));
        }
        (GpuDeviceInfo Info, ILGPU.Runtime.Device? Device) chosen;
        if (index is { } i)
        {
            if (i < 0 || i >= candidates.Count)
                throw new ArgumentException($"{label}: there is no device {new Device(kind, i)}; this machine has {candidates.Count}: " +
                    string.Join(", ", candidates.Select(d => $"{d.Info.Device} ({d.Info.Name})")));
            chosen = candidates[i];
        }
        else
        {
            var usable = candidates.Where(d => d.Info.Unusable == null).ToList();
            if (usable.Count == 0) chosen = candidates[0];
            else chosen = usable.FirstOrDefault(d => d.Device is CLDevice { DeviceType: CLDeviceType.CL_DEVICE_TYPE_GPU }, usable[0]);
        }
        if (chosen.Info.Unusable is { } unusable)
            throw new NotSupportedException($"{chosen.Info.Device} ({chosen.Info.Name}) cannot be used: {unusable}");
        lock (Backends)
        {
            if (Backends.TryGetValue(chosen.Info.Device, out var backend)) return backend;
            var accelerator = chosen.Device!.CreateAccelerator(found.Context!);
            return Backends[chosen.Info.Device] = new GpuBackend(chosen.Info.Device, accelerator, LimitsOf(accelerator, chosen.Device));
        }
    }

    private static GpuLimits LimitsOf(Accelerator a, ILGPU.Runtime.Device device)
    {
        long memory = a.MemorySize;
        if (a.AcceleratorType == AcceleratorType.CPU)
        {
            // The host's memory; shared memory sized like a GPU's, so that the kernels plan as they would there.
            memory = GC.GetGCMemoryInfo().TotalAvailableMemoryBytes / 2;
            return new GpuLimits($"ILGPU CPU accelerator, {a.NumMultiprocessors} × {a.MaxNumThreadsPerGroup} threads", IsGpu: false,
                a.NumMultiprocessors, a.MaxNumThreadsPerGroup, 48 << 10, memory, memory, ElementGroup: 1);
        }
        bool gpu = a.AcceleratorType == AcceleratorType.Cuda || device is CLDevice { DeviceType: CLDeviceType.CL_DEVICE_TYPE_GPU };
        // OpenCL guarantees single buffers of a quarter of the memory; CUDA allows all of it.
        long largest = a.AcceleratorType == AcceleratorType.OpenCL ? memory / 4 : memory;
        return new GpuLimits(a.Name, gpu, a.NumMultiprocessors, a.MaxNumThreadsPerGroup, a.MaxSharedMemoryPerGroup, largest, memory,
            a.MaxGridSize.X, a.MaxGridSize.Y, a.MaxGridSize.Z);
    }

    /// <summary>
    /// ILGPU imports the drivers as "cuda" and "OpenCL", which .NET looks for as libcuda.so and libOpenCL.so — names
    /// that only development packages install. Drivers install the versioned names (libcuda.so.1, libOpenCL.so.1),
    /// which this resolver tries first.
    /// </summary>
    private static nint ResolveDriver(string name, System.Reflection.Assembly assembly, System.Runtime.InteropServices.DllImportSearchPath? path)
    {
        string? versioned = name switch { "cuda" => "libcuda.so.1", "OpenCL" => "libOpenCL.so.1", _ => null };
        return versioned != null && OperatingSystem.IsLinux() && System.Runtime.InteropServices.NativeLibrary.TryLoad(versioned, out var handle) ? handle : 0;
    }

    private static Found Discover()
    {
        try { System.Runtime.InteropServices.NativeLibrary.SetDllImportResolver(typeof(Context).Assembly, ResolveDriver); }
        catch (InvalidOperationException) { } // a resolver is already set (by the host application): keep it
        Context context;
        try
        {
            var simulator = new CPUDevice(SimulatorWarp, SimulatorWarps, Math.Max(1, Environment.ProcessorCount));
            context = Context.Create(builder => builder.CPU(simulator).Cuda().OpenCL(_ => true).EnableAlgorithms()
                .Optimize(OptimizationLevel.O1).Inlining(InliningMode.Aggressive));
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            string why = $"ILGPU could not start: {e.Message}" + (e.GetBaseException() is { } inner && inner != e ? $" ({inner.Message})" : "");
            return new Found(null, [], why, why, why);
        }
        var devices = new List<(GpuDeviceInfo, ILGPU.Runtime.Device?)>();
        int cuda = 0, opencl = 0;
        foreach (var device in context.Devices)
        {
            switch (device)
            {
                case CPUDevice cpu:
                    devices.Add((new GpuDeviceInfo(new Device(DeviceKind.Simulator), "ILGPU CPU accelerator (kernel simulator)",
                    [
                        ("threads", $"{cpu.NumMultiprocessors} groups at a time, up to {cpu.MaxNumThreadsPerGroup} work items each (warps of {cpu.WarpSize})"),
                        ("use", "runs the GPU kernels on the host, thousands of times slower than a GPU: for checking kernels, not for training"),
                    ], null), cpu));
                    break;
                case CudaDevice c:
                    devices.Add((new GpuDeviceInfo(new Device(DeviceKind.Cuda, cuda++), c.Name,
                    [
                        ("architecture", c.Architecture is { } arch ? $"{arch} (PTX {c.InstructionSet})" : "unknown to ILGPU 1.5.3"),
                        ("multiprocessors", $"{c.NumMultiprocessors} at {c.ClockRate / 1000} MHz"),
                        ("memory", $"{c.MemorySize / (1024.0 * 1024 * 1024):F2} GiB; {c.MaxSharedMemoryPerGroup / 1024} KiB shared per group, up to {c.MaxNumThreadsPerGroup} threads"),
                        ("driver", $"CUDA {c.DriverVersion}"),
                        ("cuBLAS", Vendor.CuBlas.Available ? $"{Vendor.CuBlas.Version} ({Vendor.CuBlas.LibraryPath})" : $"not used: {Vendor.CuBlas.Unavailable}"),
                    ], c.Architecture == null ? "ILGPU 1.5.3 does not know this GPU's architecture" : null), c));
                    break;
                case CLDevice cl:
                    string? unusable = cl.CVersion < CLBackend.MinimumVersion
                        ? $"it offers OpenCL C {Plain(cl.CVersion)} only; ILGPU needs OpenCL C {Plain(CLBackend.MinimumVersion)}, or 3.0 with the generic address space"
                        : !cl.Capabilities.GenericAddressSpace
                            ? $"it offers OpenCL C {Plain(cl.CVersion)} without the generic address space, which ILGPU needs"
                            : null;
                    devices.Add((new GpuDeviceInfo(new Device(DeviceKind.OpenCl, opencl++), cl.Name,
                    [
                        ("platform", $"{cl.PlatformName} ({cl.PlatformVersion})"),
                        ("type", cl.DeviceType == CLDeviceType.CL_DEVICE_TYPE_GPU ? "GPU" : "CPU or accelerator"),
                        ("OpenCL", $"device {cl.DeviceVersion}, OpenCL C {Plain(cl.CVersion)}"),
                        ("compute units", $"{cl.NumMultiprocessors} at {cl.ClockRate} MHz"),
                        ("memory", $"{cl.MemorySize / (1024.0 * 1024 * 1024):F2} GiB; {cl.MaxSharedMemoryPerGroup / 1024} KiB local, work groups up to {cl.MaxNumThreadsPerGroup}"),
                        ("usable", unusable == null ? "yes" : $"no: {unusable}"),
                    ], unusable), cl));
                    break;
            }
        }
        string? cudaMissing = cuda > 0 ? null : CudaMissing();
        string? openClMissing = devices.Any(d => d.Item1.Device.Kind == DeviceKind.OpenCl && d.Item1.Unusable == null) ? null
            : opencl > 0 ? "no OpenCL device here has OpenCL 2.0, or 3.0 with the generic address space, which ILGPU needs"
            : "no OpenCL platform or device found (is an OpenCL driver installed?)";
        return new Found(context, devices, cudaMissing, openClMissing);
    }

    /// <summary>"1.2" for ILGPU's "CL1.2".</summary>
    private static string Plain(CLCVersion version) => version.ToString().Replace("CL", "", StringComparison.Ordinal);

    private static string CudaMissing() =>
        System.Runtime.InteropServices.NativeLibrary.TryLoad("libcuda.so.1", out var handle) && Free(handle)
            ? "the NVIDIA driver found no usable GPU"
            : "libcuda.so.1 not found (no NVIDIA driver)";

    private static bool Free(nint handle)
    {
        System.Runtime.InteropServices.NativeLibrary.Free(handle);
        return true;
    }
}
