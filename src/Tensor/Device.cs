// A compute device: the kind of backend and its index ("cpu", "opencl:0", "cuda:1", "sim": the GPU kernels on ILGPU's
// CPU accelerator).
namespace Standalone;

public enum DeviceKind { Cpu, OpenCl, Cuda, Simulator }

public readonly record struct Device(DeviceKind Kind, int Index = 0)
{
    public static readonly Device Cpu = new(DeviceKind.Cpu);

    public override string ToString() => Kind switch
    {
        DeviceKind.Cpu => "cpu",
        DeviceKind.OpenCl => $"opencl:{Index}",
        DeviceKind.Simulator => "sim",
        _ => $"cuda:{Index}",
    };

    /// <summary>Parses "cpu", "opencl", "opencl:1", "cuda", "cuda:0", "sim".</summary>
    public static Device Parse(string text)
    {
        var parts = text.Trim().ToLowerInvariant().Split(':');
        DeviceKind kind = parts[0] switch
        {
            "cpu" => DeviceKind.Cpu,
            "opencl" or "ocl" => DeviceKind.OpenCl,
            "cuda" => DeviceKind.Cuda,
            "sim" or "simulator" => DeviceKind.Simulator,
            _ => throw new ArgumentException($"unknown device '{text}' (expected cpu, cuda[:N], opencl[:N] or sim)"),
        };
        int index = 0;
        if (parts.Length > 2 || (parts.Length == 2 && (!int.TryParse(parts[1], out index) || index < 0)))
            throw new ArgumentException($"unknown device '{text}' (expected cpu, cuda[:N], opencl[:N] or sim)");
        return new Device(kind, index);
    }
}
