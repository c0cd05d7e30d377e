// CIFAR-style ResNet (He et al. 2016, §4.2): depth 6n+2 — a 3×3 stem to 16 channels, three stages of n BasicBlocks
// at widths 16/32/64 (the first block of stages 2 and 3 has stride 2), global average pooling and fc.
// Shortcut B projects with a 1×1 stride-2 conv + BN where the shape changes ("layerS.0.downsample.{0,1}").
// Keys follow the common CIFAR naming: conv1, bn1, layer{1,2,3}.{i}.{conv1,bn1,conv2,bn2}, fc.
using Standalone.Autograd;
using Standalone.Models.Nn;

namespace Standalone.Models.Zoo;

public sealed class BasicBlock : Module
{
    public BasicBlock(int inPlanes, int planes, int stride, Rng rng)
    {
        Conv1 = Register("conv1", new Nn.Conv2d(inPlanes, planes, 3, rng, stride: stride, padding: 1, bias: false));
        Bn1 = Register("bn1", new BatchNorm2d(planes));
        Conv2 = Register("conv2", new Nn.Conv2d(planes, planes, 3, rng, stride: 1, padding: 1, bias: false));
        Bn2 = Register("bn2", new BatchNorm2d(planes));
        if (stride != 1 || inPlanes != planes)
            Downsample = Register("downsample", new Sequential(
                new Nn.Conv2d(inPlanes, planes, 1, rng, stride: stride, bias: false),
                new BatchNorm2d(planes)));
    }

    public Nn.Conv2d Conv1 { get; }
    public BatchNorm2d Bn1 { get; }
    public Nn.Conv2d Conv2 { get; }
    public BatchNorm2d Bn2 { get; }
    public Sequential? Downsample { get; }

    public override Variable Forward(Variable x)
    {
        var y = F.Relu(Bn1.Forward(Conv1.Forward(x)));
        y = Bn2.Forward(Conv2.Forward(y));
        var shortcut = Downsample?.Forward(x) ?? x;
        return F.Relu(F.Add(y, shortcut));
    }
}

public sealed class ResNetCifar : Module
{
    public ResNetCifar(int depth, int numClasses = 10, int inChannels = 3, ulong seed = 0)
    {
        if (depth < 8 || (depth - 2) % 6 != 0) throw new ArgumentException($"CIFAR ResNet depth must be 6n+2 (20, 32, 44, 56, 110), got {depth}");
        Depth = depth;
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
                stage.Add(new BasicBlock(inPlanes, widths[s], b == 0 && s > 0 ? 2 : 1, rng));
                inPlanes = widths[s];
            }
            Stages[s] = Register($"layer{s + 1}", stage);
        }
        Pool = Register("avgpool", new GlobalAvgPool2d());
        Fc = Register("fc", new Linear(64, numClasses, rng));
    }

    public int Depth { get; }
    public Nn.Conv2d Conv1 { get; }
    public BatchNorm2d Bn1 { get; }
    public Sequential[] Stages { get; }
    public GlobalAvgPool2d Pool { get; }
    public Linear Fc { get; }

    public override Variable Forward(Variable x)
    {
        var y = F.Relu(Bn1.Forward(Conv1.Forward(x)));
        foreach (var stage in Stages) y = stage.Forward(y);
        return Fc.Forward(F.Flatten(Pool.Forward(y)));
    }
}
