// Importance criteria against values derived by hand on a small network
//   conv 1→4 (3×3, pad 1, no bias) → BN(4) → ReLU → global average pool → Linear(4 → 3)
// where everything after the BN output a is linear in relu(a): with output gradient g_s,
//   δa_{s,c,h,w} = (g_s · W_fc[:, c]) / HW · 1[a > 0]   ⇒   z_{s,c} = Σ_hw a·δa = (g_s · W_fc[:, c]) · mean_hw relu(a_{s,c}).
using Standalone.Autograd;
using Standalone.Models.Nn;
using Standalone.Pruning.Criteria;
using Standalone.Pruning.Graph;
using Standalone.Pruning.Masking;
using Standalone.Tests.Support;

namespace Standalone.Tests.Pruning;

[TestFixtureSource(typeof(TestBackends), nameof(TestBackends.All))]
public class CriteriaTests(string device) : BackendTest(device)
{
    private const double Tolerance = 1e-4; // relative, float32 forward/backward
    private const int Classes = 3, Channels = 4, Size = 5;

    private sealed class SmallNet : Module
    {
        public SmallNet()
        {
            var rng = new Rng(4);
            Conv = Register("conv", new Conv2d(1, Channels, 3, rng, padding: 1, bias: false));
            Bn = Register("bn", new BatchNorm2d(Channels));
            Fc = Register("fc", new Linear(Channels, Classes, rng));
            using var noGrad = Grad.Disabled();
            Bn.Weight.Data.CopyFrom(Tensor.FromArray(new[] { 1.2f, -0.7f, 0.4f, 0.9f }, Channels));
            Bn.Bias.Data.CopyFrom(Tensor.FromArray(new[] { 0.1f, 0.3f, -0.2f, 0.05f }, Channels));
            Bn.RunningMean.CopyFrom(Tensor.FromArray(new[] { 0.05f, -0.1f, 0.2f, 0f }, Channels));
            Bn.RunningVar.CopyFrom(Tensor.FromArray(new[] { 0.8f, 1.3f, 0.6f, 1.1f }, Channels));
        }

        public Conv2d Conv { get; }
        public BatchNorm2d Bn { get; }
        public Linear Fc { get; }

        public Variable BnOutput(Variable x) => Bn.Forward(Conv.Forward(x));

        public override Variable Forward(Variable x) => Fc.Forward(F.Flatten(F.GlobalAvgPool2d(F.Relu(BnOutput(x)))));
    }

    private static (SmallNet Net, DependencyGraph Graph, ScoringContext Context, ScoringBatch Batch) Setup(int samples = 6)
    {
        var net = new SmallNet();
        net.Eval();
        var graph = DependencyGraph.Build(net, 1, Size, Size);
        var x = Tensor.RandomNormal(new Shape(samples, 1, Size, Size), 0, 1, new Rng(21));
        var labels = Tensor.FromArray(Enumerable.Range(0, samples).Select(i => (long)(i % Classes)).ToArray(), samples);
        var batch = new ScoringBatch(x, labels);
        var context = new ScoringContext { Graph = graph, Mask = new ChannelMask(graph), Batches = () => [batch] };
        return (net, graph, context, batch);
    }

    /// <summary>Scores by conv channel (the graph has one group per conv channel, in channel order).</summary>
    private static double[] ByChannel(DependencyGraph graph, double[] scores) =>
        Enumerable.Range(0, Channels).Select(c => scores[graph.Site(graph.Units[0].ProducerLayers[0]).OutputGroups[c]]).ToArray();

    private static void AssertClose(double[] actual, double[] expected, string what)
    {
        double scale = expected.Max(Math.Abs);
        for (int i = 0; i < expected.Length; i++)
            Assert.That(actual[i], Is.EqualTo(expected[i]).Within(Tolerance * scale + 1e-9), $"{what}, channel {i}");
    }

    [Test]
    public void GraphHasOneUnitOfFourChannels()
    {
        var (_, graph, _, _) = Setup();
        Assert.That(graph.Units.Select(u => (u.Name, u.Groups.Count)), Is.EqualTo(new[] { ("conv", 4) }));
    }

    [Test]
    public void MagnitudeAndBnScaleAreTheNormsOfTheWeights()
    {
        var (net, graph, context, _) = Setup();
        var w = net.Conv.Weight.Data.ToFloatArray();
        var l1 = Enumerable.Range(0, Channels).Select(c => w.Skip(9 * c).Take(9).Sum(v => (double)Math.Abs(v))).ToArray();
        var l2 = Enumerable.Range(0, Channels).Select(c => Math.Sqrt(w.Skip(9 * c).Take(9).Sum(v => (double)v * v))).ToArray();
        AssertClose(ByChannel(graph, new MagnitudeCriterion(1).Score(context)), l1, "l1");
        AssertClose(ByChannel(graph, new MagnitudeCriterion(2).Score(context)), l2, "l2");
        AssertClose(ByChannel(graph, new BnScaleCriterion().Score(context)), [1.2, 0.7, 0.4, 0.9], "bn-scale");
    }

