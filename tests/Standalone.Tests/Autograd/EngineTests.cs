// The tape: seeding, accumulation into parameters, retained intermediate gradients, hooks, no-grad scopes and the
// errors for misuse. Values are worked out by hand.
using Standalone.Autograd;
using Standalone.Autograd.Optim;

namespace Standalone.Tests.Autograd;

public class EngineTests
{
    private static Variable Param(params float[] v) => Variable.Parameter(Tensor.FromArray<float>(v, new Shape(v.Length)));

    [Test]
    public void GradientsAccumulateAcrossBackwardCalls()
    {
        var w = Param(1, 2, 3);
        var x = Variable.Constant(Tensor.FromArray<float>([4, 5, 6], new Shape(3)));
        F.Sum(w * x).Backward();                       // d/dw Σ w·x = x
        F.Sum(w * x).Backward();
        Assert.That(w.Grad!.ToFloatArray(), Is.EqualTo(new float[] { 8, 10, 12 }));
        w.ZeroGrad();
        Assert.That(w.Grad!.ToFloatArray(), Is.EqualTo(new float[] { 0, 0, 0 }));
    }

    [Test]
    public void VariableUsedTwiceSumsBothPaths()
    {
        var w = Param(3);
        F.Sum(w * w + w).Backward();                    // d/dw (w² + w) = 2w + 1 = 7
        Assert.That(w.Grad!.ToFloatArray(), Is.EqualTo(new float[] { 7 }));
    }

    [Test]
    public void SharedGradientsStayIndependentWhenOneBranchAccumulatesMore()
    {
        // z = a + b hands the same gradient to a and b; a also feeds a·a, whose gradient arrives after and is added to
        // a's. That addition must not reach b's gradient. With a = 3w and b = 5w:
        // L = Σ(a + b) + Σ a² → dL/dw = 3 + 5 + 2a·3 = 8 + 18w.
        var w = Param(1, 2);
        var a = F.Scale(w, 3);
        var b = F.Scale(w, 5);
        F.Add(F.Sum(F.Add(a, b)), F.Sum(a * a)).Backward();
        Assert.That(w.Grad!.ToFloatArray(), Is.EqualTo(new float[] { 26, 44 }));
        w.ZeroGrad();
        a = F.Scale(w, 3);
        b = F.Scale(w, 5);
        F.Add(F.Sum(a * a), F.Sum(F.Add(a, b))).Backward(); // the other order of the two branches
        Assert.That(w.Grad!.ToFloatArray(), Is.EqualTo(new float[] { 26, 44 }));
        w.ZeroGrad();
        a = F.Scale(w, 3);
        b = F.Scale(w, 5);
        F.Add(F.Sum(F.Add(b, a)), F.Sum(a * a)).Backward();
        Assert.That(w.Grad!.ToFloatArray(), Is.EqualTo(new float[] { 26, 44 }));
    }

    [Test]
    public void ExplicitSeedRetainGradAndHooks()
    {
        var w = Param(1, -2);
        var h = F.Scale(w, 3).RetainGrad();             // h = 3w
        Tensor? seen = null;
        h.RegisterHook(g => seen = g.Clone());
        var y = F.Relu(h);                              // relu passes h[0] = 3, blocks h[1] = −6
        y.Backward(Tensor.FromArray<float>([10, 20], new Shape(2)));
        Assert.That(h.Grad!.ToFloatArray(), Is.EqualTo(new float[] { 10, 0 }));
        Assert.That(seen!.ToFloatArray(), Is.EqualTo(new float[] { 10, 0 }));
        Assert.That(w.Grad!.ToFloatArray(), Is.EqualTo(new float[] { 30, 0 }));
    }

    [Test]
    public void NoGradScopeRecordsNothing()
    {
        var w = Param(1, 2);
        Variable y;
        using (Grad.Disabled()) y = F.Sum(w * w);
        Assert.That(y.RequiresGrad, Is.False);
        Assert.That(y.Creator, Is.Null);
        var error = Assert.Throws<InvalidOperationException>(() => y.Backward())!;
        Assert.That(error.Message, Does.Contain("does not require a gradient"));
    }

