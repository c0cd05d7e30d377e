// Batch normalisation against PyTorch (data/reference/batchnorm2d.safetensors), momentum 0.1, eps 1e-5.
// Training mode: batch statistics, gradients through them, running mean and (unbiased) variance moved one step
// from the given initial values. Evaluation mode: the running statistics normalise, are constants for the
// gradient, and are left unchanged.
using System.Globalization;
using Standalone.Autograd;
using Standalone.Tests.Support;

namespace Standalone.Tests.Reference;

[TestFixture]
public sealed class BatchNorm2dReferenceTests
{
    [Test]
    public void ForwardBackwardAndRunningStatisticsMatchPyTorch([Values("train", "eval")] string mode, [ValueSource(typeof(TestBackends), nameof(TestBackends.Precisions))] string on)
    {
        using var device = TestBackends.Use(on, out var dtype);
        using var scope = TensorScope.Begin();
        using var fixture = Fixture.Load("batchnorm2d");
        double momentum = double.Parse(fixture.Meta("momentum"), CultureInfo.InvariantCulture);
        double eps = double.Parse(fixture.Meta("eps"), CultureInfo.InvariantCulture);
        bool training = mode == "train";
        var tolerance = Tolerances.For(dtype);

        var x = Variable.Parameter(fixture[$"{mode}.x"].To(dtype), "x");
        var gamma = Variable.Parameter(fixture[$"{mode}.gamma"].To(dtype), "gamma");
        var beta = Variable.Parameter(fixture[$"{mode}.beta"].To(dtype), "beta");
        var runningMean = fixture[$"{mode}.running_mean"].To(dtype);
        var runningVar = fixture[$"{mode}.running_var"].To(dtype);
        var y = F.BatchNorm2d(x, gamma, beta, runningMean, runningVar, training, momentum, eps);
        y.Backward(fixture[$"{mode}.dY"].To(dtype));

        using (Assert.EnterMultipleScope())
        {
            TensorAssert.Close(y.Data, fixture[$"{mode}.y"], tolerance, $"{mode} y");
            TensorAssert.Close(x.Grad, fixture[$"{mode}.dX"], tolerance, $"{mode} dX");
            TensorAssert.Close(gamma.Grad, fixture[$"{mode}.dGamma"], tolerance, $"{mode} dGamma");
            TensorAssert.Close(beta.Grad, fixture[$"{mode}.dBeta"], tolerance, $"{mode} dBeta");
            if (training)
            {
                TensorAssert.Close(runningMean, fixture["train.running_mean_after"], tolerance, "train running_mean");
                TensorAssert.Close(runningVar, fixture["train.running_var_after"], tolerance, "train running_var");
            }
            else
            {
                using var initialMean = fixture["eval.running_mean"].To(dtype);
                using var initialVar = fixture["eval.running_var"].To(dtype);
                TensorAssert.Equal(runningMean, initialMean, "eval running_mean (unchanged)");
                TensorAssert.Equal(runningVar, initialVar, "eval running_var (unchanged)");
            }
        }
    }
}
