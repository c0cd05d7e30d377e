// How a residual block's input reaches its output add. Pruning reads this from the structure: an identity shortcut
// ties the block's output channels to its input channels, a zero-pad shortcut maps input channel c to output channel
// c + PadBefore, and a projection (1×1 conv + BN, "downsample") decouples them.
using Standalone.Autograd;
using Standalone.Models.Nn;

namespace Standalone.Models.Zoo;

public enum ShortcutKind
{
    /// <summary>x itself (same shape in and out).</summary>
    Identity,
    /// <summary>Option A of He et al.: subsample spatially, zero-pad channels; no parameters.</summary>
    ZeroPad,
    /// <summary>Option B: a 1×1 strided conv + BN, registered as "downsample.{0,1}" (torchvision's naming).</summary>
    Projection,
}

/// <summary>
/// The common CIFAR ResNet's option-A LambdaLayer: <c>F.pad(x[:, :, ::s, ::s], (0, 0, 0, 0, before, after))</c> —
/// keep every s-th row and column, then add <c>before</c> zero channels in front and <c>after</c> behind. The
/// reference code uses s = 2 and before = after = planes/4. It has no parameters, so no state-dict keys.
/// </summary>
public sealed class ZeroPadShortcut : Module
{
    public ZeroPadShortcut(int stride, int padBefore, int padAfter)
    {
        if (stride < 1 || padBefore < 0 || padAfter < 0)
            throw new ArgumentException($"zero-pad shortcut: stride must be ≥ 1 and padding ≥ 0, got stride {stride}, padding ({padBefore}, {padAfter})");
        Stride = stride;
        PadBefore = padBefore;
        PadAfter = padAfter;
    }

    public int Stride { get; }
    public int PadBefore { get; private set; }
    public int PadAfter { get; private set; }

    /// <summary>Sets the zero channels added in front and behind (pruning keeps only some of them).</summary>
    public void SetPadding(int before, int after)
    {
        if (before < 0 || after < 0) throw new ArgumentException($"zero-pad shortcut: padding must be ≥ 0, got ({before}, {after})");
        (PadBefore, PadAfter) = (before, after);
    }

    public override Variable Forward(Variable x)
    {
        if (x.Shape.Rank != 4) throw new ArgumentException($"zero-pad shortcut: expected an [N, C, H, W] input, got {x.Shape}");
        var y = x;
        if (Stride > 1)
        {
            // ::s keeps ceil(size / s) entries.
            y = F.Slice(y, 2, 0, (x.Shape[2] + Stride - 1) / Stride, Stride);
            y = F.Slice(y, 3, 0, (x.Shape[3] + Stride - 1) / Stride, Stride);
        }
        return Report(F.Pad(y, [(PadBefore, PadAfter), (0, 0), (0, 0)]));
    }
}
