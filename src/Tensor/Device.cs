// A compute device: the kind of backend and its index ("cpu", "opencl:0", "cuda:1").
namespace Standalone;

public enum DeviceKind { Cpu, OpenCl, Cuda }

public readonly record struct Device(DeviceKind Kind, int Index = 0)
{
    public static readonly Device Cpu = new(DeviceKind.Cpu);

    public override string ToString() => Kind switch
    {
        DeviceKind.Cpu => "cpu",
        DeviceKind.OpenCl => $"opencl:{Index}",
        _ => $"cuda:{Index}",
    };

    /// <summary>Parses "cpu", "opencl", "opencl:1", "cuda", "cuda:0".</summary>
    public static Device Parse(string text)
    {
        var parts = text.Trim().ToLowerInvariant().Split(':');
        DeviceKind kind = parts[0] switch
        {
            "cpu" => DeviceKind.Cpu,
            "opencl" or "ocl" => DeviceKind.OpenCl,
            "cuda" => DeviceKind.Cuda,
            _ => throw new ArgumentException($"unknown device '{text}' (expected cpu, opencl[:N] or cuda[:N])"),
        };
        int index = 0;
        if (parts.Length > 2 || (parts.Length == 2 && (!int.TryParse(parts[1], out index) || index < 0)))
            throw new ArgumentException($"unknown device '{text}' (expected cpu, opencl[:N] or cuda[:N])");
        return new Device(kind, index);
    }
}
