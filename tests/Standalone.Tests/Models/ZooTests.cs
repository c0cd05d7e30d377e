// The model zoo: names, which spec fields each family honours, forward shapes of every model, shortcut A's values
// (hand-derived), VGG widths and the adaptive 7×7 pool.
using Standalone.Autograd;
using Standalone.Models.Nn;
using Standalone.Models.Zoo;

namespace Standalone.Tests.Models;

public class ZooTests
{
    [Test]
    public void NamesListEveryArchitecture()
    {
        Assert.That(ModelZoo.Names, Is.EqualTo(new[]
        {
            "resnet20", "resnet32", "resnet44", "resnet56", "resnet110", "resnet18", "resnet34", "resnet50",
            "vgg11", "vgg13", "vgg16", "vgg19",
        }));
        foreach (var name in ModelZoo.Names)
            Assert.That(ModelZoo.Create(new ModelSpec { Architecture = name, WidthMultiplier = 1 }).GetType(),
                Is.EqualTo(name.StartsWith("vgg") ? typeof(Vgg) : ModelZoo.IsCifarResNet(name) ? typeof(ResNetCifar) : typeof(ResNetImageNet)), name);
    }

    [Test]
    public void CreateRejectsFieldsThatDoNotApply()
    {
        static string Error(ModelSpec spec) => Assert.Throws<ArgumentException>(() => ModelZoo.Create(spec))!.Message;
        Assert.That(Error(new ModelSpec { Architecture = "vgg16", Shortcut = "A" }), Does.Contain("shortcut 'A' does not apply"));
        Assert.That(Error(new ModelSpec { Architecture = "vgg16", Head = "tiny" }), Does.Contain("head 'tiny' is not built"));
        Assert.That(Error(new ModelSpec { Architecture = "resnet20", Head = "imagenet" }), Does.Contain("head 'imagenet' does not apply"));
        Assert.That(Error(new ModelSpec { Architecture = "resnet20", WidthMultiplier = 0.5 }), Does.Contain("width multiplier 0.5 does not apply"));
        Assert.That(Error(new ModelSpec { Architecture = "resnet20", Shortcut = "C" }), Does.Contain("shortcut 'C' is not built (expected A or B)"));
        Assert.That(Error(new ModelSpec { Architecture = "resnet18", Shortcut = "A" }), Does.Contain("always project"));
        Assert.That(Error(new ModelSpec { Architecture = "resnet21" }), Does.Contain("unknown model 'resnet21'"));
        Assert.That(Error(new ModelSpec { Architecture = "vgg16", WidthMultiplier = 0 }), Does.Contain("the width multiplier must be in (0, 4]"));
    }

    [Test]
    public void CreateHonoursInputChannelsClassesShortcutHeadAndWidth()
    {
        var resnet = (ResNetCifar)ModelZoo.Create(new ModelSpec { Architecture = "resnet32", InChannels = 1, NumClasses = 7, Shortcut = "A" });
        Assert.That((resnet.Depth, resnet.Shortcut, resnet.Conv1.InChannels, resnet.Fc.OutFeatures), Is.EqualTo((32, ShortcutKind.ZeroPad, 1, 7)));
        var imagenet = (ResNetImageNet)ModelZoo.Create(new ModelSpec { Architecture = "resnet34", InChannels = 4, NumClasses = 5 });
        Assert.That((imagenet.Depth, imagenet.Conv1.InChannels, imagenet.Fc.OutFeatures), Is.EqualTo((34, 4, 5)));
        var vgg = (Vgg)ModelZoo.Create(new ModelSpec { Architecture = "vgg11", InChannels = 1, NumClasses = 3, Head = "imagenet", WidthMultiplier = 0.25 });
        Assert.That((vgg.Depth, vgg.Head, vgg.WidthMultiplier), Is.EqualTo((11, VggHead.ImageNet, 0.25)));
        Assert.That(((Conv2d)vgg.Features.Layers[0]).InChannels, Is.EqualTo(1));
        var last = (Linear)((Sequential)vgg.Classifier).Layers[6];
        Assert.That(last.OutFeatures, Is.EqualTo(3));
    }

