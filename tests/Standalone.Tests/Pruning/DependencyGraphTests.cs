// Dependency groups of the zoo models, checked against counts derived by hand from each architecture.
using Standalone.Models.Nn;
using Standalone.Models.Zoo;
using Standalone.Pruning.Graph;

namespace Standalone.Tests.Pruning;

public class DependencyGraphTests
{
    private static DependencyGraph Graph(string arch, string shortcut = "B", int size = 32, int inChannels = 3, string head = "cifar") =>
        DependencyGraph.Build(ModelZoo.Create(new ModelSpec { Architecture = arch, Shortcut = shortcut, InChannels = inChannels, Head = head }), inChannels, size, size);

    private static string[] UnitNames(DependencyGraph g) => g.Units.Select(u => $"{u.Name}:{u.Groups.Count}").ToArray();

    [Test]
    public void ResNet20WithProjectionShortcutsHasOneStreamPerStageAndOneUnitPerInnerConv()
    {
        var g = Graph("resnet20");
        // Stage s stream: its producers are every block's conv2 (+ the projection of the stage's first block; the stem
        // feeds stage 1's identity shortcut). Inner convs (conv1 of each block) are units of their own.
        Assert.That(UnitNames(g), Is.EqualTo(new[]
        {
            "conv1 +3:16", "layer1.0.conv1:16", "layer1.1.conv1:16", "layer1.2.conv1:16",
            "layer2.0.conv1:32", "layer2.0.conv2 +3:32", "layer2.1.conv1:32", "layer2.2.conv1:32",
            "layer3.0.conv1:64", "layer3.0.conv2 +3:64", "layer3.1.conv1:64", "layer3.2.conv1:64",
        }));
        Assert.That(g.Groups, Has.Count.EqualTo(16 * 4 + 32 * 4 + 64 * 4));
        var stream2 = g.Units[5];
        var model = (ResNetCifar)g.Model;
        var block0 = (BasicBlock)model.Stages[1].Layers[0];
        Assert.That(stream2.ProducerLayers, Is.EqualTo(new Module[]
        {
            block0.Conv2, block0.Downsample!.Layers[0], ((BasicBlock)model.Stages[1].Layers[1]).Conv2, ((BasicBlock)model.Stages[1].Layers[2]).Conv2,
        }));
        // One stream channel: 4 producers, their 4 BNs, and consumers: conv1 of blocks 1, 2 of stage 2, and stage 3's
        // first conv1 and projection.
        var group = stream2.Groups[7];
        Assert.That(group.Producers.Select(p => p.Channel), Is.All.EqualTo(7));
        Assert.That(group.Norms, Has.Count.EqualTo(4));
        Assert.That(group.Consumers, Has.Count.EqualTo(4));
        // The fc input is tied to the stage-3 stream; its output (the logits) is never prunable.
        Assert.That(g.Layers.Last().Name, Is.EqualTo("fc"));
        Assert.That(g.Layers.Last().OutputGroups, Is.All.EqualTo(-1));
        Assert.That(g.Layers.Last().InputGroups, Is.EqualTo(g.Units[9].Groups.Select(x => x.Id)));
        // The stem reads the image: its input channel is not a group.
        Assert.That(g.Layers[0].InputGroups, Is.EqualTo(new[] { -1, -1, -1 }));
    }

