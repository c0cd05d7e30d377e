// One full float32 training step of the CIFAR ResNet-20 (1 input channel, 10 classes, shortcut B) against PyTorch
// (data/reference/resnet20_step.safetensors): load the initial state dict, forward a batch of 8 in training mode,
// cross-entropy, backward, then one SGD step (lr 0.1, momentum 0.9, weight decay 5e-4). Compared: logits, loss,
// every parameter gradient, and every parameter and buffer after the step (running statistics moved by the forward
// pass, num_batches_tracked = 1). On every backend: on OpenCL this is the end-to-end check that a training step
// matches the CPU's (both are held to PyTorch's numbers within the same tolerances).
using Standalone.Autograd;
using Standalone.Autograd.Optim;
using Standalone.Models.Zoo;
using Standalone.Tests.Support;

namespace Standalone.Tests.Reference;

[TestFixture]
public sealed class ResNet20StepReferenceTests
{
    /// <summary>
    /// Logits and loss: the same float32 inputs and weights as PyTorch, so only summation order differs; through 19
    /// conv+BN layers that compounds to ~1e-6 of the largest value.
    /// </summary>
    private static readonly Tolerance Forward = new(Relative: 1e-4, OfMax: 1e-5);

    /// <summary>
    /// Gradients: the float32 rounding of the forward pass is amplified on the way back (BN divides by batch
    /// standard deviations); 1e-4 of each tensor's scale, per the relative target for the float32 step.
    /// </summary>
    private static readonly Tolerance Gradient = new(Relative: 1e-4, OfMax: 1e-4);

    /// <summary>Parameters and buffers after the step: p − 0.1·(momentum buffer), so the gradient error shrinks by the learning rate.</summary>
    private static readonly Tolerance AfterStep = new(Relative: 1e-4, OfMax: 1e-5);

    [Test]
    public void TrainingStepMatchesPyTorch([ValueSource(typeof(TestBackends), nameof(TestBackends.All))] string device)
    {
        using var on = TestBackends.Use(device + "/Float32", out _);
        using var scope = TensorScope.Begin();
        using var fixture = Fixture.Load("resnet20_step");
        var model = new ResNetCifar(20, 10, inChannels: 1);
        model.LoadStateDict(fixture.WithPrefix("init."));
        model.Train();

        var logits = model.Forward(Variable.Constant(fixture["x"]));
        var loss = F.CrossEntropy(logits, fixture["labels"]);
        loss.Backward();
        var parameters = model.NamedParameters().ToList();

        using (Assert.EnterMultipleScope())
        {
            TensorAssert.Close(logits.Data, fixture["logits"], Forward, "logits");
            TensorAssert.Close(loss.Data, fixture["loss"], Forward, "loss");
            Assert.That(parameters.Select(p => "grad." + p.Name), Is.EquivalentTo(fixture.Names.Where(n => n.StartsWith("grad.", StringComparison.Ordinal))),
                "the model's parameters and the fixture's gradients differ");
            foreach (var (name, parameter) in parameters)
                TensorAssert.Close(parameter.Grad, fixture["grad." + name], Gradient, "grad." + name);
        }

        new Sgd(model.Parameters(), 0.1, momentum: 0.9, weightDecay: 5e-4).Step();

        using (Assert.EnterMultipleScope())
        {
            var state = model.StateDict();
            Assert.That(state.Select(s => "after." + s.Name), Is.EquivalentTo(fixture.Names.Where(n => n.StartsWith("after.", StringComparison.Ordinal))),
                "the model's state dict and the fixture's differ");
            foreach (var (name, value) in state)
            {
                if (value.DType == DType.Int64) TensorAssert.Equal(value, fixture["after." + name], "after." + name);
                else TensorAssert.Close(value, fixture["after." + name], AfterStep, "after." + name);
            }
        }
    }
}