    [Test]
    public void ShortcutKindIsVisibleOnEveryBlock()
    {
        var a = new ResNetCifar(20, shortcut: ShortcutKind.ZeroPad);
        var blocks = a.Stages.SelectMany(s => s.Layers).Cast<BasicBlock>().ToList();
        // Only the first block of stages 2 and 3 changes shape (16→32 and 32→64, stride 2).
        Assert.That(blocks.Select(b => b.Shortcut), Is.EqualTo(new[]
        {
            ShortcutKind.Identity, ShortcutKind.Identity, ShortcutKind.Identity,
            ShortcutKind.ZeroPad, ShortcutKind.Identity, ShortcutKind.Identity,
            ShortcutKind.ZeroPad, ShortcutKind.Identity, ShortcutKind.Identity,
        }));
        Assert.That((blocks[3].PadShortcut!.Stride, blocks[3].PadShortcut!.PadBefore, blocks[3].PadShortcut!.PadAfter), Is.EqualTo((2, 8, 8)));
        Assert.That((blocks[6].PadShortcut!.PadBefore, blocks[6].PadShortcut!.PadAfter), Is.EqualTo((16, 16)));
        Assert.That(blocks.All(b => b.Downsample is null));
        Assert.That(a.StateDict().Select(e => e.Name), Has.None.Contains("shortcut").And.None.Contains("downsample"));

        var b = new ResNetCifar(20, shortcut: ShortcutKind.Projection);
        var projected = b.Stages.SelectMany(s => s.Layers).Cast<BasicBlock>().Where(k => k.Shortcut == ShortcutKind.Projection).ToList();
        Assert.That(projected, Has.Count.EqualTo(2).And.All.Matches<BasicBlock>(k => k.Downsample != null && k.PadShortcut == null));
        var r50 = new ResNetImageNet(50, 10);
        Assert.That(r50.Stages.Select(s => ((Bottleneck)s.Layers[0]).Shortcut), Is.All.EqualTo(ShortcutKind.Projection));
        Assert.That(((Bottleneck)r50.Stages[0].Layers[1]).Shortcut, Is.EqualTo(ShortcutKind.Identity));
    }

    [Test]
    public void ZeroPadShortcutSubsamplesAndPadsChannels()
    {
        // x[0, c, h, w] = 9c + 3h + w on a 2×3×3 input. x[:, :, ::2, ::2] keeps rows/columns 0 and 2 (ceil(3/2) = 2):
        // channel 0 → 0, 2, 6, 8; channel 1 → 9, 11, 15, 17. Padding (1, 1) puts a zero channel before and after.
        var values = Enumerable.Range(0, 18).Select(v => (float)v).ToArray();
        using var scope = TensorScope.Begin();
        var x = Variable.Parameter(Tensor.FromArray<float>(values, new Shape(1, 2, 3, 3)), "x");
        var y = new ZeroPadShortcut(2, 1, 1).Forward(x);
        Assert.That(y.Shape, Is.EqualTo(new Shape(1, 4, 2, 2)));
        Assert.That(y.Data.ToArray<float>(), Is.EqualTo(new float[] { 0, 0, 0, 0, 0, 2, 6, 8, 9, 11, 15, 17, 0, 0, 0, 0 }));
        // d(sum y)/dx is 1 where an input entry was kept, 0 where ::2 dropped it.
        F.Sum(y).Backward();
        float[] kept = [1, 0, 1, 0, 0, 0, 1, 0, 1];
        Assert.That(x.Grad!.ToArray<float>(), Is.EqualTo(kept.Concat(kept).ToArray()));
    }

    [Test]
    public void ShortcutARejectsWidthsThatCannotBePadded()
    {
        var e = Assert.Throws<ArgumentException>(() => new BasicBlock(16, 40, 2, new Rng(0), ShortcutKind.ZeroPad))!;
        Assert.That(e.Message, Does.Contain("16 → 40 channels cannot be padded by planes/4 = 10"));
    }

    [Test]
    public void EveryModelForwardsToClassScores()
    {
        using var noGrad = Grad.Disabled();
        foreach (var name in ModelZoo.Names)
        {
            using var scope = TensorScope.Begin();
            var model = ModelZoo.Create(new ModelSpec { Architecture = name, NumClasses = 7, Shortcut = ModelZoo.IsCifarResNet(name) ? "A" : "B" });
            model.Eval();
            // ImageNet ResNets at 64×64 (a 2×2 final map) to keep the test quick; CIFAR models at their 32×32.
            int size = ModelZoo.IsImageNetResNet(name) ? 64 : 32;
            int batch = ModelZoo.IsImageNetResNet(name) ? 1 : 2;
            var x = Variable.Constant(Tensor.RandomNormal(new Shape(batch, 3, size, size), 0, 1, new Rng(1)));
            Assert.That(model.Forward(x).Shape, Is.EqualTo(new Shape(batch, 7)), name);
        }
    }

