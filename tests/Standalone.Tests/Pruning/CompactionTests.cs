// Masking then compaction on every zoo model: the compacted network must compute exactly what the masked one does,
// its counts must equal the mask's cost model, and it must save and load like any other model.
using Standalone.Autograd;
using Standalone.Autograd.Optim;
using Standalone.Models.Nn;
using Standalone.Models.Stats;
using Standalone.Models.Training;
using Standalone.Models.Zoo;
using Standalone.Pruning.Graph;
using Standalone.Pruning.Masking;
using Standalone.Tests.Support;

namespace Standalone.Tests.Pruning;

public class CompactionTests : ScratchDirectoryTest
{
    // Float32 sums over a few hundred terms in a different order (fewer channels): not bit-exact, but close.
    private const double OutputTolerance = 2e-4;

    public static IEnumerable<TestCaseData> Models()
    {
        yield return new TestCaseData(new ModelSpec { Architecture = "resnet20", Shortcut = "B" }, 32).SetName("resnet20 B");
        yield return new TestCaseData(new ModelSpec { Architecture = "resnet20", Shortcut = "A" }, 32).SetName("resnet20 A");
        yield return new TestCaseData(new ModelSpec { Architecture = "resnet32", Shortcut = "A", InChannels = 1 }, 28).SetName("resnet32 A, 1×28×28");
        yield return new TestCaseData(new ModelSpec { Architecture = "resnet18" }, 64).SetName("resnet18");
        yield return new TestCaseData(new ModelSpec { Architecture = "resnet50" }, 64).SetName("resnet50");
        yield return new TestCaseData(new ModelSpec { Architecture = "vgg11" }, 32).SetName("vgg11 cifar");
        yield return new TestCaseData(new ModelSpec { Architecture = "vgg16", WidthMultiplier = 0.5 }, 32).SetName("vgg16 cifar ×0.5");
        yield return new TestCaseData(new ModelSpec { Architecture = "vgg11", Head = "imagenet", WidthMultiplier = 0.125 }, 224).SetName("vgg11 imagenet ×0.125");
    }

    /// <summary>A model with non-trivial batch-norm state, so that masking mistakes (β leaking, stale statistics) show.</summary>
    private static Module Perturbed(ModelSpec spec)
    {
        var model = ModelZoo.Create(spec, seed: 3);
        var rng = new Rng(11);
        using var noGrad = Grad.Disabled();
        foreach (var (_, m) in model.NamedModules())
            if (m is BatchNorm2d bn)
            {
                bn.Weight.Data.CopyFrom(Tensor.RandomUniform(bn.Weight.Shape, 0.5, 1.5, rng));
                bn.Bias.Data.CopyFrom(Tensor.RandomUniform(bn.Bias.Shape, -0.5, 0.5, rng));
                bn.RunningMean.CopyFrom(Tensor.RandomUniform(bn.RunningMean.Shape, -0.2, 0.2, rng));
                bn.RunningVar.CopyFrom(Tensor.RandomUniform(bn.RunningVar.Shape, 0.5, 2, rng));
            }
        return model;
    }

    private static ChannelMask RandomMask(DependencyGraph graph, double fraction, ulong seed)
    {
        var rng = new Rng(seed);
        var mask = new ChannelMask(graph);
        // Every unit keeps at least one channel, so that no layer is emptied.
        foreach (var unit in graph.Units)
        {
            var order = unit.Groups.OrderBy(_ => rng.NextDouble()).ToList();
            mask.Prune(order.Take(Math.Min(unit.Groups.Count - 1, (int)Math.Round(unit.Groups.Count * fraction))));
        }
        return mask;
    }

    private static float[] Logits(Module model, Tensor x)
    {
        using var noGrad = Grad.Disabled();
        return model.Forward(Variable.Constant(x)).Data.ToFloatArray();
    }

    [TestCaseSource(nameof(Models))]
    public void CompactedModelComputesWhatTheMaskedModelComputes(ModelSpec spec, int size)
    {
        var model = Perturbed(spec);
        model.Eval();
        var graph = DependencyGraph.Build(model, spec.InChannels, size, size);
        var mask = RandomMask(graph, 0.4, 5);
        mask.Apply();
        var x = Tensor.RandomNormal(new Shape(2, spec.InChannels, size, size), 0, 1, new Rng(7));
        var masked = Logits(model, x);
        var cost = PruningCost.Of(mask);

        var padding = Compactor.Compact(mask);
        var compacted = Logits(model, x);
        Assert.That(MaxDiff(masked, compacted), Is.LessThan(OutputTolerance));

        var stats = ModelStats.Measure(model, spec.InChannels, size, size);
        Assert.That((stats.Macs, stats.Parameters), Is.EqualTo((cost.Macs, cost.Parameters)));
        Assert.That(cost.Macs, Is.LessThan(cost.BaselineMacs));
        Assert.That(padding.Count, Is.EqualTo(graph.Shortcuts.Count));

        // The compacted model is a normal model: saved with its pruned description, loaded back, same outputs.
        var path = Path.Combine(Scratch, "pruned.safetensors");
        Checkpoint.SaveModel(path, model, spec with { Pruned = true, ShortcutPadding = padding }, null);
        var loaded = Checkpoint.LoadModel(path);
        loaded.Model.Eval();
        Assert.That(MaxDiff(compacted, Logits(loaded.Model, x)), Is.EqualTo(0));
        Assert.That(loaded.Spec.ToString(), Does.StartWith("pruned "));
    }

