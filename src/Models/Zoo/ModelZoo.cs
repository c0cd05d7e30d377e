// The zoo by name: builds a network from a ModelSpec (what checkpoints record), and lists what exists.
// Which spec fields apply: InChannels and NumClasses everywhere; Shortcut ("A" or "B") only for the CIFAR ResNets;
// Head ("cifar" or "imagenet") and WidthMultiplier only for VGG. A field that does not apply must keep its default
// (Shortcut "B", Head "cifar", WidthMultiplier 1) — anything else is rejected rather than silently ignored, so a
// checkpoint's description always says what was built. (torchvision's ImageNet ResNets always project: shortcut B.)
using Standalone.Models.Nn;

namespace Standalone.Models.Zoo;

public static class ModelZoo
{
    private static readonly int[] CifarDepths = [20, 32, 44, 56, 110];

    /// <summary>Every architecture name the zoo builds.</summary>
    public static IReadOnlyList<string> Names { get; } =
    [
        .. CifarDepths.Select(d => $"resnet{d}"),
        .. ResNetImageNet.Depths.Select(d => $"resnet{d}"),
        .. Vgg.Depths.Select(d => $"vgg{d}"),
    ];

    public static bool IsCifarResNet(string name) => DepthOf(name, "resnet") is int d && CifarDepths.Contains(d);

    public static bool IsImageNetResNet(string name) => DepthOf(name, "resnet") is int d && ResNetImageNet.Depths.Contains(d);

    public static bool IsVgg(string name) => DepthOf(name, "vgg") is int d && Vgg.Depths.Contains(d);

    /// <summary>Bounds of a description: the most input channels and classes, the widest VGG width multiplier.</summary>
    public const int MaxInChannels = 1024, MaxClasses = 100_000;
    public const double MaxWidthMultiplier = 4;

    /// <summary>A freshly initialised network (seeded) of the given description.</summary>
    public static Module Create(ModelSpec spec, ulong seed = 0)
    {
        string name = spec.Architecture;
        if (spec.InChannels is <= 0 or > MaxInChannels) throw new ArgumentException($"model {name}: input channels must be 1 to {MaxInChannels}, got {spec.InChannels}");
        if (spec.NumClasses is <= 0 or > MaxClasses) throw new ArgumentException($"model {name}: the number of classes must be 1 to {MaxClasses:N0}, got {spec.NumClasses}");
        if (!(spec.WidthMultiplier > 0 && spec.WidthMultiplier <= MaxWidthMultiplier))
            throw new ArgumentException($"model {name}: the width multiplier must be in (0, {MaxWidthMultiplier}], got {spec.WidthMultiplier}");
        if (IsVgg(name))
        {
            RequireDefault(spec.Shortcut != "B", name, $"shortcut '{spec.Shortcut}'", "residual shortcuts apply to ResNets only");
            var head = spec.Head switch
            {
                "cifar" => VggHead.Cifar,
                "imagenet" => VggHead.ImageNet,
                _ => throw new ArgumentException($"model {name}: head '{spec.Head}' is not built (expected cifar or imagenet)"),
            };
            return new Vgg(DepthOf(name, "vgg")!.Value, spec.NumClasses, spec.InChannels, head, spec.WidthMultiplier, seed);
        }
        if (!IsCifarResNet(name) && !IsImageNetResNet(name))
            throw new ArgumentException($"unknown model '{name}' (expected one of {string.Join(", ", Names)})");
        RequireDefault(spec.Head != "cifar", name, $"head '{spec.Head}'", "heads apply to VGG only");
        RequireDefault(spec.WidthMultiplier != 1.0, name, $"width multiplier {spec.WidthMultiplier}", "width multipliers apply to VGG only");
        int depth = DepthOf(name, "resnet")!.Value;
        if (IsImageNetResNet(name))
        {
            RequireDefault(spec.Shortcut != "B", name, $"shortcut '{spec.Shortcut}'", "torchvision's ImageNet ResNets always project (B)");
            return new ResNetImageNet(depth, spec.NumClasses, spec.InChannels, seed);
        }
        var shortcut = spec.Shortcut switch
        {
            "A" => ShortcutKind.ZeroPad,
            "B" => ShortcutKind.Projection,
            _ => throw new ArgumentException($"model {name}: shortcut '{spec.Shortcut}' is not built (expected A or B)"),
        };
        return new ResNetCifar(depth, spec.NumClasses, spec.InChannels, seed, shortcut);
    }

    private static void RequireDefault(bool changed, string name, string what, string why)
    {
        if (changed) throw new ArgumentException($"model {name}: {what} does not apply ({why}); leave it at its default");
    }

    /// <summary>The number after the prefix ("resnet56" → 56), or null.</summary>
    private static int? DepthOf(string name, string prefix) =>
        name.StartsWith(prefix, StringComparison.Ordinal) && int.TryParse(name.AsSpan(prefix.Length), System.Globalization.NumberStyles.None, null, out int d) ? d : null;
}
