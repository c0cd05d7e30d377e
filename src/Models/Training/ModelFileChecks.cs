// What a model file's description may ask for, checked against its tensors before the network is built: the
// network's size follows from the description, so a few bytes of metadata must not demand gigabytes (a file's
// tensors are bounded by its length; the description is compared with them). And its numbers must be numbers:
// NaN or infinite weights and negative batch-norm variances are refused unless the caller allows them.
using Standalone.Models.Data;
using Standalone.Models.Zoo;

namespace Standalone.Models.Training;

public static class ModelFileChecks
{
    private const int MaxInChannels = ModelZoo.MaxInChannels, MaxClasses = ModelZoo.MaxClasses;
    private const double MaxWidthMultiplier = ModelZoo.MaxWidthMultiplier;
    /// <summary>The largest image side a data description may give (the input the model sees).</summary>
    public const int MaxImageSide = 4096;

    /// <summary>Throws InvalidDataException unless the description is in range and agrees with the file's tensors.</summary>
    public static void CheckSpec(ModelSpec spec, IReadOnlyList<(string Name, Tensor Value)> weights, string path)
    {
        void Require(bool ok, string problem) { if (!ok) throw new InvalidDataException($"model file {path}: {problem}"); }
        Require(spec.Architecture != null, "the description names no architecture");
        Require(spec.InChannels is > 0 and <= MaxInChannels, $"the description gives {spec.InChannels} input channels (expected 1 to {MaxInChannels})");
        Require(spec.NumClasses is > 0 and <= MaxClasses, $"the description gives {spec.NumClasses} classes (expected 1 to {MaxClasses:N0})");
        Require(double.IsFinite(spec.WidthMultiplier) && spec.WidthMultiplier > 0 && spec.WidthMultiplier <= MaxWidthMultiplier,
            $"the description gives the width multiplier {spec.WidthMultiplier} (expected a number in (0, {MaxWidthMultiplier}])");
        var (firstName, firstConv) = weights.FirstOrDefault(t => t.Value.Rank == 4);
        var (lastName, lastLinear) = weights.LastOrDefault(t => t.Value.Rank == 2);
        Require(firstConv is { Numel: > 0 }, "no convolution weight (a non-empty 4-d tensor) is stored");
        Require(lastLinear is { Numel: > 0 }, "no classifier weight (a non-empty 2-d tensor) is stored");
        Require(firstConv!.Shape[1] == spec.InChannels,
            $"the description gives {spec.InChannels} input channels, but the first convolution '{firstName}' is {firstConv.Shape}");
        Require(lastLinear!.Shape[0] == spec.NumClasses,
            $"the description gives {spec.NumClasses} classes, but the classifier '{lastName}' is {lastLinear.Shape}");
        if (ModelZoo.IsVgg(spec.Architecture!))
        {
            int width = Vgg.Scale(64, spec.WidthMultiplier);
            Require(spec.Pruned ? firstConv.Shape[0] <= width : firstConv.Shape[0] == width,
                $"the width multiplier {spec.WidthMultiplier} makes the first convolution {width} channels wide, but '{firstName}' is {firstConv.Shape}");
        }
        foreach (var (name, padding) in spec.ShortcutPadding ?? [])
            Require(padding is { Length: 2 } && padding[0] >= 0 && padding[1] >= 0 && padding[0] <= MaxInChannels * 4 && padding[1] <= MaxInChannels * 4,
                $"shortcut_padding of '{name}' must be [before, after] of non-negative channel counts, got [{string.Join(", ", padding ?? [])}]");
    }

    /// <summary>Throws InvalidDataException naming the first tensor that holds NaN or an infinity, or a negative batch-norm variance.</summary>
    public static void CheckFinite(IReadOnlyList<(string Name, Tensor Value)> weights, string path)
    {
        foreach (var (name, tensor) in weights)
        {
            if (!tensor.DType.IsFloat() || tensor.Numel == 0) continue;
            bool variance = name.EndsWith(".running_var", StringComparison.Ordinal);
            var (at, value) = tensor.DType == DType.Float64 ? FirstBad(tensor.ToArray<double>(), variance) : FirstBad(tensor.ToArray<float>(), variance);
            if (at >= 0)
                throw new InvalidDataException($"model file {path}: '{name}' holds {(double.IsFinite(value) ? $"the negative variance {value}" : value)} at element {at} " +
                    "(weights must be finite and variances non-negative; eval, info, explain and export load it anyway with --allow-non-finite)");
        }
    }

    /// <summary>The first element that is not finite (or, for a variance, negative) and its value; (-1, 0) when there is none.</summary>
    private static (int At, double Value) FirstBad<T>(T[] values, bool variance) where T : System.Numerics.IFloatingPointIeee754<T>
    {
        for (int i = 0; i < values.Length; i++)
            if (!T.IsFinite(values[i]) || variance && T.IsNegative(values[i])) return (i, double.CreateChecked(values[i]));
        return (-1, 0);
    }

    /// <summary>Throws InvalidDataException unless a data description is in range and fits the model's description.</summary>
    public static void Check(this DataInfo data, ModelSpec spec, string path)
    {
        void Require(bool ok, string problem) { if (!ok) throw new InvalidDataException($"model file {path}: the data description {problem}"); }
        Require(data.Input is { Length: 3 } && data.Input.All(v => v > 0) && data.Input[1] <= MaxImageSide && data.Input[2] <= MaxImageSide,
            $"gives the input [{string.Join(", ", data.Input ?? [])}] (expected C, H, W with sides from 1 to {MaxImageSide})");
        Require(data.Input![0] == spec.InChannels, $"gives {data.Input[0]} input channels, the model takes {spec.InChannels}");
        Require(data.Mean is { } mean && mean.Length == spec.InChannels && mean.All(float.IsFinite),
            $"must give one finite mean per input channel ({spec.InChannels}), got [{string.Join(", ", data.Mean ?? [])}]");
        Require(data.Std is { } std && std.Length == spec.InChannels && std.All(s => float.IsFinite(s) && s > 0),
            $"must give one positive, finite standard deviation per input channel ({spec.InChannels}), got [{string.Join(", ", data.Std ?? [])}]");
        Require(data.PadTo is >= 0 and <= MaxImageSide, $"gives pad_to {data.PadTo} (expected 0 to {MaxImageSide})");
        Require(data.Classes is { } classes && classes.Length == spec.NumClasses && classes.All(c => c != null),
            $"names {data.Classes?.Length ?? 0} classes, the model has {spec.NumClasses}");
        Require(!string.IsNullOrEmpty(data.Dataset), "names no data set");
    }
}
