// The zoo by name: builds a network from a ModelSpec (what checkpoints record), and lists what exists.
using Standalone.Models.Nn;

namespace Standalone.Models.Zoo;

public static class ModelZoo
{
    private static readonly int[] CifarDepths = [20, 32, 44, 56, 110];

    /// <summary>Every architecture name the zoo builds.</summary>
    public static IReadOnlyList<string> Names { get; } = CifarDepths.Select(d => $"resnet{d}").ToArray();

    public static bool IsCifarResNet(string name) =>
        name.StartsWith("resnet", StringComparison.Ordinal) && int.TryParse(name.AsSpan(6), out int d) && CifarDepths.Contains(d);

    /// <summary>A freshly initialised network (seeded) of the given description.</summary>
    public static Module Create(ModelSpec spec, ulong seed = 0)
    {
        if (spec.InChannels <= 0) throw new ArgumentException($"model {spec.Architecture}: input channels must be positive, got {spec.InChannels}");
        if (spec.NumClasses <= 0) throw new ArgumentException($"model {spec.Architecture}: the number of classes must be positive, got {spec.NumClasses}");
        if (IsCifarResNet(spec.Architecture))
        {
            if (spec.Shortcut != "B")
                throw new ArgumentException($"model {spec.Architecture}: shortcut '{spec.Shortcut}' is not built (expected B)");
            return new ResNetCifar(int.Parse(spec.Architecture.AsSpan(6)), spec.NumClasses, spec.InChannels, seed);
        }
        throw new ArgumentException($"unknown model '{spec.Architecture}' (expected one of {string.Join(", ", Names)})");
    }
}
