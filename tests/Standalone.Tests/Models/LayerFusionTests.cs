// Layer fusion (LayerFusion, Conv2d.Forward(x, bn, relu, residual)). Pure inference folds a batch norm into the
// convolution and applies the ReLU as the output is written, and adds and clips a residual sum in one pass. A training
// step (tape on, no ModelTrace) runs batch norm → (+ residual) → ReLU as one op, F.BatchNorm2dRelu. The fused
// primitives must equal the separate ones exactly; fused and separate passes must give the same outputs and gradients
// (to float32 rounding) on every architecture that uses them — ResNet basic blocks and stems, bottlenecks, VGG's
// Sequential features with conv biases — and nothing that records a trace may see a fusion.
using Standalone.Autograd;
using Standalone.Backends;
using Standalone.Models.Nn;
using Standalone.Models.Zoo;
using Standalone.Tests.Support;

namespace Standalone.Tests.Models;

[TestFixtureSource(typeof(TestBackends), nameof(TestBackends.All))]
public sealed class LayerFusionTests(string device) : BackendTest(device)
{
    /// <summary>Relative to the largest logit: the folded weights round differently from the separate normalisation.</summary>
    private const double Tolerance = 1e-5;

    [TearDown]
    public void RestoreFusion() => LayerFusion.Enabled = true;

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

    /// <summary>
    /// x, w (channels → outputs, both default: 9 → 7 at 32×32, where 8 or more input channels take the implicit path's
    /// masked rows, else 5 → 7), a bias and the geometry of one fused-convolution case; size 0 is a 9×11 input.
    /// </summary>
    private static (Tensor X, Tensor W, Tensor B, Conv2dParams P) ConvolutionCase(Rng rng, int stride, int padding, int kernel, int size, int channels)
    {
        int inputs = channels > 0 ? channels : size == 32 ? 9 : 5, outputs = channels > 0 ? channels : 7;
        var x = Tensor.RandomNormal(size == 0 ? new Shape(3, inputs, 9, 11) : new Shape(3, inputs, size, size), 0, 1, rng);
        var w = Tensor.RandomNormal(new Shape(outputs, inputs, kernel, kernel), 0, 0.3, rng);
        var b = Tensor.RandomNormal(new Shape(outputs), 0, 0.5, rng);
        return (x, w, b, new Conv2dParams(stride, stride, padding, padding, 1, 1, 1));
    }

    /// <summary>(stride, padding, kernel, size, channels) of the fused-convolution cases: the implicit GEMM at stride 1
    /// and 2, the strided 1×1 (im2col), the pointwise path, (8×8 and 16×16) direct convolution, (32×32) the implicit
    /// path's masked rows, (1×1 stride 2 at 16×16) the strided pointwise masked tile, (3×3 stride 2 at 16×16) the
    /// direct phase planes and (16 channels) the Winograd path, at 14×14 with a partial block of tiles.</summary>
    private static readonly object[] FusedConvolutions =
    [
        new object[] { 1, 1, 3, 0, 0 }, new object[] { 2, 1, 3, 0, 0 }, new object[] { 2, 0, 1, 0, 0 }, new object[] { 2, 0, 1, 16, 0 },
        new object[] { 1, 0, 1, 0, 0 }, new object[] { 1, 1, 3, 8, 0 }, new object[] { 1, 1, 3, 16, 0 }, new object[] { 1, 1, 3, 32, 0 },
        new object[] { 2, 1, 3, 16, 0 }, new object[] { 1, 1, 3, 8, 16 }, new object[] { 1, 1, 3, 16, 16 }, new object[] { 1, 1, 3, 14, 16 },
    ];

