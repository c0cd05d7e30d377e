// Conv2d forward and backward against PyTorch (data/reference/conv2d.safetensors): per case x, weight, optional
// bias and a fixed random dY, with y = conv2d(x, weight, bias) and its gradients dX, dW, dB for that dY. The cases
// cover stride, padding, dilation, groups, depthwise, 1×1 and odd input sizes (see CONV_CASES in the script).
using Standalone.Autograd;
using Standalone.Tests.Support;

namespace Standalone.Tests.Reference;

[TestFixture]
public sealed class Conv2dReferenceTests
{
    /// <summary>The number of cases make_fixtures.py writes (CONV_CASES).</summary>
    private const int CaseCount = 7;

    [Test]
    public void FixtureHoldsEveryCase()
    {
        using var fixture = Fixture.Load("conv2d");
        fixture.RequireCases(CaseCount);
    }

    [Test]
    public void ForwardAndBackwardMatchPyTorch([Range(0, CaseCount - 1)] int index, [ValueSource(typeof(TestBackends), nameof(TestBackends.Precisions))] string on)
    {
        using var device = TestBackends.Use(on, out var dtype);
        using var scope = TensorScope.Begin();
        using var fixture = Fixture.Load("conv2d");
        string c = $"case{index}";
        var geometry = fixture.Settings(c);
        int Get(string key) => int.Parse(geometry[key], System.Globalization.CultureInfo.InvariantCulture);
        bool hasBias = Get("bias") == 1;
        var tolerance = Tolerances.For(dtype);

        var x = Variable.Parameter(fixture[$"{c}.x"].To(dtype), "x");
        var weight = Variable.Parameter(fixture[$"{c}.weight"].To(dtype), "weight");
        var bias = hasBias ? Variable.Parameter(fixture[$"{c}.bias"].To(dtype), "bias") : null;
        var y = F.Conv2d(x, weight, bias, Get("stride"), Get("padding"), Get("dilation"), Get("groups"));
        y.Backward(fixture[$"{c}.dY"].To(dtype));

        using (Assert.EnterMultipleScope())
        {
            TensorAssert.Close(y.Data, fixture[$"{c}.y"], tolerance, $"{c} ({fixture.Meta(c)}) y");
            TensorAssert.Close(x.Grad, fixture[$"{c}.dX"], tolerance, $"{c} dX");
            TensorAssert.Close(weight.Grad, fixture[$"{c}.dW"], tolerance, $"{c} dW");
            if (bias != null) TensorAssert.Close(bias.Grad, fixture[$"{c}.dB"], tolerance, $"{c} dB");
        }
    }
}