    [Test]
    public void ResNet20WithZeroPadShortcutsChainsStreamsAcrossStagesByTheOffsetMapping()
    {
        var g = Graph("resnet20", "A");
        // Stage 1's channel c is stage 2's channel c + 8 and stage 3's c + 24: one group reaches through all three
        // stages. Stage 2's padded channels (0–7, 24–31) continue as stage 3's c + 16; stage 3's padding is its own.
        Assert.That(UnitNames(g), Is.EqualTo(new[]
        {
            "conv1 +9:16", "layer1.0.conv1:16", "layer1.1.conv1:16", "layer1.2.conv1:16",
            "layer2.0.conv1:32", "layer2.0.conv2 +5:16", "layer2.1.conv1:32", "layer2.2.conv1:32",
            "layer3.0.conv1:64", "layer3.0.conv2 +2:32", "layer3.1.conv1:64", "layer3.2.conv1:64",
        }));
        var chain = g.Units[0].Groups[3];
        var model = (ResNetCifar)g.Model;
        int ChannelIn(Module layer) => chain.Producers.Single(p => ReferenceEquals(p.Layer, layer)).Channel;
        Assert.That(ChannelIn(model.Conv1), Is.EqualTo(3));
        Assert.That(ChannelIn(((BasicBlock)model.Stages[1].Layers[2]).Conv2), Is.EqualTo(3 + 8));
        Assert.That(ChannelIn(((BasicBlock)model.Stages[2].Layers[0]).Conv2), Is.EqualTo(3 + 8 + 16));
        Assert.That(g.Shortcuts.Select(s => s.Name), Is.EqualTo(new[] { "layer2.0.shortcut", "layer3.0.shortcut" }));
        var s2 = g.Shortcuts[0];
        Assert.That(s2.OutputGroups.Skip(8).Take(16), Is.EqualTo(s2.InputGroups));
        Assert.That(g.Groups, Has.Count.EqualTo(16 * 3 + 32 * 3 + 64 * 3 + 64));
    }

    [Test]
    public void ResNet50HasAStemUnitTwoInnerUnitsPerBottleneckAndOneStreamPerStage()
    {
        var g = Graph("resnet50", size: 64);
        Assert.That(g.Units, Has.Count.EqualTo(1 + 16 * 2 + 4));
        Assert.That(g.Units[0].Name, Is.EqualTo("conv1"));
        Assert.That(g.Units[0].Groups, Has.Count.EqualTo(64));
        var streams = g.Units.Where(u => u.ProducerLayers.Count > 1).ToList();
        // Stage s: one conv3 per block plus the first block's projection.
        Assert.That(streams.Select(u => (u.ProducerLayers.Count, u.Groups.Count)),
            Is.EqualTo(new[] { (3 + 1, 256), (4 + 1, 512), (6 + 1, 1024), (3 + 1, 2048) }));
        Assert.That(g.Groups, Has.Count.EqualTo(64 + 2 * (3 * 64 + 4 * 128 + 6 * 256 + 3 * 512) + 256 + 512 + 1024 + 2048));
    }

    [Test]
    public void Vgg16GroupsEveryConvOnItsOwnAndTiesTheLastToTheClassifier()
    {
        var g = Graph("vgg16");
        Assert.That(g.Units, Has.Count.EqualTo(13));
        Assert.That(g.Units.Select(u => u.Groups.Count), Is.EqualTo(new[] { 64, 64, 128, 128, 256, 256, 256, 512, 512, 512, 512, 512, 512 }));
        Assert.That(g.Units.All(u => u.ProducerLayers.Count == 1));
        Assert.That(g.Units[^1].Groups[0].Consumers.Single().Layer, Is.InstanceOf<Linear>());

        // ImageNet head: the flatten spreads each channel over 7×7 classifier inputs; the hidden Linear units are groups too.
        var imagenet = Graph("vgg11", size: 224, head: "imagenet");
        var lastConv = imagenet.Units.Single(u => u.Name == "features.25");
        Assert.That(lastConv.Groups[2].Consumers.Select(c => c.Channel), Is.EqualTo(Enumerable.Range(2 * 49, 49)));
        Assert.That(imagenet.Units.Select(u => u.Name), Does.Contain("classifier.0").And.Contain("classifier.3"));
    }

    [Test]
    public void IgnoredLayersKeepTheirChannelsAndEverythingTiedToThem()
    {
        var model = ModelZoo.Create(new ModelSpec { Architecture = "resnet20" });
        var block = (BasicBlock)((ResNetCifar)model).Stages[0].Layers[1];
        var g = DependencyGraph.Build(model, 3, 32, 32, ignored: [block.Conv1, block.Conv2]);
        // conv2 feeds stage 1's stream, so the whole stream stays; conv1's own unit disappears.
        Assert.That(g.Units.Select(u => u.Name), Does.Not.Contain("layer1.1.conv1").And.Not.Contain("conv1 +3"));
        Assert.That(g.Units, Has.Count.EqualTo(10));
    }
}