    [TestCaseSource(nameof(FusedConvolutions))]
    public void ConvolutionWithReluEqualsTheConvolutionThenRelu(int stride, int padding, int kernel, int size, int channels)
    {
        using var scope = TensorScope.Begin();
        var (x, w, b, p) = ConvolutionCase(new Rng(21), stride, padding, kernel, size, channels);
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

    /// <summary>The residual added as the output is written (the masked-tile paths, Winograd's epilogue) or in a pass
    /// after it (the others), with and without bias and ReLU, must equal the convolution, then the sum, then the ReLU,
    /// bit for bit. Seven outputs: a partial panel.</summary>
    [TestCaseSource(nameof(FusedConvolutions))]
    public void ConvolutionWithResidualEqualsTheSeparateOps(int stride, int padding, int kernel, int size, int channels)
    {
        using var scope = TensorScope.Begin();
        var rng = new Rng(23);
        var (x, w, b, p) = ConvolutionCase(rng, stride, padding, kernel, size, channels);
        using var plainShape = Tensor.Conv2d(x, w, null, p);
        using var residual = Tensor.RandomNormal(plainShape.Shape, 0, 1, rng);
        foreach (var bias in new[] { b, null })
            foreach (bool relu in new[] { true, false })
            {
                using var fused = Tensor.Conv2d(x, w, bias, p, relu, residual);
                using var plain = Tensor.Conv2d(x, w, bias, p);
                using var separate = plain.Apply(relu ? BinaryOp.AddRelu : BinaryOp.Add, residual);
                var expected = separate.ToArray<float>();
                if (relu) Assert.That(expected.Count(v => v == 0), Is.InRange(expected.Length / 5, expected.Length * 4 / 5), "about half the outputs should be clipped");
                Assert.That(fused.ToArray<float>(), Is.EqualTo(expected), $"{(bias == null ? "without" : "with")} bias, relu {relu}");
            }
    }

    [Test]
    public void ConvolutionRejectsAResidualOfAnotherShape()
    {
        using var scope = TensorScope.Begin();
        using var x = Tensor.Zeros(new Shape(2, 3, 8, 8), backend: Backend);
        using var w = Tensor.Zeros(new Shape(4, 3, 3, 3), backend: Backend);
        using var residual = Tensor.Zeros(new Shape(2, 4, 6, 6), backend: Backend);
        var error = Assert.Throws<ArgumentException>(() => Tensor.Conv2d(x, w, null, new Conv2dParams(1, 1, 0, 0, 1, 1, 1), residual: residual.Reshape(2, 4, 3, 12)));
        Assert.That(error!.Message, Does.Contain("residual").And.Contain("[2, 4, 6, 6]"));
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

    /// <summary>The image side: ResNet-50 takes 16 on the simulator, where a training step at 32 takes a minute.</summary>
    private int SideOf(string architecture, int size) => OnSimulator && architecture == "resnet50" ? 16 : size;

    [TestCase("resnet20", 1, 16)]
    [TestCase("resnet50", 3, 32)]
    [TestCase("vgg11", 3, 32)]
    public void FoldedInferenceMatchesTheSeparateLayers(string architecture, int channels, int size)
    {
        var spec = new ModelSpec { Architecture = architecture, InChannels = channels, NumClasses = 4, WidthMultiplier = architecture == "vgg11" ? 0.125 : 1 };
        var model = WithRandomBatchNorms(spec);
        using var x = Tensor.RandomNormal(new Shape(3, channels, SideOf(architecture, size), SideOf(architecture, size)), 0, 1, new Rng(42));

        LayerFusion.Enabled = false;
        var separate = Logits(model, x);
        LayerFusion.Enabled = true;
        var folded = Logits(model, x);

        double scale = separate.Max(v => Math.Abs(v)), worst = 0;
        for (int i = 0; i < separate.Length; i++) worst = Math.Max(worst, Math.Abs(folded[i] - separate[i]));
        TestContext.Out.WriteLine($"{architecture}: max |folded − separate| = {worst:E2} of logits up to {scale:F3}");
        Assert.That(scale, Is.InRange(0.1, 1e3), "the logits should be neither trivially small nor huge");
        Assert.That(worst, Is.LessThanOrEqualTo(Tolerance * scale));
    }

    [TestCase(true, false)]
    [TestCase(true, true)]
    [TestCase(false, true)]
    public void BatchNormReluEqualsTheSeparateOps(bool training, bool residual)
    {
        // Values and every gradient (x, γ, β, the residual) of the fused op against batch norm, add and ReLU one by one.
        var rng = new Rng(51);
        using var x = Tensor.RandomNormal(new Shape(4, 6, 5, 7), 0.3, 1.5, rng);
        using var r = Tensor.RandomNormal(new Shape(4, 6, 5, 7), 0, 1, rng);
        using var gamma = Tensor.RandomUniform(new Shape(6), 0.5, 1.5, rng);
        using var beta = Tensor.RandomNormal(new Shape(6), 0, 0.5, rng);
        using var dz = Tensor.RandomNormal(new Shape(4, 6, 5, 7), 0, 1, rng);
        (float[] Z, float[][] Grads, float[] Mean) Run(bool fused)
        {
            using var scope = TensorScope.Begin();
            var inputs = new[] { new Variable(x.Clone(), true), Variable.Parameter(gamma.Clone()), Variable.Parameter(beta.Clone()), new Variable(r.Clone(), true) };
            using var mean = Tensor.Zeros(new Shape(6));
            using var variance = Tensor.Ones(new Shape(6));
            Variable? res = residual ? inputs[3] : null;
            Variable z;
            if (fused) z = F.BatchNorm2dRelu(inputs[0], inputs[1], inputs[2], mean, variance, training, res);
            else
            {
                var y = F.BatchNorm2d(inputs[0], inputs[1], inputs[2], mean, variance, training);
                z = F.Relu(res is null ? y : F.Add(y, res));
            }
            z.Backward(dz);
            var grads = inputs.Take(residual ? 4 : 3).Select(v => v.Grad!.ToArray<float>()).ToArray();
            return (z.Data.ToArray<float>(), grads, mean.ToArray<float>());
        }
        var separate = Run(fused: false);
        var fused = Run(fused: true);
        Assert.That(separate.Z.Count(v => v == 0), Is.InRange(separate.Z.Length / 5, separate.Z.Length * 4 / 5), "about half the outputs should be clipped");
        Assert.That(fused.Z, Is.EqualTo(separate.Z), "values");
        Assert.That(fused.Mean, Is.EqualTo(separate.Mean), "running mean");
        string[] names = ["x", "gamma", "beta", "residual"];
        for (int i = 0; i < separate.Grads.Length; i++)
            Assert.That(fused.Grads[i], Is.EqualTo(separate.Grads[i]).Within(1e-5), $"gradient of {names[i]}");
    }

    [TestCase("resnet20", 1, 16)]
    [TestCase("resnet50", 3, 32)]
    [TestCase("vgg11", 3, 32)]
    public void FusedTrainingStepMatchesTheSeparateLayers(string architecture, int channels, int size)
    {
        // A training-mode forward and backward: loss, every parameter gradient and the running statistics.
        var spec = new ModelSpec { Architecture = architecture, InChannels = channels, NumClasses = 4, WidthMultiplier = architecture == "vgg11" ? 0.125 : 1 };
        using var x = Tensor.RandomNormal(new Shape(3, channels, SideOf(architecture, size), SideOf(architecture, size)), 0, 1, new Rng(43));
        using var labels = Tensor.FromArray<long>([0, 3, 1], new Shape(3));
        (float Loss, float[][] Grads, float[][] Stats) Step(bool fused)
        {
            LayerFusion.Enabled = fused;
            var model = WithRandomBatchNorms(spec);
            model.Train();
            using var scope = TensorScope.Begin();
            var loss = F.CrossEntropy(model.Forward(Variable.Constant(x)), labels);
            loss.Backward();
            var grads = model.Parameters().Select(p => p.Grad!.ToArray<float>()).ToArray();
            var stats = model.NamedModules().Select(m => m.Module).OfType<BatchNorm2d>().Select(bn => bn.RunningVar.ToArray<float>()).ToArray();
            return (loss.Data.ToArray<float>()[0], grads, stats);
        }
        var separate = Step(fused: false);
        var fused = Step(fused: true);
        Assert.That(fused.Loss, Is.EqualTo(separate.Loss).Within(1e-5 * Math.Abs(separate.Loss)), "loss");
        double worst = 0;
        for (int i = 0; i < separate.Grads.Length; i++)
        {
            double scale = Math.Max(1e-3, separate.Grads[i].Max(v => Math.Abs(v)));
            for (int j = 0; j < separate.Grads[i].Length; j++) worst = Math.Max(worst, Math.Abs(fused.Grads[i][j] - separate.Grads[i][j]) / scale);
        }
        TestContext.Out.WriteLine($"{architecture}: loss {separate.Loss:F5}, max gradient difference {worst:E2} of each parameter's largest");
        Assert.That(worst, Is.LessThan(1e-4), "parameter gradients");
        for (int i = 0; i < separate.Stats.Length; i++) Assert.That(fused.Stats[i], Is.EqualTo(separate.Stats[i]).Within(1e-6), $"running variance {i}");
    }

    [Test]
    public void RecordedPassesKeepEveryBatchNorm()
    {
        // With a trace recording (attribution, pruning's graph, the ONNX exporter), every batch norm stays an op of its
        // own, in evaluation and training mode alike.
        var model = WithRandomBatchNorms(new ModelSpec { Architecture = "resnet20", InChannels = 1, NumClasses = 4 });
        using var x = Tensor.RandomNormal(new Shape(2, 1, 16, 16), 0, 1, new Rng(1));
        int batchNorms = model.NamedModules().Select(m => m.Module).OfType<BatchNorm2d>().Count();
        foreach (bool training in new[] { false, true })
        {
            using var trace = ModelTrace.Record(model, x, training);
            Assert.That(trace.Nodes.Count(n => n.Op is BatchNormOp), Is.EqualTo(batchNorms), $"training={training}");
            Assert.That(trace.Nodes.Count(n => n.Op is BatchNormReluOp), Is.Zero, $"training={training}");
        }
    }

    [Test]
    public void UnrecordedPassesFuseBatchNormAndRelu()
    {
        // The tape of a training step: every batch norm but the shortcuts' carries its ReLU (and the residual sum).
        var model = ModelZoo.Create(new ModelSpec { Architecture = "resnet20", InChannels = 1, NumClasses = 4 }, seed: 3);
        model.Train();
        using var scope = TensorScope.Begin();
        using var x = Tensor.RandomNormal(new Shape(2, 1, 16, 16), 0, 1, new Rng(1));
        var logits = model.Forward(Variable.Constant(x));
        var nodes = new List<Node>();
        var pending = new Stack<Node>([logits.Creator!]);
        var seen = new HashSet<Node>(ReferenceEqualityComparer.Instance);
        while (pending.Count > 0)
        {
            var node = pending.Pop();
            if (!seen.Add(node)) continue;
            nodes.Add(node);
            foreach (var input in node.Inputs) if (input.Creator is { } c) pending.Push(c);
        }
        Assert.That(nodes.Count(n => n.Op is BatchNormReluOp { Residual: false }), Is.EqualTo(10), "the stem and each block's first batch norm");
        Assert.That(nodes.Count(n => n.Op is BatchNormReluOp { Residual: true }), Is.EqualTo(9), "each block's second batch norm with its residual sum");
        Assert.That(nodes.Count(n => n.Op is BatchNormOp), Is.EqualTo(2), "the two projection shortcuts");
        Assert.That(nodes.Count(n => n.Op.Name is "relu" or "add"), Is.Zero);
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
