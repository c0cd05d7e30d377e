// Parameter and MAC counts (ModelStats) against published and torchvision-derived numbers.
// Convention: conv MACs = OH·OW·Cout·(Cin/groups)·KH·KW, linear MACs = in·out, nothing else counted. The torchvision
// counts quoted below were printed by data/reference/make_torchvision_keys.py (forward hooks, same convention) and
// agree with torchvision's published GFLOPS (resnet18 1.81, resnet50 4.09, vgg16_bn 15.47).
using Standalone.Autograd;
using Standalone.Models.Nn;
using Standalone.Models.Stats;
using Standalone.Models.Zoo;

namespace Standalone.Tests.Models;

public class ModelStatsTests
{
    private static ModelStats Measure(Module model, int size, int channels = 3)
    {
        var stats = ModelStats.Measure(model, channels, size, size);
        TestContext.Out.WriteLine($"{model.GetType().Name}: {stats.Parameters:N0} parameters, {stats.Macs:N0} MACs at {channels}×{size}×{size}");
        return stats;
    }

    private static double Millions(long n) => Math.Round(n / 1e6, 1);

    [Test]
    public void CifarResNetsWithShortcutA()
    {
        // ResNet-20 convs at 3×32×32: stem 32²·16·3·9 = 442,368; stage 1, six 16→16 convs at 32²: 6·2,359,296;
        // stages 2 and 3, one strided conv (16²·32·16·9 = 8²·64·32·9 = 1,179,648) + five convs of 2,359,296 each;
        // fc 64·10 = 640. Sum 40,551,040. ResNet-56 has 18 convs per stage: 442,368 + 18·2,359,296
        // + 2·(1,179,648 + 17·2,359,296) + 640 = 125,485,696. Parameters: docs/formats.md (269,722 and 853,018).
        var r20 = Measure(new ResNetCifar(20, shortcut: ShortcutKind.ZeroPad), 32);
        Assert.That((r20.Parameters, r20.Macs), Is.EqualTo((269_722L, 40_551_040L)));
        var r56 = Measure(new ResNetCifar(56, shortcut: ShortcutKind.ZeroPad), 32);
        Assert.That((r56.Parameters, r56.Macs), Is.EqualTo((853_018L, 125_485_696L)));
        // docs/formats.md quotes 40.8M / 125.8M MACs for shortcut A; under this convention A gives 40.55M / 125.49M (the
        // numbers of the pruning literature, e.g. HRank's 125.49M for ResNet-56). The 40.8M matches ResNet-20 with
        // shortcut B, whose two 1×1 projections add 16²·32·16 + 8²·64·32 = 262,144 MACs (see the next test).
        Assert.That((Millions(r20.Macs), Millions(r56.Macs)), Is.EqualTo((40.6, 125.5)));
    }

    [Test]
    public void ShortcutBAddsTwoProjections()
    {
        // Projections 16→32 and 32→64 (1×1, no bias): 512 + 2,048 weights; their BNs 2·32 + 2·64 = 192.
        var a = Measure(new ResNetCifar(20, shortcut: ShortcutKind.ZeroPad), 32);
        var b = Measure(new ResNetCifar(20, shortcut: ShortcutKind.Projection), 32);
        Assert.That(b.Parameters - a.Parameters, Is.EqualTo(512 + 2_048 + 192));
        Assert.That(b.Macs - a.Macs, Is.EqualTo(262_144));
        Assert.That((b.Macs, Millions(b.Macs)), Is.EqualTo((40_813_184L, 40.8)));
        var b56 = Measure(new ResNetCifar(56, shortcut: ShortcutKind.Projection), 32);
        Assert.That((b56.Parameters, b56.Macs), Is.EqualTo((855_770L, 125_747_840L)));
    }

    [Test]
    public void RowsFollowTheNetworkWithShapesParametersAndMacs()
    {
        var model = new ResNetCifar(20, shortcut: ShortcutKind.ZeroPad);
        var stats = ModelStats.Measure(model, 3, 32, 32);
        Assert.That(stats.Layers, Has.Count.EqualTo(20), "19 convs and fc (shortcut A has no layers)");
        Assert.That(stats.Layers[0], Is.EqualTo(new LayerStats("conv1", "Conv2d", new Shape(1, 3, 32, 32), new Shape(1, 16, 32, 32), 432, 442_368)));
        Assert.That(stats.Layers.Single(r => r.Name == "layer2.0.conv1"),
            Is.EqualTo(new LayerStats("layer2.0.conv1", "Conv2d", new Shape(1, 16, 32, 32), new Shape(1, 32, 16, 16), 4_608, 1_179_648)));
        Assert.That(stats.Layers[^1], Is.EqualTo(new LayerStats("fc", "Linear", new Shape(1, 64), new Shape(1, 10), 650, 640)));
        Assert.That(stats.Layers.Select(r => r.Name).Take(4), Is.EqualTo(new[] { "conv1", "layer1.0.conv1", "layer1.0.conv2", "layer1.1.conv1" }));
        Assert.That(stats.Macs, Is.EqualTo(stats.Layers.Sum(r => r.Macs)));
        // The total counts batch norm too (weight and bias per channel), which has no row.
        long bn = model.NamedModules().Select(m => m.Module).OfType<BatchNorm2d>().Sum(b => 2L * b.Channels);
        Assert.That(stats.Parameters, Is.EqualTo(stats.Layers.Sum(r => r.Parameters) + bn));
    }

