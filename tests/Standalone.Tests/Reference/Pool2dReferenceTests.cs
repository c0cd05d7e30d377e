// Max and average pooling against PyTorch (data/reference/pool2d.safetensors): max 2×2 s2 and 3×3 s2 p1 (inputs
// without ties, so the argmax is unambiguous), average 2×2 s2 on an odd-sized input (the last row and column get no
// gradient) and 3×3 s1 p1 counting the padded zeros (count_include_pad=True).
using System.Globalization;
using Standalone.Autograd;
using Standalone.Tests.Support;

namespace Standalone.Tests.Reference;

[TestFixture]
public sealed class Pool2dReferenceTests
{
    /// <summary>The number of cases make_fixtures.py writes (POOL_CASES).</summary>
    private const int CaseCount = 4;

    [Test]
    public void FixtureHoldsEveryCase()
    {
        using var fixture = Fixture.Load("pool2d");
        fixture.RequireCases(CaseCount);
    }

    [Test]
    public void ForwardAndBackwardMatchPyTorch([Range(0, CaseCount - 1)] int index, [ValueSource(typeof(TestBackends), nameof(TestBackends.Precisions))] string on)
    {
        using var device = TestBackends.Use(on, out var dtype);
        using var scope = TensorScope.Begin();
        using var fixture = Fixture.Load("pool2d");
        string c = $"case{index}";
        var settings = fixture.Settings(c);
        int Get(string key) => int.Parse(settings[key], CultureInfo.InvariantCulture);
        var tolerance = Tolerances.For(dtype);

        var x = Variable.Parameter(fixture[$"{c}.x"].To(dtype), "x");
        var y = settings["kind"] == "max"
            ? F.MaxPool2d(x, Get("kernel"), Get("stride"), Get("padding"))
            : F.AvgPool2d(x, Get("kernel"), Get("stride"), Get("padding"));
        y.Backward(fixture[$"{c}.dY"].To(dtype));

        using (Assert.EnterMultipleScope())
        {
            TensorAssert.Close(y.Data, fixture[$"{c}.y"], tolerance, $"{c} ({fixture.Meta(c)}) y");
            TensorAssert.Close(x.Grad, fixture[$"{c}.dX"], tolerance, $"{c} dX");
        }
    }
}