    [Test]
    public void VggImageNetHeadForwardsAt224WithNarrowFeatures()
    {
        // Width ×1/8 keeps the convs cheap (1/64 of the MACs); 224×224 ends at the 7×7 map the head expects.
        using var noGrad = Grad.Disabled();
        using var scope = TensorScope.Begin();
        var model = new Vgg(11, numClasses: 5, head: VggHead.ImageNet, widthMultiplier: 0.125);
        model.Eval();
        var y = model.Forward(Variable.Constant(Tensor.RandomNormal(new Shape(1, 3, 224, 224), 0, 1, new Rng(2))));
        Assert.That(y.Shape, Is.EqualTo(new Shape(1, 5)));
        Assert.That(((Linear)((Sequential)model.Classifier).Layers[0]).InFeatures, Is.EqualTo(64 * 7 * 7));
    }

    [Test]
    public void VggCifarHeadRejectsMapsLargerThanOne()
    {
        using var scope = TensorScope.Begin();
        var model = new Vgg(11, widthMultiplier: 0.125);
        var e = Assert.Throws<ArgumentException>(() => model.Forward(Variable.Constant(Tensor.Zeros(new Shape(1, 3, 64, 64)))))!;
        Assert.That(e.Message, Does.Contain("features end at [1, 64, 2, 2], expected a 1×1 map"));
    }

    [Test]
    public void VggWidthMultiplierRoundsHalfAwayFromZeroAndKeepsOneChannel()
    {
        // vgg11 widths 64, 128, 256, 256, 512, 512, 512, 512. ×0.3: 19.2 → 19, 38.4 → 38, 76.8 → 77, 153.6 → 154.
        var widths = new Vgg(11, widthMultiplier: 0.3).Features.Layers.OfType<Conv2d>().Select(c => c.OutChannels);
        Assert.That(widths, Is.EqualTo(new[] { 19, 38, 77, 77, 154, 154, 154, 154 }));
        // ×1/128: 0.5 → 1 (half away from zero), 1, 2, 2, 4, ...; ×0.001 rounds every width to 0, kept at 1.
        Assert.That(new Vgg(11, widthMultiplier: 1.0 / 128).Features.Layers.OfType<Conv2d>().Select(c => c.OutChannels),
            Is.EqualTo(new[] { 1, 1, 2, 2, 4, 4, 4, 4 }));
        Assert.That(new Vgg(11, widthMultiplier: 0.001).Features.Layers.OfType<Conv2d>().Select(c => c.OutChannels), Is.All.EqualTo(1));
        Assert.That(((Linear)new Vgg(11, widthMultiplier: 0.3).Classifier).InFeatures, Is.EqualTo(154));
    }

    [Test]
    public void AdaptiveAvgPoolIsIdentityOrKernelEqualsStridePooling()
    {
        using var scope = TensorScope.Begin();
        var pool = new AdaptiveAvgPool2d(2);
        var same = Variable.Constant(Tensor.RandomNormal(new Shape(1, 1, 2, 2), 0, 1, new Rng(3)));
        Assert.That(pool.Forward(same), Is.SameAs(same));
        // A 4×4 map of 0..15 in 2×2 windows: mean(0,1,4,5) = 2.5, mean(2,3,6,7) = 4.5, 10.5, 12.5.
        var x = Variable.Constant(Tensor.FromArray<float>(Enumerable.Range(0, 16).Select(v => (float)v).ToArray(), new Shape(1, 1, 4, 4)));
        Assert.That(pool.Forward(x).Data.ToArray<float>(), Is.EqualTo(new float[] { 2.5f, 4.5f, 10.5f, 12.5f }));
        var e = Assert.Throws<ArgumentException>(() => pool.Forward(Variable.Constant(Tensor.Zeros(new Shape(1, 1, 3, 3)))))!;
        Assert.That(e.Message, Does.Contain("input [1, 1, 3, 3] is not a square multiple of 2"));
    }
}