    [Test]
    public void MaskedChannelsStayZeroInTrainingModeAndCompactionCutsGradientsAndOptimizerState()
    {
        var spec = new ModelSpec { Architecture = "resnet20", Shortcut = "A", InChannels = 1 };
        var model = Perturbed(spec);
        var graph = DependencyGraph.Build(model, 1, 16, 16);
        var mask = RandomMask(graph, 0.5, 9);
        var optimizer = new Sgd(model.Parameters(), 0.1, momentum: 0.9, weightDecay: 5e-4);
        var x = Tensor.RandomNormal(new Shape(4, 1, 16, 16), 0, 1, new Rng(1));
        var labels = Tensor.FromArray(new long[] { 0, 3, 5, 9 }, 4);
        mask.Apply(optimizer);
        for (int step = 0; step < 2; step++)
        {
            using var scope = TensorScope.Begin();
            model.ZeroGrad();
            F.CrossEntropy(model.Forward(Variable.Constant(x)), labels).Backward();
            optimizer.Step();
            mask.Apply(optimizer);
        }
        model.Train();
        var masked = Logits(model, x);
        var conv1 = ((ResNetCifar)model).Stages[1].Layers[0] is BasicBlock b ? b.Conv1 : throw new InvalidOperationException();
        int conv1Alive = graph.Site(conv1).OutputGroups.Count(g => !mask.IsPruned(g));

        Compactor.Compact(mask, optimizer);
        Assert.That(MaxDiff(masked, Logits(model, x)), Is.LessThan(OutputTolerance), "training-mode (batch statistics) outputs");
        Assert.That(conv1.Weight.Shape[0], Is.EqualTo(conv1Alive));
        Assert.That(conv1.Weight.Grad!.Shape, Is.EqualTo(conv1.Weight.Shape));
        Assert.That(optimizer.StateOf(conv1.Weight)["momentum_buffer"].Shape, Is.EqualTo(conv1.Weight.Shape));
        // The optimizer keeps working on the cut parameters.
        model.ZeroGrad();
        F.CrossEntropy(model.Forward(Variable.Constant(x)), labels).Backward();
        optimizer.Step();
    }

    [Test]
    public void CostOfOneRemovedChannelMatchesAHandCount()
    {
        // ResNet-20 (shortcut B) at 3×32×32. One output channel of layer1.0.conv1 (3×3, 16 → 16, 32×32 output)
        // removes its filter row (16·9 weights, 16·9·1024 MACs), the matching input column of layer1.0.conv2 (as many)
        // and γ, β of layer1.0.bn1: 290 parameters and 294,912 MACs.
        var model = ModelZoo.Create(new ModelSpec { Architecture = "resnet20" });
        var graph = DependencyGraph.Build(model, 3, 32, 32);
        var mask = new ChannelMask(graph);
        var before = PruningCost.Of(mask);
        Assert.That((before.Macs, before.Parameters), Is.EqualTo((40_813_184L, 272_474L)));
        mask.Prune([graph.Units.Single(u => u.Name == "layer1.0.conv1").Groups[5]]);
        var after = PruningCost.Of(mask);
        Assert.That((before.Macs - after.Macs, before.Parameters - after.Parameters), Is.EqualTo((294_912L, 290L)));

        // One channel of the stage-3 stream (8×8 maps): four producers (layer3.0.conv2, its projection, layer3.1.conv2,
        // layer3.2.conv2) lose a row, four consumers (layer3.1.conv1, layer3.2.conv1, fc, and nothing else) a column.
        var stream = graph.Units.Single(u => u.Name == "layer3.0.conv2 +3");
        mask.Prune([stream.Groups[0]]);
        long producerMacs = (64 * 9 + 32 * 1 + 64 * 9 + 64 * 9) * 64L; // rows: 3×3 convs over 64 inputs, the 1×1 projection over 32
        long consumerMacs = 2 * 64 * 9 * 64L + 10;                       // columns of two 3×3 convs, and fc's 10 weights
        long producerParams = 64 * 9 + 32 + 64 * 9 + 64 * 9 + 4 * 2;    // rows and four BNs' γ, β
        long consumerParams = 2 * 64 * 9 + 10;
        var last = PruningCost.Of(mask);
        Assert.That((after.Macs - last.Macs, after.Parameters - last.Parameters),
            Is.EqualTo((producerMacs + consumerMacs, producerParams + consumerParams)));
    }

    private static double MaxDiff(float[] a, float[] b)
    {
        Assert.That(a.Length, Is.EqualTo(b.Length));
        double max = 0;
        for (int i = 0; i < a.Length; i++) max = Math.Max(max, Math.Abs(a[i] - b[i]));
        return max;
    }
}
