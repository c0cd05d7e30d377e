// torchvision's ImageNet ResNets (v1.5: a Bottleneck strides on its 3×3 conv2): stem conv1 7×7 s2 p3 (no bias), bn1,
// ReLU, maxpool 3×3 s2 p1; layer1..4 at widths 64/128/256/512 (stride 1/2/2/2 on each stage's first block); global
// average pool; fc. ResNet-18/34 use BasicBlock, ResNet-50 Bottleneck (expansion 4). Where a block changes shape it
// projects with "downsample.{0 (1×1 conv), 1 (BN)}". Keys equal torchvision's state_dict keys.
using Standalone.Autograd;
using Standalone.Models.Nn;

namespace Standalone.Models.Zoo;

/// <summary>conv1×1-BN-ReLU, conv3×3(stride)-BN-ReLU, conv1×1(→ planes·4)-BN, + shortcut, ReLU.</summary>
public sealed class Bottleneck : Module
{
    public const int Expansion = 4;

    public Bottleneck(int inPlanes, int planes, int stride, Rng rng)
    {
        int outPlanes = planes * Expansion;
        Conv1 = Register("conv1", new Nn.Conv2d(inPlanes, planes, 1, rng, bias: false));
        Bn1 = Register("bn1", new BatchNorm2d(planes));
        Conv2 = Register("conv2", new Nn.Conv2d(planes, planes, 3, rng, stride: stride, padding: 1, bias: false));
        Bn2 = Register("bn2", new BatchNorm2d(planes));
        Conv3 = Register("conv3", new Nn.Conv2d(planes, outPlanes, 1, rng, bias: false));
        Bn3 = Register("bn3", new BatchNorm2d(outPlanes));
        if (stride != 1 || inPlanes != outPlanes)
            Downsample = Register("downsample", new Sequential(
                new Nn.Conv2d(inPlanes, outPlanes, 1, rng, stride: stride, bias: false),
                new BatchNorm2d(outPlanes)));
    }

    public Nn.Conv2d Conv1 { get; }
    public BatchNorm2d Bn1 { get; }
    public Nn.Conv2d Conv2 { get; }
    public BatchNorm2d Bn2 { get; }
    public Nn.Conv2d Conv3 { get; }
    public BatchNorm2d Bn3 { get; }
    /// <summary>Projection when <see cref="Shortcut"/> is Projection; null for an identity shortcut.</summary>
    public Sequential? Downsample { get; }
    public ShortcutKind Shortcut => Downsample is null ? ShortcutKind.Identity : ShortcutKind.Projection;

    public override Variable Forward(Variable x)
    {
        var y = Conv1.Forward(x, Bn1, relu: true);
        y = Conv2.Forward(y, Bn2, relu: true);
        return Conv3.Forward(y, Bn3, relu: true, residual: Downsample?.Forward(x) ?? x);
    }
}

public sealed class ResNetImageNet : Module
{
    public static IReadOnlyList<int> Depths { get; } = [18, 34, 50];

    public ResNetImageNet(int depth, int numClasses = 1000, int inChannels = 3, ulong seed = 0)
    {
        int[] blocks = depth switch
        {
            18 => [2, 2, 2, 2],
            34 or 50 => [3, 4, 6, 3],
            _ => throw new ArgumentException($"ImageNet ResNet depth must be one of {string.Join(", ", Depths)}, got {depth}"),
        };
        Depth = depth;
        var rng = new Rng(seed);
        bool bottleneck = depth >= 50;
        Conv1 = Register("conv1", new Nn.Conv2d(inChannels, 64, 7, rng, stride: 2, padding: 3, bias: false));
        Bn1 = Register("bn1", new BatchNorm2d(64));
        Pool = Register("maxpool", new MaxPool2d(3, 2, 1));
        int inPlanes = 64;
        Stages = new Sequential[4];
        for (int s = 0; s < 4; s++)
        {
            int planes = 64 << s;
            var stage = new Sequential();
            for (int b = 0; b < blocks[s]; b++)
            {
                int stride = b == 0 && s > 0 ? 2 : 1;
                if (bottleneck)
                {
                    stage.Add(new Bottleneck(inPlanes, planes, stride, rng));
                    inPlanes = planes * Bottleneck.Expansion;
                }
                else
                {
                    stage.Add(new BasicBlock(inPlanes, planes, stride, rng));
                    inPlanes = planes;
                }
            }
            Stages[s] = Register($"layer{s + 1}", stage);
        }
        AvgPool = Register("avgpool", new GlobalAvgPool2d());
        Fc = Register("fc", new Linear(inPlanes, numClasses, rng));
    }

    public int Depth { get; }
    public Nn.Conv2d Conv1 { get; }
    public BatchNorm2d Bn1 { get; }
    public MaxPool2d Pool { get; }
    public Sequential[] Stages { get; }
    public GlobalAvgPool2d AvgPool { get; }
    public Linear Fc { get; }

    public override Variable Forward(Variable x)
    {
        var y = Pool.Forward(Conv1.Forward(x, Bn1, relu: true));
        foreach (var stage in Stages) y = stage.Forward(y);
        return Fc.Forward(F.Flatten(AvgPool.Forward(y)));
    }
}
