// End to end on every GPU backend, against the CPU backend with the same seeded weights and data: ResNet-20 and VGG
// forward and backward, every pruning criterion's scores on ResNet-20 (the SInGE pass among them), and a masked
// model against its compacted copy. The layer-level PyTorch fixtures and the gradient checks prove the ops one by
// one; these prove that whole networks and the attribution passes built on them agree.
using Standalone.Autograd;
using Standalone.Backends;
using Standalone.Backends.Cpu;
using Standalone.Models.Nn;
using Standalone.Models.Zoo;
using Standalone.Pruning.Criteria;
using Standalone.Pruning.Graph;
using Standalone.Pruning.Masking;
using Standalone.Pruning.Schedules;
using Standalone.Tests.Support;

namespace Standalone.Tests.Backends;

[TestFixtureSource(nameof(Devices))]
public sealed class ModelBackendTests(string device) : BackendTest(device)
{
    public static readonly string[] Devices = [.. TestBackends.All.Where(b => b != "cpu")];

    /// <summary>
    /// Relative to each tensor's largest magnitude: float32 through ~20 layers in another summation order. Training
    /// mode divides by batch standard deviations at every layer, which amplifies that rounding on the way back; and a
    /// bias followed by batch norm has a gradient that is zero but for rounding, so gradients are held to 1e-3 of
    /// the larger of their own scale and 1e-2 of the network's largest gradient. Scores are sums of products of
    /// activations and gradients over a batch.
    /// </summary>
    private const double Outputs = 1e-4, Gradients = 1e-3, Scores = 1e-3;

    private static ModelSpec ResNet20 => new() { Architecture = "resnet20", InChannels = 1, NumClasses = 10 };
    private static ModelSpec SmallVgg => new() { Architecture = "vgg11", InChannels = 3, NumClasses = 5, WidthMultiplier = 0.125 };

    /// <summary>Images per batch: 8, or 2 on the simulator.</summary>
    private int Batch => OnSimulator ? 2 : 8;

    /// <summary>ResNet-20's image side: 32, or 16 on the simulator (VGG-11, at an eighth of its width, keeps 32: its five pools need it).</summary>
    private int Side => OnSimulator ? 16 : 32;

    /// <summary>Runs the action with new tensors on the given backend (models are created from the same seeds).</summary>
    private static T On<T>(IBackend backend, Func<T> action)
    {
        var saved = Tensor.DefaultBackend;
        Tensor.DefaultBackend = backend;
        try { return action(); }
        finally { Tensor.DefaultBackend = saved; }
    }

    private (double[] Logits, Dictionary<string, double[]> Grads) Step(ModelSpec spec, int[] input, bool training)
    {
        var model = ModelZoo.Create(spec, seed: 3);
        if (training) model.Train(); else model.Eval();
        using var scope = TensorScope.Begin();
        using var x = Tensor.RandomNormal(new Shape(Batch, input[0], input[1], input[2]), 0, 1, new Rng(5));
        using var labels = Tensor.FromArray<long>([.. new long[] { 1, 0, 3, 2, 4, 1, 0, 2 }.Take(Batch)], new Shape(Batch));
        var logits = model.Forward(Variable.Constant(x));
        F.CrossEntropy(logits, labels).Backward();
        return (logits.Data.ToDoubleArray(), model.NamedParameters().ToDictionary(p => p.Name, p => p.Parameter.Grad!.ToDoubleArray()));
    }

    [TestCase("resnet20", true)]
    [TestCase("resnet20", false)]
    [TestCase("vgg11", true)]
    public void ForwardAndBackwardMatchTheCpu(string architecture, bool training)
    {
        var (spec, input) = architecture == "vgg11" ? (SmallVgg, new[] { 3, 32, 32 }) : (ResNet20, new[] { 1, Side, Side });
        var expected = On(CpuBackend.Instance, () => Step(spec, input, training));
        var actual = Step(spec, input, training);
        AssertClose(actual.Logits, expected.Logits, Outputs, "logits");
        double largest = expected.Grads.Values.Max(g => g.Max(Math.Abs));
        foreach (var (name, grad) in expected.Grads) AssertClose(actual.Grads[name], grad, Gradients, "grad " + name, floor: 1e-2 * largest);
    }

    [TestCase("l1")]
    [TestCase("bn-scale")]
    [TestCase("random")]
    [TestCase("gradient")]
    [TestCase("taylor")]
    [TestCase("taylor-sq")]
    [TestCase("singe")]
    [TestCase("lrp")]
    public void CriterionScoresMatchTheCpu(string criterion)
    {
        // SInGE integrates gradients layer by layer: 2 steps on the simulator, where each pass takes seconds.
        var options = new PruneOptions { Criterion = criterion, Singe = new SingeOptions { Steps = OnSimulator ? 2 : 4 }, RandomGradient = criterion == "taylor-sq" };
        double[] Score()
        {
            var model = ModelZoo.Create(ResNet20, seed: 3);
            model.Eval();
            var graph = DependencyGraph.Build(model, 1, Side, Side);
            var x = Tensor.RandomNormal(new Shape(Batch, 1, Side, Side), 0, 1, new Rng(9));
            var labels = Tensor.FromArray<long>([.. Enumerable.Range(0, Batch).Select(i => (long)(i % 10))], new Shape(Batch));
            var context = new ScoringContext { Graph = graph, Mask = new ChannelMask(graph), Batches = () => [new ScoringBatch(x, labels)] };
            return options.CreateCriterion().Score(context);
        }
        var expected = On(CpuBackend.Instance, Score);
        var actual = Score();
        AssertClose(actual, expected, Scores, criterion + " scores");
    }

    [Test]
    public void MaskedModelEqualsItsCompactedCopy()
    {
        var model = ModelZoo.Create(ResNet20, seed: 3);
        model.Eval();
        var graph = DependencyGraph.Build(model, 1, Side, Side);
        var mask = new ChannelMask(graph);
        mask.Prune(graph.Units.SelectMany(u => u.Groups.Where((_, i) => i % 3 == 1)));
        mask.Apply();
        using var x = Tensor.RandomNormal(new Shape(2, 1, Side, Side), 0, 1, new Rng(11));
        double[] masked, compacted;
        using (Grad.Disabled()) masked = model.Forward(Variable.Constant(x)).Data.ToDoubleArray();
        Compactor.Compact(mask);
        using (Grad.Disabled()) compacted = model.Forward(Variable.Constant(x)).Data.ToDoubleArray();
        Assert.That(model.Parameters().All(p => p.Data.Device == Backend.Device), "compaction keeps the parameters on the device");
        AssertClose(compacted, masked, Outputs, "compacted vs masked logits");
    }

    private static void AssertClose(double[] actual, double[] expected, double relative, string what, double floor = 0)
    {
        Assert.That(actual, Has.Length.EqualTo(expected.Length), what);
        double tolerance = relative * Math.Max(expected.Max(Math.Abs), floor) + 1e-7;
        for (int i = 0; i < expected.Length; i++)
            Assert.That(actual[i], Is.EqualTo(expected[i]).Within(tolerance), $"{what}[{i}]");
    }
}