    [Test]
    public void MisuseGivesClearErrors()
    {
        var w = Param(1, 2);
        var y = w * w;
        Assert.That(Assert.Throws<InvalidOperationException>(() => y.Backward())!.Message, Does.Contain("one element"));
        Assert.That(Assert.Throws<ArgumentException>(() => y.Backward(Tensor.Ones(new Shape(3))))!.Message, Does.Contain("seed gradient"));
        var loss = F.Sum(y);
        loss.Backward();
        Assert.That(Assert.Throws<InvalidOperationException>(() => loss.Backward())!.Message, Does.Contain("already differentiated"));
    }

    [Test]
    public void SgdMatchesHandComputedSteps()
    {
        // p = 1, grad = 2 each step, lr 0.1, momentum 0.9, wd 0.5:
        // step 1: g = 2 + 0.5·1 = 2.5, buf = 2.5, p = 1 − 0.25 = 0.75
        // step 2: g = 2 + 0.375 = 2.375, buf = 0.9·2.5 + 2.375 = 4.625, p = 0.75 − 0.4625 = 0.2875
        var p = Param(1);
        var sgd = new Sgd([p], 0.1, momentum: 0.9, weightDecay: 0.5);
        for (int i = 0; i < 2; i++)
        {
            p.Grad = Tensor.FromArray<float>([2], new Shape(1));
            sgd.Step();
        }
        Assert.That(p.Data.ToFloatArray()[0], Is.EqualTo(0.2875f).Within(1e-6));
        Assert.That(sgd.StateOf(p)["momentum_buffer"].ToFloatArray()[0], Is.EqualTo(4.625f).Within(1e-6));

        // Nesterov, no decay: step 1: buf = 2, g = 2 + 0.9·2 = 3.8, p = 1 − 0.38 = 0.62
        var q = Param(1);
        var nesterov = new Sgd([q], 0.1, momentum: 0.9, nesterov: true);
        q.Grad = Tensor.FromArray<float>([2], new Shape(1));
        nesterov.Step();
        Assert.That(q.Data.ToFloatArray()[0], Is.EqualTo(0.62f).Within(1e-6));
    }

    [Test]
    public void AdamWMatchesHandComputedStep()
    {
        // First step: m̂ = g, v̂ = g², update = lr·g/(|g| + ε) ≈ lr·sign(g); decay first: p·(1 − lr·wd).
        // p = 2, g = −3, lr = 0.01, wd = 0.1: p = 2·0.999 + 0.01 = 2.008
        var p = Param(2);
        var adam = new AdamW([p], 0.01, weightDecay: 0.1);
        p.Grad = Tensor.FromArray<float>([-3], new Shape(1));
        adam.Step();
        Assert.That(p.Data.ToFloatArray()[0], Is.EqualTo(2.008f).Within(1e-5));
    }

    [Test]
    public void Schedules()
    {
        var step = new StepLr(0.1, stepSize: 10, gamma: 0.5, warmupSteps: 5);
        Assert.That(step.At(0), Is.EqualTo(0.02).Within(1e-12));   // warm-up: 0.1·1/5
        Assert.That(step.At(4), Is.EqualTo(0.1).Within(1e-12));
        Assert.That(step.At(5 + 9), Is.EqualTo(0.1).Within(1e-12));
        Assert.That(step.At(5 + 10), Is.EqualTo(0.05).Within(1e-12));
        var multi = new MultiStepLr(1, [3, 6], 0.1);
        Assert.That(new[] { multi.At(2), multi.At(3), multi.At(6) }, Is.EqualTo(new[] { 1, 0.1, 0.01 }).Within(1e-12));
        var cosine = new CosineLr(1, totalSteps: 110, minLr: 0, warmupSteps: 10);
        Assert.That(cosine.At(10), Is.EqualTo(1).Within(1e-12));
        Assert.That(cosine.At(60), Is.EqualTo(0.5).Within(1e-12));  // halfway through the 100 cosine steps
        Assert.That(cosine.At(110), Is.EqualTo(0).Within(1e-12));
    }
}