    [Test]
    public void MeasuringLeavesModeAndRunningStatisticsAlone()
    {
        var model = new ResNetCifar(8, inChannels: 1);
        ModelStats.Measure(model, 1, 16, 16);
        Assert.That(model.NamedModules().All(m => m.Module.Training), "a training model stays in training mode");
        Assert.That(model.Bn1.NumBatchesTracked.Item(), Is.EqualTo(0), "the pass runs in evaluation mode");
        Assert.That(model.Bn1.RunningMean.ToArray<float>(), Is.All.EqualTo(0f));
        model.Eval();
        ModelStats.Measure(model, 1, 16, 16);
        Assert.That(model.Training, Is.False);
    }

    [Test]
    public void CountsFollowCompactedWidths()
    {
        // A VGG-11 at width ×0.25 (convs 16, 32, 64, 64, 128, 128, 128, 128) at 32×32, by hand: spatial sizes 32, 16,
        // 8, 8, 4, 4, 2, 2. MACs = 32²·16·3·9 + 16²·32·16·9 + 8²·64·32·9 + 8²·64·64·9 + 4²·128·64·9 + 4²·128·128·9
        // + 2²·128·128·9 ·2 + 128·10 = 442,368 + 1,179,648 + 1,179,648 + 2,359,296 + 1,179,648 + 2,359,296
        // + 589,824·2 + 1,280 = 9,880,832.
        var stats = Measure(new Vgg(11, widthMultiplier: 0.25), 32);
        Assert.That(stats.Macs, Is.EqualTo(9_880_832));
        Assert.That(stats.Layers.Select(r => r.Name), Is.EqualTo(new[]
        {
            "features.0", "features.4", "features.8", "features.11", "features.15", "features.18", "features.22", "features.25", "classifier",
        }));
    }

    [Test]
    public void TorchvisionResNets()
    {
        // Every spatial size at 64×64 is 3.5× smaller per side than at 224×224 (112→32 stem, 56→16, 28→8, 14→4, 7→2,
        // each division exact), so conv MACs at 224 are exactly 12.25× those at 64; fc (512 or 2048 → 1000) is the same.
        // 224×224 itself would take seconds on the CPU.
        var r18 = Measure(new ResNetImageNet(18), 64);
        Assert.That((r18.Parameters, r18.Macs), Is.EqualTo((11_689_512L, 148_557_824L)));
        long r18At224 = (r18.Macs - 512_000) * 49 / 4 + 512_000;
        Assert.That(r18At224, Is.EqualTo(1_814_073_344L));
        // FORMATS/brief quote 1.82 G (ptflops, which also counts BN, ReLU and pooling); conv + fc gives 1.81 G.
        Assert.That(Math.Round(r18At224 / 1e9, 2), Is.EqualTo(1.81));

        var r50 = Measure(new ResNetImageNet(50), 64);
        Assert.That((r50.Parameters, r50.Macs), Is.EqualTo((25_557_032L, 335_691_776L)));
        Assert.That((r50.Macs - 2_048_000) * 49 / 4 + 2_048_000, Is.EqualTo(4_089_184_256L));
    }

    [Test]
    public void TorchvisionVgg16Bn()
    {
        // (The 138,365,992 parameters are checked by TorchvisionKeysTests.Vgg16Bn, which builds the ImageNet model.)
        // The convs are the same with either head, and at 32×32 every map is 7× smaller per side than at 224×224
        // (32, 16, 8, 4, 2 vs 224, 112, 56, 28, 14), so conv MACs at 224 = 49 × those at 32. The ImageNet classifier
        // adds 25,088·4,096 + 4,096·4,096 + 4,096·1,000 = 123,633,664.
        var cifar = Measure(new Vgg(16, numClasses: 10), 32);
        long convs = cifar.Macs - 512 * 10;
        Assert.That(convs, Is.EqualTo(313_196_544L));
        long at224 = 49 * convs + 123_633_664;
        Assert.That(at224, Is.EqualTo(15_470_264_320L));
        Assert.That(Math.Round(at224 / 1e9, 1), Is.EqualTo(15.5));
    }
}
