// LRP relevance (Standalone.Pruning.Attribution.Lrp): conservation on pure z⁺/ε chains, the hand-derived z⁺ and
// ε rules on one tiny conv net, every zoo family end to end, and the errors for what the rules do not cover. The
// rule-by-rule comparison with PyTorch is in Reference/LrpReferenceTests.cs.
using Standalone.Autograd;
using Standalone.Models.Nn;
using Standalone.Models.Zoo;
using Standalone.Pruning.Attribution;
using Standalone.Tests.Support;

namespace Standalone.Tests.Pruning;

[TestFixtureSource(typeof(TestBackends), nameof(TestBackends.All))]
public sealed class LrpTests(string device) : BackendTest(device)
{
    /// <summary>
    /// Σ R per sample at every layer of a bias-free chain vs what reaches it: 1 at the logits, and below them the
    /// ε-rule's z/(z + ε·sign z), which every further layer must pass on unchanged (the stabiliser 1e-9 loses
    /// ~1e-9/|z| per output). What remains is float32 summation over ≤ 1,024 terms, ~1e-6.
    /// </summary>
    private const double Conservation = 1e-5;

    /// <summary>conv(no bias) → [ReLU] → conv(no bias) → ReLU → global average pool → flatten → Linear(no bias).</summary>
    private sealed class Chain : Module
    {
        private readonly Conv2d _conv1, _conv2;
        private readonly Linear _fc;
        private readonly bool _innerRelu;

        public Chain(bool innerRelu, ulong seed)
        {
            var rng = new Rng(seed);
            _conv1 = Register("conv1", new Conv2d(2, 6, 3, rng, padding: 1, bias: false));
            _conv2 = Register("conv2", new Conv2d(6, 5, 3, rng, stride: 2, padding: 1, bias: false));
            _fc = Register("fc", new Linear(5, 4, rng, bias: false));
            _innerRelu = innerRelu;
        }

        public override Variable Forward(Variable x)
        {
            var y = _conv1.Forward(x);
            if (_innerRelu) y = F.Relu(y);
            y = F.Relu(_conv2.Forward(y));
            return _fc.Forward(F.Flatten(F.GlobalAvgPool2d(y)));
        }
    }

    private static Tensor Pixels(int n, int channels, int size, ulong seed) =>
        Tensor.RandomUniform(new Shape(n, channels, size, size), 0, 1, new Rng(seed));

    /// <param name="innerRelu">
    /// Without it conv2 reads signed values, so its z⁺ rule takes (x·w)⁺ = x⁺·w⁺ + x⁻·w⁻ (the path a ReLU input skips).
    /// </param>
    [TestCase(true)]
    [TestCase(false)]
    public void RelevanceIsConservedAtEveryLayerOfABiasFreeChain(bool innerRelu)
    {
        using var scope = TensorScope.Begin();
        var model = new Chain(innerRelu, seed: 3);
        var images = Pixels(3, 2, 8, seed: 4);
        long[] labels = [0, 2, 3];
        using var result = Lrp.Explain(model, images, Tensor.FromArray(labels, labels.Length));
        var expectedLayers = innerRelu
            ? new[] { "input", "conv1", "relu#0", "conv2", "relu#1", "global_avg_pool2d#0", "reshape#0", "fc" }
            : new[] { "input", "conv1", "conv2", "relu#0", "global_avg_pool2d#0", "reshape#0", "fc" };
        Assert.That(result.Layers.Select(l => l.Name), Is.EqualTo(expectedLayers));

        model.Eval();
        var logits = model.Forward(Variable.Constant(images)).Data.ToDoubleArray();
        double epsilon = LrpOptions.Default.Epsilon;
        var belowLogits = labels.Select((c, n) => logits[n * 4 + c]).Select(z => z / (z + epsilon * Math.Sign(z))).ToArray();
        using (Assert.EnterMultipleScope())
        {
            foreach (var layer in result.Layers)
            {
                TestContext.Out.WriteLine($"{layer.Name}: Σ R per sample = {string.Join(", ", layer.SampleSums.Select(s => s.ToString("R")))}");
                var expected = layer.Name == "fc" ? [1.0, 1.0, 1.0] : belowLogits;
                for (int n = 0; n < labels.Length; n++)
                    Assert.That(layer.SampleSums[n], Is.EqualTo(expected[n]).Within(Conservation), $"{layer.Name}, sample {n}");
            }
        }
    }

