// End to end: the README's training step, repeated on one small fixed batch, must drive the loss down (a network
// that cannot overfit 16 images has a broken forward, backward or optimizer somewhere). ResNet-8 on 16×16 images
// keeps it quick; it has every kind of layer ResNet-20 has, shortcut projections included.
using Standalone.Autograd;
using Standalone.Autograd.Optim;
using Standalone.Models.Zoo;
using Standalone.Tests.Support;

namespace Standalone.Tests.Models;

[TestFixtureSource(typeof(TestBackends), nameof(TestBackends.All))]
public class TrainingTests(string device) : BackendTest(device)
{
    [Test]
    public void ResNetOverfitsASmallBatch()
    {
        var model = new ResNetCifar(depth: 8, numClasses: 10, inChannels: 1, seed: 0);
        var optimizer = new Sgd(model.Parameters(), learningRate: 0.05, momentum: 0.9, weightDecay: 5e-4);
        var rng = new Rng(7);
        // 16 images of 16×16; 8 of 8×8 on the simulator, where each step of the larger batch takes seconds.
        int count = OnSimulator ? 8 : 16, side = OnSimulator ? 8 : 16;
        using var images = Tensor.RandomNormal(new Shape(count, 1, side, side), 0, 1, rng);
        var labelValues = new long[count];
        for (int i = 0; i < labelValues.Length; i++) labelValues[i] = i % 10;
        using var labels = Tensor.FromArray<long>(labelValues, new Shape(count));

        var losses = new List<double>();
        for (int step = 0; step < 25; step++)
        {
            using var scope = TensorScope.Begin();
            var loss = F.CrossEntropy(model.Forward(Variable.Constant(images)), labels, labelSmoothing: 0.1);
            losses.Add(loss.Data.Item());
            optimizer.ZeroGrad();
            loss.Backward();
            optimizer.Step();
        }
        TestContext.Out.WriteLine("loss per step: " + string.Join(", ", losses.Select(l => l.ToString("F3"))));
        Assert.That(losses[0], Is.EqualTo(Math.Log(10)).Within(1.0), "an untrained network should be near chance (ln 10)");
        Assert.That(losses[^1], Is.LessThan(0.5 * losses[0]), "25 steps on one batch should at least halve the loss");

        // Forward passes in training mode move the running statistics towards this batch's statistics (momentum 0.1:
        // 0.9⁶⁰ ≈ 0.2% of the old values remain), after which evaluation mode — which normalises with the running
        // statistics — must classify the memorised batch as training mode does.
        using var noGrad = Grad.Disabled();
        for (int i = 0; i < 60; i++)
        {
            using var scope = TensorScope.Begin();
            model.Forward(Variable.Constant(images));
        }
        model.Eval();
        using var predictions = model.Forward(Variable.Constant(images)).Data.ArgMax(1);
        int correct = predictions.ToArray<long>().Zip(labelValues).Count(p => p.First == p.Second);
        Assert.That(correct, Is.GreaterThanOrEqualTo(count * 3 / 4), "eval-mode predictions on the memorised batch");
    }
}
