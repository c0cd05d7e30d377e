// Networks with the shapes structured pruning leaves behind, built by cutting a fresh zoo model in place (there is
// no pruner yet to make them): fewer channels inside every residual block, zero-pad shortcuts that pad unevenly.
using Standalone.Autograd;
using Standalone.Models.Nn;
using Standalone.Models.Zoo;

namespace Standalone.Tests.Support;

internal static class PrunedModels
{
    /// <summary>The zero channels [before, after] of the two shortcut-A transitions (16 → 32 and 32 → 64 channels).</summary>
    public static readonly Dictionary<string, int[]> ShortcutPadding = new()
    {
        ["layer2.0.shortcut"] = [6, 10],
        ["layer3.0.shortcut"] = [12, 20],
    };

    /// <summary>The description of <see cref="CutResNet20A"/>'s result, as a pruned model file records it.</summary>
    public static ModelSpec ResNet20ASpec => new() { Architecture = "resnet20", InChannels = 1, Shortcut = "A", Pruned = true, ShortcutPadding = ShortcutPadding };

    /// <summary>
    /// A 1-channel shortcut-A ResNet-20 whose blocks keep only their odd inner channels (conv1's outputs, bn1, conv2's
    /// inputs: 16/32/64 → 8/16/32) and whose shortcuts pad by <see cref="ShortcutPadding"/>.
    /// </summary>
    public static ResNetCifar CutResNet20A(ulong seed = 0)
    {
        var model = (ResNetCifar)ModelZoo.Create(ResNet20ASpec with { Pruned = false, ShortcutPadding = null }, seed);
        foreach (var (name, module) in model.NamedModules())
        {
            if (module is ZeroPadShortcut shortcut) shortcut.SetPadding(ShortcutPadding[name][0], ShortcutPadding[name][1]);
            if (module is not BasicBlock block) continue;
            int kept = block.Conv1.OutChannels / 2;
            KeepOdd(block.Conv1.Weight, 0, kept);
            KeepOdd(block.Bn1.Weight, 0, kept);
            KeepOdd(block.Bn1.Bias, 0, kept);
            block.Bn1.ReplaceBuffer("running_mean", OddChannels(block.Bn1.RunningMean, 0, kept));
            block.Bn1.ReplaceBuffer("running_var", OddChannels(block.Bn1.RunningVar, 0, kept));
            KeepOdd(block.Conv2.Weight, 1, kept);
        }
        return model;
    }

    private static void KeepOdd(Variable parameter, int axis, int kept) => parameter.ReplaceData(OddChannels(parameter.Data, axis, kept));

    private static Tensor OddChannels(Tensor t, int axis, int kept)
    {
        using var view = t.Slice(axis, 1, kept, 2);
        return view.Clone();
    }
}