    /// <summary>The hand formula: z_{s,c} = (g_s · W_fc[:, c]) · mean_hw relu(a_{s,c}), a the BN output.</summary>
    private static double[,] HandZ(SmallNet net, ScoringBatch batch, double[,] g)
    {
        using var noGrad = Grad.Disabled();
        var a = net.BnOutput(Variable.Constant(batch.Images)).Data.ToFloatArray();
        var wFc = net.Fc.Weight.Data.ToFloatArray(); // [Classes, Channels]
        int n = batch.Images.Shape[0];
        var z = new double[n, Channels];
        for (int s = 0; s < n; s++)
            for (int c = 0; c < Channels; c++)
            {
                double dot = 0, mean = 0;
                for (int k = 0; k < Classes; k++) dot += g[s, k] * wFc[k * Channels + c];
                for (int p = 0; p < Size * Size; p++) mean += Math.Max(0, a[(s * Channels + c) * Size * Size + p]);
                z[s, c] = dot * mean / (Size * Size);
            }
        return z;
    }

    private static double[,] LabelledGradient(SmallNet net, ScoringBatch batch)
    {
        using var noGrad = Grad.Disabled();
        var logits = net.Forward(Variable.Constant(batch.Images)).Data.ToFloatArray();
        var labels = batch.Labels.ToArray<long>();
        var g = new double[labels.Length, Classes];
        for (int s = 0; s < labels.Length; s++)
        {
            double max = Enumerable.Range(0, Classes).Max(k => logits[s * Classes + k]);
            double sum = Enumerable.Range(0, Classes).Sum(k => Math.Exp(logits[s * Classes + k] - max));
            for (int k = 0; k < Classes; k++) g[s, k] = Math.Exp(logits[s * Classes + k] - max) / sum - (labels[s] == k ? 1 : 0);
        }
        return g;
    }

    [Test]
    public void TaylorFamilyMatchesTheHandFormulaWithLabelledGradients()
    {
        var (net, graph, context, batch) = Setup();
        var z = HandZ(net, batch, LabelledGradient(net, batch));
        int n = z.GetLength(0);
        double[] Over(Func<int, int, double> f, bool absOfMean) => Enumerable.Range(0, Channels).Select(c =>
        {
            double m = Enumerable.Range(0, n).Sum(s => f(s, c)) / n;
            return absOfMean ? Math.Abs(m) : m;
        }).ToArray();
        var labelled = new OutputGradientOptions();
        AssertClose(ByChannel(graph, new ActivationCriterion(ActivationScore.Taylor, labelled).Score(context)), Over((s, c) => z[s, c], true), "taylor");
        AssertClose(ByChannel(graph, new ActivationCriterion(ActivationScore.TaylorAbs, labelled).Score(context)), Over((s, c) => Math.Abs(z[s, c]), false), "taylor-abs");
        AssertClose(ByChannel(graph, new ActivationCriterion(ActivationScore.TaylorSquared, labelled).Score(context)), Over((s, c) => z[s, c] * z[s, c], false), "taylor-sq");
    }

    [Test]
    public void RandomGradientsAreUnitNormGaussianRowsFromTheLoggedSeed()
    {
        var (net, graph, context, batch) = Setup();
        const ulong seed = 77;
        var raw = Tensor.RandomNormal(new Shape(batch.Images.Shape[0], Classes), 0, 1, new Rng(seed)).ToFloatArray();
        var g = new double[batch.Images.Shape[0], Classes];
        for (int s = 0; s < g.GetLength(0); s++)
        {
            double norm = Math.Sqrt(Enumerable.Range(0, Classes).Sum(k => (double)raw[s * Classes + k] * raw[s * Classes + k]));
            for (int k = 0; k < Classes; k++) g[s, k] = raw[s * Classes + k] / norm;
        }
        var z = HandZ(net, batch, g);
        var expected = Enumerable.Range(0, Channels).Select(c => Enumerable.Range(0, g.GetLength(0)).Sum(s => Math.Abs(z[s, c])) / g.GetLength(0)).ToArray();
        var criterion = new ActivationCriterion(ActivationScore.TaylorAbs, new OutputGradientOptions { Random = true, Seed = seed });
        AssertClose(ByChannel(graph, criterion.Score(context)), expected, "taylor-abs, random gradient");
    }

    [Test]
    public void NormalizedGradientsWeighEverySampleTheSame()
    {
        var (net, graph, context, batch) = Setup();
        var g = LabelledGradient(net, batch);
        for (int s = 0; s < g.GetLength(0); s++)
        {
            double norm = Math.Sqrt(Enumerable.Range(0, Classes).Sum(k => g[s, k] * g[s, k])) + OutputGradientOptions.NormalizeEpsilon;
            for (int k = 0; k < Classes; k++) g[s, k] /= norm;
        }
        var z = HandZ(net, batch, g);
        var expected = Enumerable.Range(0, Channels).Select(c => Enumerable.Range(0, g.GetLength(0)).Sum(s => z[s, c] * z[s, c]) / g.GetLength(0)).ToArray();
        var criterion = new ActivationCriterion(ActivationScore.TaylorSquared, new OutputGradientOptions { Normalize = true });
        AssertClose(ByChannel(graph, criterion.Score(context)), expected, "taylor-sq, normalised");
    }

