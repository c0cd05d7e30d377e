// Knowledge distillation's loss against values worked out by hand (the script-free arithmetic below, done once in
// double precision): two rows of three logits, labels 1 and 2, α = 0.7, T = 2.
//   CE  = mean(−log softmax(z_s)[y])                          = 0.25164014692938136
//   KL  = mean(Σ p_t (log p_t − log p_s)), p = softmax(z / T) = 0.4393759710415282
//   L   = (1 − α)·CE + α·T²·KL                                = 1.3057447629950933
using Standalone.Autograd;

namespace Standalone.Tests.Autograd;

public class DistillationLossTests
{
    private static readonly double[] Student = [1, 2, 0, 0.5, -1, 3];
    private static readonly double[] Teacher = [0.5, 0, 1, 2, 0, -1];

    private static double Loss(Func<Variable, Tensor, Tensor, Variable> f)
    {
        using var scope = TensorScope.Begin();
        var s = Variable.Parameter(Tensor.FromArray<double>(Student, new Shape(2, 3)));
        using var t = Tensor.FromArray<double>(Teacher, new Shape(2, 3));
        using var y = Tensor.FromArray<long>([1, 2], new Shape(2));
        return f(s, t, y).Data.Item();
    }

    [Test]
    public void KlDivergenceMatchesTheHandComputedValue() =>
        Assert.That(Loss((s, t, _) => F.KlDivergence(s, t, temperature: 2)), Is.EqualTo(0.4393759710415282).Within(1e-12));

    [Test]
    public void DistillationLossMixesLabelsAndSoftTargets() =>
        Assert.That(Loss((s, t, y) => F.DistillationLoss(s, t, y, alpha: 0.7, temperature: 2)), Is.EqualTo(1.3057447629950933).Within(1e-12));

    [Test]
    public void AlphaZeroIsCrossEntropyAndAlphaOneIgnoresTheLabels()
    {
        Assert.That(Loss((s, t, y) => F.DistillationLoss(s, t, y, alpha: 0, temperature: 2)), Is.EqualTo(0.25164014692938136).Within(1e-12));
        Assert.That(Loss((s, t, y) => F.DistillationLoss(s, t, y, alpha: 1, temperature: 2)), Is.EqualTo(4 * 0.4393759710415282).Within(1e-12));
    }

    [Test]
    public void ATeacherThatAgreesCostsNothing() =>
        Assert.That(Loss((s, _, _) =>
        {
            using var same = Tensor.FromArray<double>(Student, new Shape(2, 3));
            return F.KlDivergence(s, same, temperature: 3);
        }), Is.EqualTo(0).Within(1e-12));

    [Test]
    public void BadArgumentsAreRefusedWithASentence()
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => Loss((s, t, y) => F.DistillationLoss(s, t, y, alpha: 1.5, temperature: 2)));
        Assert.That(e!.Message, Does.Contain("α 1.5 must be in [0, 1]"));
        Assert.Throws<ArgumentOutOfRangeException>(() => Loss((s, t, _) => F.KlDivergence(s, t, temperature: 0)));
        Assert.Throws<ArgumentException>(() => Loss((s, _, _) =>
        {
            using var wrong = Tensor.FromArray<double>([1, 2], new Shape(1, 2));
            return F.KlDivergence(s, wrong);
        }));
    }
}
