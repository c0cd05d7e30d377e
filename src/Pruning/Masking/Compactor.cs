// Physical removal of pruned channels: every Conv2d/Linear keeps the rows (output channels) and columns (input
// channels or features) of live groups, every BatchNorm2d its live channels and statistics, every zero-pad shortcut
// the live part of its padding. Parameters keep their identity (Variable.ReplaceData), so an optimizer's per-
// parameter state is cut along with them, as are accumulated gradients. The result is an ordinary, smaller model
// whose outputs equal the masked model's; the old dependency graph no longer describes it (trace a new one).
using Standalone.Autograd;
using Standalone.Autograd.Optim;
using Standalone.Models.Nn;
using Standalone.Models.Zoo;
using Standalone.Pruning.Graph;

namespace Standalone.Pruning.Masking;

public static class Compactor
{
    /// <summary>
    /// Cuts the masked channels out of the graph's model in place. Returns the [before, after] padding of each
    /// zero-pad shortcut by module name (for <see cref="ModelSpec.ShortcutPadding"/>; empty without such shortcuts).
    /// </summary>
    public static Dictionary<string, int[]> Compact(ChannelMask mask, Optimizer? optimizer = null)
    {
        var graph = mask.Graph;
        using var noGrad = Grad.Disabled();
        foreach (var site in graph.Layers)
        {
            var keepOut = Kept(site.OutputGroups, mask);
            var keepIn = site.ConvGroups == 1 ? Kept(site.InputGroups, mask) : null;
            var (weight, bias) = site.Layer switch
            {
                Conv2d c => (c.Weight, c.Bias),
                Linear l => (l.Weight, l.Bias),
                _ => throw new InvalidOperationException($"compaction: unexpected layer {site.Layer.GetType().Name}"),
            };
            Cut(weight, 0, keepOut, optimizer);
            Cut(weight, 1, keepIn, optimizer);
            if (bias != null) Cut(bias, 0, keepOut, optimizer);
        }
        foreach (var norm in graph.Norms)
        {
            var keep = Kept(norm.Groups, mask);
            if (keep == null) continue;
            Cut(norm.Norm.Weight, 0, keep, optimizer);
            Cut(norm.Norm.Bias, 0, keep, optimizer);
            foreach (string buffer in new[] { "running_mean", "running_var" })
            {
                var current = buffer == "running_mean" ? norm.Norm.RunningMean : norm.Norm.RunningVar;
                norm.Norm.ReplaceBuffer(buffer, Select(current, 0, keep));
            }
        }
        var padding = new Dictionary<string, int[]>();
        foreach (var shortcut in graph.Shortcuts)
        {
            var s = shortcut.Shortcut;
            int before = shortcut.OutputGroups.Take(s.PadBefore).Count(mask.Alive);
            int middle = shortcut.InputGroups.Count(mask.Alive);
            int after = shortcut.OutputGroups.Skip(s.PadBefore + shortcut.InputGroups.Length).Count(mask.Alive);
            if (before + middle + after != shortcut.OutputGroups.Count(mask.Alive))
                throw new InvalidOperationException($"compaction: zero-pad shortcut '{shortcut.Name}' would not line up with the channels around it");
            s.SetPadding(before, after);
            padding[shortcut.Name] = [before, after];
        }
        return padding;
    }

    /// <summary>The live channel indices, or null when every channel is alive.</summary>
    private static long[]? Kept(int[] groups, ChannelMask mask)
    {
        if (groups.All(mask.Alive)) return null;
        return Enumerable.Range(0, groups.Length).Where(c => mask.Alive(groups[c])).Select(c => (long)c).ToArray();
    }

    private static void Cut(Variable parameter, int axis, long[]? keep, Optimizer? optimizer)
    {
        if (keep == null) return;
        var states = optimizer?.StateOf(parameter).Select(s => (s.Key, Value: Select(s.Value, axis, keep))).ToList();
        var grad = parameter.Grad is { IsDisposed: false } g ? Select(g, axis, keep) : null;
        parameter.ReplaceData(Select(parameter.Data, axis, keep));
        parameter.Grad?.Dispose();
        parameter.Grad = grad;
        if (states != null) foreach (var (name, value) in states) optimizer!.SetState(parameter, name, value);
    }

    private static Tensor Select(Tensor t, int axis, long[] keep)
    {
        using var suspended = TensorScope.Suspend();
        using var index = Tensor.FromArray<long>(keep, new Shape(keep.Length), t.Backend);
        return t.IndexSelect(axis, index);
    }
}