    [Test]
    public void GradientCriterionIsTheAbsoluteMeanActivationGradient()
    {
        var (net, graph, context, batch) = Setup();
        var g = LabelledGradient(net, batch);
        float[] a;
        using (Grad.Disabled()) a = net.BnOutput(Variable.Constant(batch.Images)).Data.ToFloatArray();
        var wFc = net.Fc.Weight.Data.ToFloatArray();
        int n = g.GetLength(0);
        var expected = Enumerable.Range(0, Channels).Select(c =>
        {
            double sum = 0;
            for (int s = 0; s < n; s++)
            {
                double dot = Enumerable.Range(0, Classes).Sum(k => g[s, k] * wFc[k * Channels + c]);
                for (int p = 0; p < Size * Size; p++) sum += a[(s * Channels + c) * Size * Size + p] > 0 ? dot / (Size * Size) : 0;
            }
            return Math.Abs(sum / (n * Size * Size));
        }).ToArray();
        AssertClose(ByChannel(graph, new ActivationCriterion(ActivationScore.Gradient, new OutputGradientOptions()).Score(context)), expected, "gradient");
    }

    [Test]
    public void SingeWithOneStepIsGradientTimesWeight()
    {
        var (net, graph, context, batch) = Setup();
        net.ZeroGrad();
        F.CrossEntropy(net.Forward(Variable.Constant(batch.Images)), batch.Labels).Backward();
        double[] Products(Variable p) => p.Data.ToFloatArray().Zip(p.Grad!.ToFloatArray(), (v, d) => (double)v * d).ToArray();
        var w = Products(net.Conv.Weight);
        var gamma = Products(net.Bn.Weight);
        var beta = Products(net.Bn.Bias);
        var expected = Enumerable.Range(0, Channels).Select(c =>
            Math.Sqrt(w.Skip(9 * c).Take(9).Sum(v => v * v) + gamma[c] * gamma[c] + beta[c] * beta[c])).ToArray();
        net.ZeroGrad();
        foreach (var path in new[] { IgPath.Layer, IgPath.Channel })
            AssertClose(ByChannel(graph, new SingeCriterion(new SingeOptions { Steps = 1, Path = path }).Score(context)), expected, $"singe S=1 ({path} path)");
    }

    [Test]
    public void SingeChannelPathIsCompleteUpToTheRiemannError()
    {
        var (net, graph, context, batch) = Setup();
        double Loss()
        {
            using var noGrad = Grad.Disabled();
            return F.CrossEntropy(net.Forward(Variable.Constant(batch.Images)), batch.Labels).Data.Item();
        }
        double full = Loss();
        var removed = new double[Channels];
        var mask = new ChannelMask(graph);
        for (int c = 0; c < Channels; c++)
        {
            var state = net.StateDict().Select(e => (e.Name, Value: e.Value.Clone())).ToList();
            var single = new ChannelMask(graph);
            single.Prune([graph.Groups[graph.Site(net.Conv).OutputGroups[c]]]);
            single.Apply();
            removed[c] = full - Loss();
            net.LoadStateDict(state.ToDictionary(e => e.Name, e => e.Value));
        }
        double Error(int steps)
        {
            var singe = new SingeCriterion(new SingeOptions { Steps = steps, Path = IgPath.Channel });
            singe.Score(context);
            return Enumerable.Range(0, Channels).Max(c => Math.Abs(singe.SignedTotals[graph.Site(net.Conv).OutputGroups[c]] - removed[c]));
        }
        double coarse = Error(4), fine = Error(64);
        double scale = removed.Max(Math.Abs);
        Assert.That(fine, Is.LessThan(0.03 * scale), $"Σ A vs L(θ) − L(θ without c) at S = 64 (removal changes the loss by up to {scale:G3})");
        Assert.That(fine, Is.LessThan(coarse / 4), "the Riemann error shrinks as S grows");
    }

    [Test]
    public void PrunedGroupsAreNotScored()
    {
        var (_, graph, context, _) = Setup();
        context.Mask.Prune([graph.Groups[1]]);
        foreach (var criterion in new IPruningCriterion[] { new MagnitudeCriterion(1), new RandomCriterion(1), new SingeCriterion(new SingeOptions { Steps = 2 }), new ActivationCriterion(ActivationScore.Taylor, new()) })
        {
            var scores = criterion.Score(context);
            Assert.That(double.IsNaN(scores[1]), criterion.Name);
            Assert.That(scores.Where((_, i) => i != 1).All(double.IsFinite), criterion.Name);
        }
    }
}
