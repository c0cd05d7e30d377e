// What a checkpoint needs to rebuild its network: the architecture name and the few choices that change its shape.
// Stored as JSON in the safetensors "__metadata__" under "standalone.model", so eval and info need no model flag.
using Standalone.Models.IO;

namespace Standalone.Models.Zoo;

public sealed record ModelSpec
{
    /// <summary>Zoo name: resnet20/32/44/56/110 (CIFAR), resnet18/34/50 (ImageNet), vgg11/13/16/19 (with BN).</summary>
    public required string Architecture { get; init; }
    public int InChannels { get; init; } = 3;
    public int NumClasses { get; init; } = 10;
    /// <summary>CIFAR ResNets: "A" (parameter-free, zero-padded) or "B" (1×1 conv + BN projection).</summary>
    public string Shortcut { get; init; } = "B";
    /// <summary>VGG: "cifar" (one Linear 512→classes) or "imagenet" (adaptive 7×7 pool, 4096-4096 classifier).</summary>
    public string Head { get; init; } = "cifar";
    /// <summary>VGG: every conv width scaled by this and rounded (at least 1 channel).</summary>
    public double WidthMultiplier { get; init; } = 1.0;
    /// <summary>
    /// A network cut by structured pruning: the architecture gives the layers, the weights give their widths
    /// (<see cref="PrunedShape.Fit"/> resizes the freshly built layers to the file's tensors before loading).
    /// </summary>
    public bool Pruned { get; init; }
    /// <summary>Pruned shortcut-A networks: the zero channels [before, after] each zero-pad shortcut adds, by module name.</summary>
    public Dictionary<string, int[]>? ShortcutPadding { get; init; }

    public string ToJson() => MetadataJson.Write(this);

    public static ModelSpec FromJson(string json, string source) => MetadataJson.Read<ModelSpec>(json, source, "model description");

    public override string ToString() => Architecture switch
    {
        _ when ModelZoo.IsVgg(Architecture) =>
            $"{PrunedPrefix}{Architecture}-bn ({Head} head{(WidthMultiplier == 1 ? "" : $", width ×{WidthMultiplier}")}, {InChannels} in, {NumClasses} classes)",
        _ when ModelZoo.IsCifarResNet(Architecture) => $"{PrunedPrefix}{Architecture} (shortcut {Shortcut}, {InChannels} in, {NumClasses} classes)",
        _ => $"{PrunedPrefix}{Architecture} ({InChannels} in, {NumClasses} classes)",
    };

    private string PrunedPrefix => Pruned ? "pruned " : "";
}
