// Cross-entropy against PyTorch (data/reference/cross_entropy.safetensors): one batch of logits [7, 5] and Int64
// labels, the loss and dLogits for reduction mean and sum, each without and with label smoothing 0.1.
using System.Globalization;
using Standalone.Autograd;
using Standalone.Tests.Support;

namespace Standalone.Tests.Reference;

[TestFixture]
public sealed class CrossEntropyReferenceTests
{
    /// <summary>The number of cases make_fixtures.py writes (CE_CASES).</summary>
    private const int CaseCount = 4;

    [Test]
    public void FixtureHoldsEveryCase()
    {
        using var fixture = Fixture.Load("cross_entropy");
        fixture.RequireCases(CaseCount);
    }

    [Test]
    public void LossAndGradientMatchPyTorch([Range(0, CaseCount - 1)] int index, [ValueSource(typeof(TestBackends), nameof(TestBackends.Precisions))] string on)
    {
        using var device = TestBackends.Use(on, out var dtype);
        using var scope = TensorScope.Begin();
        using var fixture = Fixture.Load("cross_entropy");
        string c = $"case{index}";
        var settings = fixture.Settings(c);
        var reduction = settings["reduction"] switch
        {
            "mean" => Reduction.Mean,
            "sum" => Reduction.Sum,
            var other => throw new AssertionException($"{c}: unknown reduction '{other}' in the fixture"),
        };
        double smoothing = double.Parse(settings["label_smoothing"], CultureInfo.InvariantCulture);
        var tolerance = Tolerances.For(dtype);

        var logits = Variable.Parameter(fixture["logits"].To(dtype), "logits");
        var loss = F.CrossEntropy(logits, fixture["labels"], smoothing, reduction);
        loss.Backward();

        using (Assert.EnterMultipleScope())
        {
            TensorAssert.Close(loss.Data, fixture[$"{c}.loss"], tolerance, $"{c} ({fixture.Meta(c)}) loss");
            TensorAssert.Close(logits.Grad, fixture[$"{c}.dLogits"], tolerance, $"{c} dLogits");
        }
    }
}
