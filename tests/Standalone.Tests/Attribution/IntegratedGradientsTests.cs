// Integrated gradients: exact on a linear model (IG = (x − x')·w_t for any step count, since the gradient is w_t
// everywhere), completeness within a Riemann tolerance that shrinks from 8 to 64 steps on a small conv net, target
// selection (predicted by default, any class on request, a clear error outside the classes), batching that does
// not change the result, eval mode and the parameters' gradients left as they were.
using Standalone.Autograd;
using Standalone.Models.Nn;
using Standalone.Pruning.Attribution;
using Standalone.Tests.Support;

namespace Standalone.Tests.Attribution;

[TestFixtureSource(typeof(TestBackends), nameof(TestBackends.All))]
public sealed class IntegratedGradientsTests(string device) : BackendTest(device)
{
    private const int Channels = 2, Height = 5, Width = 4, Classes = 3;
    /// <summary>Float64 sums of S equal float32 gradients divided by S: exact up to double rounding.</summary>
    private const double LinearTolerance = 1e-12;
    /// <summary>Σ attributions vs f(x) − f(x') of a linear model: the forward pass runs in float32.</summary>
    private const double Float32Tolerance = 1e-5;
    /// <summary>Batching only regroups the same float32 gradients before their float64 sum.</summary>
    private const double BatchingTolerance = 1e-9;
    /// <summary>
    /// Σ attributions is the right Riemann sum (1/S) Σ_k g'(k/S) of g(α) = f_t(x' + α(x − x')), whose error is at most
    /// TV(g')/S (the total variation of g' on [0, 1]). For the conv net and image below TV(g') is about 2–3 |f(x) − f(x')|
    /// (gaps measured: 0.0134 at 8 steps, 0.0020 at 64, for f(x) − f(x') = 0.049), so the tolerance is 4 |Δf| / S.
    /// </summary>
    private const double RiemannConstant = 4;

    private static Tensor Image(ulong seed) => Tensor.RandomNormal(new Shape(Channels, Height, Width), 0, 1, new Rng(seed));

    private static (Sequential Model, Linear Layer) LinearModel()
    {
        var layer = new Linear(Channels * Height * Width, Classes, new Rng(3));
        return (new Sequential(new Flatten(), layer), layer);
    }

    /// <summary>conv → BN → ReLU → conv → ReLU → global average pool → linear: piecewise linear with many kinks.</summary>
    private static Sequential ConvModel()
    {
        var rng = new Rng(7);
        return new Sequential(new Conv2d(Channels, 6, 3, rng, padding: 1), new BatchNorm2d(6), new ReLU(),
            new Conv2d(6, 6, 3, rng, padding: 1), new ReLU(), new GlobalAvgPool2d(), new Flatten(), new Linear(6, Classes, rng));
    }

    [TestCase(1)]
    [TestCase(3)]
    [TestCase(32)]
    public void OnALinearModelAttributionIsInputMinusBaselineTimesTheWeight(int steps)
    {
        var (model, layer) = LinearModel();
        using var x = Image(1);
        using var baseline = Image(2);
        const int target = 2;

        var result = IntegratedGradients.Compute(model, x, baseline, target, steps);

        double[] xs = x.ToDoubleArray(), bs = baseline.ToDoubleArray(), w = layer.Weight.Data.ToDoubleArray();
        int features = xs.Length;
        var expected = Enumerable.Range(0, features).Select(i => (xs[i] - bs[i]) * w[target * features + i]).ToArray();
        Assert.That(result.PerChannel, Is.EqualTo(expected).Within(LinearTolerance));
        Assert.That(result.Target, Is.EqualTo(target));
        Assert.That(result.CompletenessGap, Is.EqualTo(0).Within(Float32Tolerance));
        // Per pixel = the two channels' attributions added.
        Assert.That(result.PerPixel[7], Is.EqualTo(expected[7] + expected[Height * Width + 7]).Within(LinearTolerance));
    }

    [Test]
    public void CompletenessGapShrinksAsStepsGrow()
    {
        var model = ConvModel();
        using var x = Image(4);
        using var baseline = IntegratedGradients.BlackBaseline([0.5f, 0.4f], [0.25f, 0.3f], Height, Width);

        var coarse = IntegratedGradients.Compute(model, x, baseline, steps: 8);
        var fine = IntegratedGradients.Compute(model, x, baseline, steps: 64);

        TestContext.Out.WriteLine($"f(x) − f(x') = {fine.OutputDifference:G6}; gap at 8 steps {coarse.CompletenessGap:G4}, at 64 steps {fine.CompletenessGap:G4}");
        foreach (var result in new[] { coarse, fine })
            Assert.That(Math.Abs(result.CompletenessGap), Is.LessThanOrEqualTo(RiemannConstant * Math.Abs(result.OutputDifference) / result.Steps),
                $"{result.Steps} steps");
        // An O(1/S) error drops about 8× from 8 to 64 steps; ask for at least 4×.
        Assert.That(Math.Abs(fine.CompletenessGap), Is.LessThan(Math.Abs(coarse.CompletenessGap) / 4));
        Assert.That(fine.OutputDifference, Is.EqualTo(coarse.OutputDifference), "both ends of the path are the same forward passes");
    }