    /// <summary>
    /// One 1×1 conv (no padding) on a 1×2 input, then ReLU, global average pool and a Linear with a bias, by hand.
    /// x = [[1, 2]] (1 channel; the first conv reads the pixels, so z^B with bounds [0, 4]), conv weights w = [2, −1]
    /// (2 output channels), fc weights [[1, 1]] and bias 1, start at class 0.
    ///   conv outputs: channel 0 = [2, 4], channel 1 = [−1, −2] → ReLU [0, 0]; GAP = [3, 0]; logit = 3 + 0 + 1 = 4.
    ///   ε-rule (ε = 0): R_gap = x·w/z = [3/4, 0]; GAP z-rule: channel 0 gets [2/6, 4/6]·3/4 = [1/4, 1/2].
    ///   z^B on channel 0 (w = 2 ≥ 0, so z_i = x·w − low·w = 2x): each output has one input, R_in = [1/4, 1/2].
    /// </summary>
    [Test]
    public void HandDerivedRelevanceThroughZBoxGlobalPoolAndEpsilon()
    {
        using var scope = TensorScope.Begin();
        var model = new Sequential(new Conv2d(1, 2, 1, new Rng(0), bias: false), new ReLU(), new GlobalAvgPool2d(), new Flatten(), new Linear(2, 1, new Rng(0)));
        var state = model.StateDict().ToDictionary(e => e.Name, e => e.Value);
        state["0.weight"] = Tensor.FromArray<float>([2, -1], 2, 1, 1, 1);
        state["4.weight"] = Tensor.FromArray<float>([1, 1], 1, 2);
        state["4.bias"] = Tensor.FromArray<float>([1], 1);
        model.LoadStateDict(state);
        var options = new LrpOptions { Epsilon = 0, PixelHigh = 4 };
        using var result = Lrp.Explain(model, Tensor.FromArray<float>([1, 2], 1, 1, 1, 2), null, options);
        using (Assert.EnterMultipleScope())
        {
            Assert.That(result.InputRelevance.ToDoubleArray(), Is.EqualTo(new[] { 0.25, 0.5 }).Within(1e-6));
            Assert.That(result.Layer("reshape#0").SampleSums, Is.EqualTo(new[] { 0.75 }).Within(1e-6), "the bias keeps 1/4");
            Assert.That(result.ChannelScores[(Conv2d)model.Layers[0]], Is.EqualTo(new[] { 0.75, 0.0 }).Within(1e-6));
        }
    }

    private static IEnumerable<TestCaseData> ZooModels()
    {
        yield return new TestCaseData(new ModelSpec { Architecture = "resnet20", Shortcut = "A" }, 16).SetName("resnet20 shortcut A");
        yield return new TestCaseData(new ModelSpec { Architecture = "resnet20", Shortcut = "B" }, 16).SetName("resnet20 shortcut B");
        yield return new TestCaseData(new ModelSpec { Architecture = "resnet18" }, 32).SetName("resnet18");
        yield return new TestCaseData(new ModelSpec { Architecture = "vgg11" }, 32).SetName("vgg11 cifar head");
        yield return new TestCaseData(new ModelSpec { Architecture = "vgg11", Head = "imagenet", WidthMultiplier = 0.125 }, 224).SetName("vgg11 imagenet head");
    }

    [TestCaseSource(nameof(ZooModels))]
    public void EveryZooFamilyGetsAFiniteNonNegativeScoreForEveryConvChannel(ModelSpec spec, int size)
    {
        using var scope = TensorScope.Begin();
        var model = ModelZoo.Create(spec, seed: 1);
        int n = size > 100 ? 1 : 2;
        using var result = Lrp.Explain(model, Pixels(n, 3, size, seed: 2), null);
        var convs = model.NamedModules().Where(m => m.Module is Conv2d).ToList();
        Assert.That(result.ChannelScores.Keys, Is.EquivalentTo(convs.Select(c => c.Module)));
        using (Assert.EnterMultipleScope())
        {
            foreach (var (name, module) in convs)
            {
                var scores = result.ChannelScores[(Conv2d)module];
                Assert.That(scores, Has.Length.EqualTo(((Conv2d)module).OutChannels), name);
                Assert.That(scores, Is.All.GreaterThanOrEqualTo(0).And.All.Not.NaN.And.All.Not.EqualTo(double.PositiveInfinity), name);
                Assert.That(scores.Sum(), Is.GreaterThan(0), $"{name}: no relevance reached it");
            }
            Assert.That(result.Layers[^1].SampleSums, Is.All.EqualTo(1.0), "the start relevance");
            Assert.That(result.InputRelevance.ToDoubleArray(), Is.All.Not.NaN, "input relevance");
        }
        TestContext.Out.WriteLine($"{spec.Architecture}: {convs.Count} convs, {result.Layers.Count} layers, input Σ R = {string.Join(", ", result.InputRelevance.Reshape(n, -1).Sum(1).ToDoubleArray())}");
    }

    [Test]
    public void ABatchNormThatFollowsNoConvIsRejected()
    {
        using var scope = TensorScope.Begin();
        var model = new Sequential(new BatchNorm2d(2), new Conv2d(2, 2, 1, new Rng(0)), new GlobalAvgPool2d(), new Flatten());
        var error = Assert.Throws<NotSupportedException>(() => Lrp.Explain(model, Pixels(1, 2, 2, seed: 1), null))!;
        Assert.That(error.Message, Does.Contain("batch norm 0 does not directly follow a conv"));
    }

    [Test]
    public void OptionsThatDoNotFitTheImagesAreRejected()
    {
        var model = new Chain(innerRelu: true, seed: 1);
        var images = Pixels(1, 2, 4, seed: 1);
        var mean = Assert.Throws<ArgumentException>(() => Lrp.Explain(model, images, null, new LrpOptions { Mean = [0.1, 0.2, 0.3] }))!;
        Assert.That(mean.Message, Does.Contain("mean has 3 values; the images have 2 channels"));
        var label = Assert.Throws<ArgumentException>(() => Lrp.Explain(model, images, Tensor.FromArray<long>([4], 1)))!;
        Assert.That(label.Message, Does.Contain("label 4 is outside the model's 4 classes"));
    }
}
