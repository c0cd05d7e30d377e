// Rebuilding a pruned network from its file: the zoo builds the full-width architecture, then every Conv2d, Linear
// and BatchNorm2d is resized to the widths its tensors have in the file (only the channel axes may differ; kernels
// stay), and zero-pad shortcuts take the padding recorded in the ModelSpec. LoadStateDict then fills the values.
using Standalone.Models.Nn;

namespace Standalone.Models.Zoo;

public static class PrunedShape
{
    /// <summary>Resizes the layers of a freshly built <paramref name="model"/> to the tensors of a pruned state dict.</summary>
    public static void Fit(Module model, IReadOnlyDictionary<string, Tensor> state, ModelSpec spec, string source)
    {
        foreach (var (name, module) in model.NamedModules())
        {
            switch (module)
            {
                case Nn.Conv2d or Linear or BatchNorm2d:
                    foreach (var (key, parameter) in module.NamedParameters(name))
                    {
                        if (!state.TryGetValue(key, out var stored) || stored.Shape == parameter.Shape) continue;
                        CheckOnlyChannelsDiffer(key, stored.Shape, parameter.Shape, module is BatchNorm2d ? 1 : 2, source);
                        parameter.ReplaceData(Tensor.Zeros(stored.Shape, parameter.DType, parameter.Data.Backend));
                    }
                    if (module is BatchNorm2d bn)
                        foreach (var (buffer, current) in new[] { ("running_mean", bn.RunningMean), ("running_var", bn.RunningVar) })
                            if (state.TryGetValue($"{name}.{buffer}", out var stored) && stored.Rank == 1 && stored.Shape != current.Shape)
                                bn.ReplaceBuffer(buffer, Tensor.Zeros(stored.Shape, DType.Float32, bn.Weight.Data.Backend));
                    break;
                case ZeroPadShortcut shortcut when spec.ShortcutPadding != null && spec.ShortcutPadding.TryGetValue(name, out var padding):
                    if (padding.Length != 2)
                        throw new InvalidDataException($"model file {source}: shortcut_padding of '{name}' must be [before, after], got [{string.Join(", ", padding)}]");
                    shortcut.SetPadding(padding[0], padding[1]);
                    break;
            }
        }
    }

    private static void CheckOnlyChannelsDiffer(string key, Shape stored, Shape built, int channelAxes, string source)
    {
        bool fits = stored.Rank == built.Rank;
        for (int axis = channelAxes; fits && axis < built.Rank; axis++) fits = stored[axis] == built[axis];
        if (!fits)
            throw new InvalidDataException($"model file {source}: '{key}' is {stored}, but a pruned layer may differ from the architecture's {built} only in its channel counts");
    }
}
