// CIFAR-style ResNet (He et al. 2016, §4.2): depth 6n+2 — a 3×3 stem to 16 channels, three stages of n BasicBlocks
// at widths 16/32/64 (the first block of stages 2 and 3 has stride 2), global average pooling and fc.
// Where the shape changes, shortcut A (ShortcutKind.ZeroPad) subsamples and zero-pads channels without parameters;
// shortcut B (ShortcutKind.Projection) projects with a 1×1 stride-2 conv + BN ("layerS.0.downsample.{0,1}").
// Keys follow the common CIFAR naming: conv1, bn1, layer{1,2,3}.{i}.{conv1,bn1,conv2,bn2}, fc.
using Standalone.Autograd;
using Standalone.Models.Nn;

namespace Standalone.Models.Zoo;

/// <summary>
/// conv3×3(stride)-BN-ReLU-conv3×3-BN, + shortcut, ReLU. Shared by the CIFAR ResNets and torchvision's
/// resnet18/34 (which always project). <paramref name="shortcut"/> is used only where the shape changes.
/// </summary>
public sealed class BasicBlock : Module
{
    public BasicBlock(int inPlanes, int planes, int stride, Rng rng, ShortcutKind shortcut = ShortcutKind.Projection)
    {
        Conv1 = Register("conv1", new Nn.Conv2d(inPlanes, planes, 3, rng, stride: stride, padding: 1, bias: false));
        Bn1 = Register("bn1", new BatchNorm2d(planes));
        Conv2 = Register("conv2", new Nn.Conv2d(planes, planes, 3, rng, stride: 1, padding: 1, bias: false));
        Bn2 = Register("bn2", new BatchNorm2d(planes));
        bool reshapes = stride != 1 || inPlanes != planes;
        if (reshapes && shortcut == ShortcutKind.Identity)
            throw new ArgumentException($"basic block {inPlanes} → {planes} channels, stride {stride}: the shape changes, so the shortcut cannot be the identity");
        Shortcut = reshapes ? shortcut : ShortcutKind.Identity;
        switch (Shortcut)
        {
            case ShortcutKind.Projection:
                Downsample = Register("downsample", new Sequential(
                    new Nn.Conv2d(inPlanes, planes, 1, rng, stride: stride, bias: false),
                    new BatchNorm2d(planes)));
                break;
            case ShortcutKind.ZeroPad:
                // The reference LambdaLayer pads planes/4 on each side, which fits only planes = inPlanes + 2·(planes/4).
                if (inPlanes + 2 * (planes / 4) != planes)
                    throw new ArgumentException($"shortcut A: {inPlanes} → {planes} channels cannot be padded by planes/4 = {planes / 4} on each side");
                PadShortcut = Register("shortcut", new ZeroPadShortcut(stride, planes / 4, planes / 4));
                break;
        }
    }

    public Nn.Conv2d Conv1 { get; }
    public BatchNorm2d Bn1 { get; }
    public Nn.Conv2d Conv2 { get; }
    public BatchNorm2d Bn2 { get; }
    public ShortcutKind Shortcut { get; }
    /// <summary>The projection (conv, BN) when <see cref="Shortcut"/> is Projection.</summary>
    public Sequential? Downsample { get; }
    /// <summary>The parameter-free shortcut when <see cref="Shortcut"/> is ZeroPad.</summary>
    public ZeroPadShortcut? PadShortcut { get; }

    public override Variable Forward(Variable x)
    {
        var y = Conv1.Forward(x, Bn1, relu: true);
        var shortcut = Downsample?.Forward(x) ?? PadShortcut?.Forward(x) ?? x;
        return Conv2.Forward(y, Bn2, relu: true, residual: shortcut);
    }
}

public sealed class ResNetCifar : Module
{
    /// <param name="shortcut">ZeroPad (option A) or Projection (option B) for the two blocks that change shape.</param>
    public ResNetCifar(int depth, int numClasses = 10, int inChannels = 3, ulong seed = 0, ShortcutKind shortcut = ShortcutKind.Projection)
    {
        if (depth < 8 || (depth - 2) % 6 != 0) throw new ArgumentException($"CIFAR ResNet depth must be 6n+2 (20, 32, 44, 56, 110), got {depth}");
        if (shortcut == ShortcutKind.Identity) throw new ArgumentException("CIFAR ResNet shortcut must be ZeroPad (A) or Projection (B); the stage transitions change shape");
        Depth = depth;
        Shortcut = shortcut;
        var rng = new Rng(seed);
        int blocks = (depth - 2) / 6;
        Conv1 = Register("conv1", new Nn.Conv2d(inChannels, 16, 3, rng, padding: 1, bias: false));
        Bn1 = Register("bn1", new BatchNorm2d(16));
        int inPlanes = 16;
        Stages = new Sequential[3];
        int[] widths = [16, 32, 64];
        for (int s = 0; s < 3; s++)
        {
            var stage = new Sequential();
            for (int b = 0; b < blocks; b++)
            {
                stage.Add(new BasicBlock(inPlanes, widths[s], b == 0 && s > 0 ? 2 : 1, rng, shortcut));
                inPlanes = widths[s];
            }
            Stages[s] = Register($"layer{s + 1}", stage);
        }
        Pool = Register("avgpool", new GlobalAvgPool2d());
        Fc = Register("fc", new Linear(64, numClasses, rng));
    }

    public int Depth { get; }
    public ShortcutKind Shortcut { get; }
    public Nn.Conv2d Conv1 { get; }
    public BatchNorm2d Bn1 { get; }
    public Sequential[] Stages { get; }
    public GlobalAvgPool2d Pool { get; }
    public Linear Fc { get; }

    public override Variable Forward(Variable x)
    {
        var y = Conv1.Forward(x, Bn1, relu: true);
        foreach (var stage in Stages) y = stage.Forward(y);
        return Fc.Forward(F.Flatten(Pool.Forward(y)));
    }
}
