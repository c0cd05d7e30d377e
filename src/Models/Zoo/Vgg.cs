// VGG-11/13/16/19 with batch norm, laid out as torchvision's vgg*_bn so that keys match: `features` holds, per
// config entry, Conv2d 3×3 p1 (with bias), BatchNorm2d, ReLU — or one MaxPool2d 2×2 for 'M' — numbered in order
// (vgg16_bn: convs at 0,3,7,10,...; pools at 6,13,23,33,43). Two heads:
//   Cifar:    flatten the 1×1 map (32×32 input) → `classifier` = Linear(512·m → classes);
//   ImageNet: `avgpool` adaptive to 7×7 → flatten → `classifier.{0,3,6}` = Linear(512·m·49 → 4096), ReLU, Dropout,
//             Linear(4096 → 4096), ReLU, Dropout, Linear(4096 → classes) (the 4096 widths are not scaled).
// The width multiplier m scales every conv width: round(width·m) half away from zero, at least 1.
using Standalone.Autograd;
using Standalone.Models.Nn;

namespace Standalone.Models.Zoo;

public enum VggHead
{
    Cifar,
    ImageNet,
}

public sealed class Vgg : Module
{
    /// <summary>Conv widths per config; 0 marks a max-pool ('M').</summary>
    private static readonly Dictionary<int, int[]> Configs = new()
    {
        [11] = [64, 0, 128, 0, 256, 256, 0, 512, 512, 0, 512, 512, 0],
        [13] = [64, 64, 0, 128, 128, 0, 256, 256, 0, 512, 512, 0, 512, 512, 0],
        [16] = [64, 64, 0, 128, 128, 0, 256, 256, 256, 0, 512, 512, 512, 0, 512, 512, 512, 0],
        [19] = [64, 64, 0, 128, 128, 0, 256, 256, 256, 256, 0, 512, 512, 512, 512, 0, 512, 512, 512, 512, 0],
    };

    public static IReadOnlyList<int> Depths { get; } = [11, 13, 16, 19];

    private const int ImageNetPool = 7;
    private const int ImageNetHidden = 4096;
    private const double ImageNetDropout = 0.5;

    public Vgg(int depth, int numClasses = 10, int inChannels = 3, VggHead head = VggHead.Cifar, double widthMultiplier = 1.0, ulong seed = 0)
    {
        if (!Configs.TryGetValue(depth, out var config))
            throw new ArgumentException($"VGG depth must be one of {string.Join(", ", Depths)}, got {depth}");
        if (!(widthMultiplier > 0) || double.IsInfinity(widthMultiplier))
            throw new ArgumentException($"VGG width multiplier must be a positive number, got {widthMultiplier}");
        Depth = depth;
        Head = head;
        WidthMultiplier = widthMultiplier;
        var rng = new Rng(seed);
        var features = new Sequential();
        int channels = inChannels;
        foreach (int width in config)
        {
            if (width == 0)
            {
                features.Add(new MaxPool2d(2, 2));
                continue;
            }
            int outChannels = Scale(width, widthMultiplier);
            features.Add(new Nn.Conv2d(channels, outChannels, 3, rng, padding: 1));
            features.Add(new BatchNorm2d(outChannels));
            features.Add(new ReLU());
            channels = outChannels;
        }
        Features = Register("features", features);
        if (head == VggHead.Cifar)
        {
            Classifier = Register("classifier", new Linear(channels, numClasses, rng));
        }
        else
        {
            AvgPool = Register("avgpool", new AdaptiveAvgPool2d(ImageNetPool));
            Classifier = Register("classifier", new Sequential(
                new Linear(channels * ImageNetPool * ImageNetPool, ImageNetHidden, rng), new ReLU(), new Dropout(ImageNetDropout, rng),
                new Linear(ImageNetHidden, ImageNetHidden, rng), new ReLU(), new Dropout(ImageNetDropout, rng),
                new Linear(ImageNetHidden, numClasses, rng)));
        }
    }

    /// <summary>round(width·m), half away from zero, at least 1 channel.</summary>
    public static int Scale(int width, double widthMultiplier) =>
        Math.Max(1, (int)Math.Round(width * widthMultiplier, MidpointRounding.AwayFromZero));

    public int Depth { get; }
    public VggHead Head { get; }
    public double WidthMultiplier { get; }
    public Sequential Features { get; }
    /// <summary>ImageNet head only.</summary>
    public AdaptiveAvgPool2d? AvgPool { get; }
    /// <summary>A Linear (CIFAR head) or the Linear-ReLU-Dropout ×2 + Linear Sequential (ImageNet head).</summary>
    public Module Classifier { get; }

    public override Variable Forward(Variable x)
    {
        var y = Features.Forward(x);
        if (AvgPool is not null) y = AvgPool.Forward(y);
        else if (y.Shape[2] != 1 || y.Shape[3] != 1)
            throw new ArgumentException($"vgg{Depth} CIFAR head: the features end at {y.Shape}, expected a 1×1 map (a 32×32 input); use the ImageNet head for larger images");
        return Classifier.Forward(F.Flatten(y));
    }
}
