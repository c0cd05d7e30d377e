// LRP relevance against an independent PyTorch implementation of the same rules (data/reference/lrp.safetensors,
// written by data/reference/make_lrp_fixture.py): a small float32 network with every rule — z^B on the first conv,
// z⁺ on BN-fused convs (one with a bias, some γ negative), max-pool, an identity residual add, a padded average
// pool, a shortcut-A block (Slice, Slice, Pad), a shortcut-B block (projection conv + BN), global average pool,
// flatten and an ε Linear.
// Compared: the relevance at every layer's output and at the input, and every conv's channel scores.
using Standalone.Autograd;
using Standalone.Tests.Support;
using Standalone.Models.Nn;
using Standalone.Models.Zoo;
using Standalone.Pruning.Attribution;

namespace Standalone.Tests.Reference;

[TestFixture]
public sealed class LrpReferenceTests
{
    private const string Script = "data/reference/make_lrp_fixture.py";

    /// <summary>Logits: float32 forward of the fixture's float32 weights vs float64, through 8 conv layers.</summary>
    private static readonly Tolerance Logits = new(Relative: 1e-4, OfMax: 1e-5);

    /// <summary>
    /// Relevance and channel scores: float32 pass vs the float64 reference on the same float32 weights and images.
    /// Each rule divides by its layer's outputs, so the float32 rounding of the forward pass (~1e-7 relative) is
    /// amplified where an output z_j is small against the terms that make it up; measured worst cases are ~1e-6 of a
    /// layer's largest value, so 1e-4 of the layer's largest value (plus 1e-4 of each entry) fails any wrong rule,
    /// index, sign or fusion by orders of magnitude while leaving room for summation order.
    /// </summary>
    private static readonly Tolerance Relevance = new(Relative: 1e-4, OfMax: 1e-4);

    /// <summary>The fixture's network with its state-dict names (the zoo's BasicBlock for the three blocks).</summary>
    private sealed class FixtureNet : Module
    {
        private readonly Conv2d _conv1, _conv2;
        private readonly BatchNorm2d _bn1, _bn2;
        private readonly BasicBlock _layer1, _layer2, _layer3;
        private readonly Linear _fc;

        public FixtureNet()
        {
            var rng = new Rng(0);
            _conv1 = Register("conv1", new Conv2d(3, 8, 3, rng, padding: 1, bias: false));
            _bn1 = Register("bn1", new BatchNorm2d(8));
            _conv2 = Register("conv2", new Conv2d(8, 8, 3, rng, padding: 1));
            _bn2 = Register("bn2", new BatchNorm2d(8));
            _layer1 = Register("layer1", new BasicBlock(8, 8, 1, rng));
            _layer2 = Register("layer2", new BasicBlock(8, 16, 2, rng, ShortcutKind.ZeroPad));
            _layer3 = Register("layer3", new BasicBlock(16, 32, 2, rng, ShortcutKind.Projection));
            _fc = Register("fc", new Linear(32, 5, rng));
        }

        public override Variable Forward(Variable x)
        {
            var y = F.Relu(_bn1.Forward(_conv1.Forward(x)));
            y = F.MaxPool2d(F.Relu(_bn2.Forward(_conv2.Forward(y))), 2);
            y = F.AvgPool2d(_layer1.Forward(y), 3, 1, 1);
            y = _layer3.Forward(_layer2.Forward(y));
            return _fc.Forward(F.Flatten(F.GlobalAvgPool2d(y)));
        }
    }

    private static (FixtureNet Model, LrpOptions Options) Load(Fixture fixture)
    {
        var model = new FixtureNet();
        model.LoadStateDict(fixture.WithPrefix("state."));
        var options = new LrpOptions
        {
            Epsilon = double.Parse(fixture.Meta("epsilon"), System.Globalization.CultureInfo.InvariantCulture),
            Stabilizer = double.Parse(fixture.Meta("stabilizer"), System.Globalization.CultureInfo.InvariantCulture),
            Mean = fixture["mean"].ToDoubleArray(),
            Std = fixture["std"].ToDoubleArray(),
            KeepRelevance = true,
        };
        return (model, options);
    }

    [Test]
    public void RelevanceAtEveryLayerAndChannelScoresMatchPyTorch([ValueSource(typeof(TestBackends), nameof(TestBackends.All))] string device)
    {
        using var on = TestBackends.Use(device + "/Float32", out _);
        using var scope = TensorScope.Begin();
        using var fixture = Fixture.Load("lrp", Script);
        var (model, options) = Load(fixture);
        using var result = Lrp.Explain(model, fixture["x"], fixture["labels"], options);

        model.Eval();
        var logits = model.Forward(Variable.Constant(fixture["x"])).Data;
        var convs = model.NamedModules().Where(m => m.Module is Conv2d).ToList();
        using (Assert.EnterMultipleScope())
        {
            TensorAssert.Close(logits, fixture["logits"], Logits, "logits");
            Assert.That(result.Classes, Is.EqualTo(fixture["labels"].ToArray<long>()), "relevance starts at the labels");
            Assert.That(result.Layers.Select(l => "R." + l.Name), Is.EquivalentTo(fixture.Names.Where(n => n.StartsWith("R.", StringComparison.Ordinal))),
                "the engine's layers and the fixture's differ");
            foreach (var layer in result.Layers)
                TensorAssert.Close(layer.Relevance, fixture["R." + layer.Name], Relevance, "R." + layer.Name);
            Assert.That(convs.Select(c => "score." + c.Name), Is.EquivalentTo(fixture.Names.Where(n => n.StartsWith("score.", StringComparison.Ordinal))),
                "the model's convs and the fixture's scores differ");
            foreach (var (name, conv) in convs)
            {
                var scores = result.ChannelScores[(Conv2d)conv];
                TensorAssert.Close(Tensor.FromArray<double>(scores, new Shape(scores.Length), Standalone.Backends.Cpu.CpuBackend.Instance), fixture["score." + name], Relevance, "score." + name);
            }
            // The batch norms were fused for the pass only: every parameter and statistic is as loaded.
            foreach (var (name, value) in model.StateDict())
                TensorAssert.Equal(value, fixture["state." + name], "state." + name);
        }
    }

    [Test]
    public void WithoutLabelsRelevanceStartsAtThePredictedClass()
    {
        using var scope = TensorScope.Begin();
        using var fixture = Fixture.Load("lrp", Script);
        var (model, options) = Load(fixture);
        var predicted = fixture["logits"].ArgMax(1);
        using var unlabelled = Lrp.Explain(model, fixture["x"], null, options);
        using var predictedStart = Lrp.Explain(model, fixture["x"], fixture["labels"], options with { Start = LrpStart.Predicted });
        using var atPrediction = Lrp.Explain(model, fixture["x"], predicted, options);
        using (Assert.EnterMultipleScope())
        {
            Assert.That(unlabelled.Classes, Is.EqualTo(predicted.ToArray<long>()));
            Assert.That(predictedStart.Classes, Is.EqualTo(predicted.ToArray<long>()));
            TensorAssert.Equal(unlabelled.InputRelevance, atPrediction.InputRelevance, "input relevance without labels vs labelled at the prediction");
            TensorAssert.Equal(predictedStart.InputRelevance, atPrediction.InputRelevance, "input relevance with LrpStart.Predicted vs labelled at the prediction");
        }
    }
}
