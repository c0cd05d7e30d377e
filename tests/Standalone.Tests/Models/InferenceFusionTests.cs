// Pure inference fuses layers (InferenceFusion): Conv2d.Forward(x, bn, relu) folds a batch norm into the convolution
// and applies the ReLU as the output is written; ReLU.OfSum adds and clips a residual sum in one pass. The fused
// primitives must equal the separate ones exactly; fused and separate passes must give the same outputs (to float32
// rounding) on every architecture that uses them — ResNet basic blocks and stems, bottlenecks, VGG's Sequential
// features with conv biases — and nothing that records or trains may see a fusion.
using Standalone.Autograd;
using Standalone.Backends;
using Standalone.Models.Nn;
using Standalone.Models.Zoo;
using Standalone.Tests.Support;

namespace Standalone.Tests.Models;

[TestFixtureSource(typeof(TestBackends), nameof(TestBackends.All))]
public sealed class InferenceFusionTests(string device) : BackendTest(device)
{
    /// <summary>Relative to the largest logit: the folded weights round differently from the separate normalisation.</summary>
    private const double Tolerance = 1e-5;

    [TearDown]
    public void RestoreFusion() => InferenceFusion.Enabled = true;

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

    /// <summary>(stride, padding, kernel): the implicit GEMM at stride 1 and 2, the strided 1×1 (im2col) and the pointwise path.</summary>
    [TestCase(1, 1, 3)]
    [TestCase(2, 1, 3)]
    [TestCase(2, 0, 1)]
    [TestCase(1, 0, 1)]
    public void ConvolutionWithReluEqualsTheConvolutionThenRelu(int stride, int padding, int kernel)
    {
        using var scope = TensorScope.Begin();
        var rng = new Rng(21);
        using var x = Tensor.RandomNormal(new Shape(3, 5, 9, 11), 0, 1, rng);
        using var w = Tensor.RandomNormal(new Shape(7, 5, kernel, kernel), 0, 0.3, rng);
        using var b = Tensor.RandomNormal(new Shape(7), 0, 0.5, rng);
        var p = new Conv2dParams(stride, stride, padding, padding, 1, 1, 1);
        foreach (var bias in new[] { b, null })
        {
            using var fused = Tensor.Conv2d(x, w, bias, p, relu: true);
            using var plain = Tensor.Conv2d(x, w, bias, p);
            using var separate = plain.Relu();
            var expected = separate.ToArray<float>();
            Assert.That(expected.Count(v => v == 0), Is.InRange(expected.Length / 5, expected.Length * 4 / 5), "about half the outputs should be clipped");
            Assert.That(fused.ToArray<float>(), Is.EqualTo(expected), bias == null ? "without bias" : "with bias");
        }
    }

    [Test]
    public void AddReluEqualsTheSumThenRelu()
    {
        using var scope = TensorScope.Begin();
        var rng = new Rng(31);
        using var a = Tensor.RandomNormal(new Shape(4, 6, 5, 7), 0, 1, rng);
        using var b = Tensor.RandomNormal(new Shape(4, 6, 5, 7), 0, 1, rng);
        using var fused = a.Apply(BinaryOp.AddRelu, b);
        using var sum = a.Add(b);
        using var separate = sum.Relu();
        Assert.That(fused.ToArray<float>(), Is.EqualTo(separate.ToArray<float>()));
    }

    [TestCase("resnet20", 1, 16)]
    [TestCase("resnet50", 3, 32)]
    [TestCase("vgg11", 3, 32)]
    public void FoldedInferenceMatchesTheSeparateLayers(string architecture, int channels, int size)
    {
        var spec = new ModelSpec { Architecture = architecture, InChannels = channels, NumClasses = 4, WidthMultiplier = architecture == "vgg11" ? 0.125 : 1 };
        var model = WithRandomBatchNorms(spec);
        using var x = Tensor.RandomNormal(new Shape(3, channels, size, size), 0, 1, new Rng(42));

        InferenceFusion.Enabled = false;
        var separate = Logits(model, x);
        InferenceFusion.Enabled = true;
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
