// Conv2d.Forward(x, bn) folds a batch norm into the convolution in pure inference. Folded and unfolded passes must
// give the same outputs (to float32 rounding) on every architecture that uses it — ResNet basic blocks and stems,
// bottlenecks, VGG's Sequential features with conv biases — and nothing that records or trains may see a fold.
using Standalone.Autograd;
using Standalone.Models.Nn;
using Standalone.Models.Zoo;
using Standalone.Tests.Support;

namespace Standalone.Tests.Models;

[TestFixtureSource(typeof(TestBackends), nameof(TestBackends.All))]
public sealed class BatchNormFoldingTests(string device) : BackendTest(device)
{
    /// <summary>Relative to the largest logit: the folded weights round differently from the separate normalisation.</summary>
    private const double Tolerance = 1e-5;

    [TearDown]
    public void RestoreFolding() => Conv2d.FoldBatchNorm = true;

    /// <summary>A model whose batch norms are far from the identity — γ, β and the running statistics drawn at random
    /// (an untouched model would fold to its own weights) — in evaluation mode.</summary>
    private static Module WithRandomBatchNorms(ModelSpec spec)
    {
        var model = ModelZoo.Create(spec, seed: 11);
        var rng = new Rng(12);
        foreach (var bn in model.NamedModules().Select(m => m.Module).OfType<BatchNorm2d>())
        {
            var shape = new Shape(bn.Channels);
            using var gamma = Tensor.RandomUniform(shape, 0.5, 1.5, rng);
            using var beta = Tensor.RandomNormal(shape, 0, 0.2, rng);
            using var mean = Tensor.RandomNormal(shape, 0, 0.2, rng);
            using var variance = Tensor.RandomUniform(shape, 1, 3, rng);
            bn.Weight.Data.CopyFrom(gamma);
            bn.Bias.Data.CopyFrom(beta);
            bn.RunningMean.CopyFrom(mean);
            bn.RunningVar.CopyFrom(variance);
        }
        model.Eval();
        return model;
    }

    private static float[] Logits(Module model, Tensor x)
    {
        using var scope = TensorScope.Begin();
        using var noGrad = Grad.Disabled();
        return model.Forward(Variable.Constant(x)).Data.ToArray<float>();
    }

    [TestCase("resnet20", 1, 16)]
    [TestCase("resnet50", 3, 32)]
    [TestCase("vgg11", 3, 32)]
    public void FoldedInferenceMatchesTheSeparateLayers(string architecture, int channels, int size)
    {
        var spec = new ModelSpec { Architecture = architecture, InChannels = channels, NumClasses = 4, WidthMultiplier = architecture == "vgg11" ? 0.125 : 1 };
        var model = WithRandomBatchNorms(spec);
        using var x = Tensor.RandomNormal(new Shape(3, channels, size, size), 0, 1, new Rng(42));

        Conv2d.FoldBatchNorm = false;
        var separate = Logits(model, x);
        Conv2d.FoldBatchNorm = true;
        var folded = Logits(model, x);

        double scale = separate.Max(v => Math.Abs(v)), worst = 0;
        for (int i = 0; i < separate.Length; i++) worst = Math.Max(worst, Math.Abs(folded[i] - separate[i]));
        TestContext.Out.WriteLine($"{architecture}: max |folded − separate| = {worst:E2} of logits up to {scale:F3}");
        Assert.That(scale, Is.InRange(0.1, 1e3), "the logits should be neither trivially small nor huge");
        Assert.That(worst, Is.LessThanOrEqualTo(Tolerance * scale));
    }

    [Test]
    public void RecordedPassesKeepEveryBatchNorm()
    {
        // With the tape on (attribution, ModelTrace, the ONNX exporter), every batch norm stays an op of its own.
        var model = WithRandomBatchNorms(new ModelSpec { Architecture = "resnet20", InChannels = 1, NumClasses = 4 });
        using var x = Tensor.RandomNormal(new Shape(2, 1, 16, 16), 0, 1, new Rng(1));
        using var trace = ModelTrace.Record(model, x);
        int batchNorms = model.NamedModules().Select(m => m.Module).OfType<BatchNorm2d>().Count();
        Assert.That(trace.Nodes.Count(n => n.Op is BatchNormOp), Is.EqualTo(batchNorms));
    }

    [Test]
    public void TrainingModeWithoutGradientsStillUpdatesTheRunningStatistics()
    {
        var model = ModelZoo.Create(new ModelSpec { Architecture = "resnet20", InChannels = 1, NumClasses = 4 }, seed: 2);
        model.Train();
        var bn = model.NamedModules().Select(m => m.Module).OfType<BatchNorm2d>().First();
        var before = bn.RunningMean.ToArray<float>();
        using (var scope = TensorScope.Begin())
        using (Grad.Disabled())
        using (var x = Tensor.RandomNormal(new Shape(4, 1, 16, 16), 3, 1, new Rng(4)))
            model.Forward(Variable.Constant(x));
        Assert.That(bn.RunningMean.ToArray<float>(), Is.Not.EqualTo(before), "a training-mode pass must not be folded");
    }
}