    [Test]
    public void TargetDefaultsToThePredictedClassAndAnyClassCanBeChosen()
    {
        var model = ConvModel();
        using var x = Image(5);
        using var baseline = Tensor.Zeros(x.Shape);
        var predicted = IntegratedGradients.Compute(model, x, baseline, steps: 4);

        using (Grad.Disabled())
        {
            model.Eval();
            var logits = model.Forward(Variable.Constant(x.Reshape(1, Channels, Height, Width))).Data.ToFloatArray();
            Assert.That(predicted.Target, Is.EqualTo(Array.IndexOf(logits, logits.Max())));
            Assert.That(predicted.Logits, Is.EqualTo(logits).Within(1e-6));
        }
        Assert.That(predicted.Predicted, Is.EqualTo(predicted.Target));

        int other = (predicted.Target + 1) % Classes;
        var chosen = IntegratedGradients.Compute(model, x, baseline, other, steps: 4);
        Assert.That(chosen.Target, Is.EqualTo(other));
        Assert.That(chosen.Predicted, Is.EqualTo(predicted.Target));
        Assert.That(chosen.OutputDifference, Is.EqualTo((double)chosen.Logits[other] - chosen.BaselineLogits[other]));
        Assert.That(chosen.PerChannel, Is.Not.EqualTo(predicted.PerChannel));

        var error = Assert.Throws<ArgumentException>(() => IntegratedGradients.Compute(model, x, baseline, Classes))!;
        Assert.That(error.Message, Does.Contain($"target class {Classes} is outside the model's {Classes} classes"));
    }

    [Test]
    public void BatchSizeDoesNotChangeTheResult()
    {
        var model = ConvModel();
        using var x = Image(6);
        using var baseline = Tensor.Zeros(x.Shape);
        var whole = IntegratedGradients.Compute(model, x, baseline, steps: 10, batchSize: 10);
        foreach (int batchSize in new[] { 1, 3, 64 })
            Assert.That(IntegratedGradients.Compute(model, x, baseline, steps: 10, batchSize: batchSize).PerChannel,
                Is.EqualTo(whole.PerChannel).Within(BatchingTolerance), $"batch size {batchSize}");
    }

    [Test]
    public void RunsInEvalModeAndLeavesTrainingModeAndParameterGradientsAsTheyWere()
    {
        var model = ConvModel();
        using var x = Image(8);
        using var baseline = Tensor.Zeros(x.Shape);
        var first = model.Parameters().First();
        first.Grad = Tensor.Full(first.Shape, 0.5);
        model.Train();

        var result = IntegratedGradients.Compute(model, x, baseline, steps: 16);

        Assert.That(model.Training, Is.True);
        Assert.That(first.Grad!.ToDoubleArray(), Is.All.EqualTo(0.5));
        Assert.That(model.Parameters().Skip(1).Select(p => p.Grad), Is.All.Null);
        // In training mode batch norm would normalise over the batch of path points and the ends would not match a
        // one-image pass; in eval mode they do.
        model.Eval();
        using (Grad.Disabled())
        {
            var logits = model.Forward(Variable.Constant(x.Reshape(1, Channels, Height, Width))).Data.ToFloatArray();
            Assert.That(result.Logits, Is.EqualTo(logits).Within(1e-6));
        }
    }

    [Test]
    public void BlackBaselineIsPixelZeroNormalised()
    {
        // (0 − 0.5)/0.25 = −2 in channel 0, (0 − 0.3)/0.1 = −3 in channel 1.
        using var baseline = IntegratedGradients.BlackBaseline([0.5f, 0.3f], [0.25f, 0.1f], 2, 3);
        Assert.That(baseline.Shape, Is.EqualTo(new Shape(2, 2, 3)));
        Assert.That(baseline.ToFloatArray(), Is.EqualTo(new[] { -2f, -2, -2, -2, -2, -2, -3, -3, -3, -3, -3, -3 }).Within(1e-6));
    }
}
