// What attribution costs next to training, on the bench's ResNet-20 (1×32×32, 10 classes, batch 128): one training
// step (forward, cross-entropy, backward, SGD), one SInGE layer-path step (the parameters of one unit scaled, one
// forward + backward), one Taylor pass and one LRP pass over the batch. Each is warmed up like the training benchmark
// (the JIT settles after a few seconds), then the four are timed in turn, repetition by repetition, so that a slow
// spell of the machine falls on all of them alike; the medians are reported.
using System.Diagnostics;
using Standalone.Autograd;
using Standalone.Autograd.Optim;
using Standalone.Models.Benchmarks;
using Standalone.Pruning.Attribution;
using Standalone.Pruning.Criteria;
using Standalone.Pruning.Graph;
using Standalone.Pruning.Masking;

namespace Standalone.Pruning.Benchmarks;

public sealed record ScoringCost(double TrainStepMs, double SingeStepMs, double TaylorPassMs, double LrpPassMs);

public static class ScoringBenchmark
{
    public static ScoringCost Run(int batchSize = 128, int repetitions = 5, bool quick = false)
    {
        var model = ThroughputBenchmark.CreateModel();
        var rng = new Rng(3);
        using var x = Tensor.RandomNormal(new Shape(batchSize, 1, 32, 32), 0, 1, rng);
        using var labels = Tensor.FromArray(Enumerable.Range(0, batchSize).Select(i => (long)(i % 10)).ToArray(), batchSize);
        var batch = new ScoringBatch(x, labels);
        var graph = DependencyGraph.Build(model, 1, 32, 32);
        var context = new ScoringContext { Graph = graph, Mask = new ChannelMask(graph), Batches = () => [batch], Units = [graph.Units[^1]] };
        var optimizer = new Sgd(model.Parameters(), 0.01, momentum: 0.9, weightDecay: 5e-4);

        void Train()
        {
            model.Train();
            using var scope = TensorScope.Begin();
            optimizer.ZeroGrad();
            F.CrossEntropy(model.Forward(Variable.Constant(x)), labels).Backward();
            optimizer.Step();
        }
        // One path point of one unit: S = 1 (S steps cost S times this).
        var singe = new SingeCriterion(new SingeOptions { Steps = 1 });
        var taylor = new ActivationCriterion(ActivationScore.TaylorAbs, new OutputGradientOptions());
        Action[] passes =
        [
            Train,
            () => singe.Score(context),
            () => taylor.Score(context with { Units = null }),
            () =>
            {
                using var result = Lrp.Explain(model, x, labels, LrpOptions.Default with { LayerSums = false });
            },
        ];
        foreach (var pass in passes) ThroughputBenchmark.WarmUp(pass, quick);
        var times = passes.Select(_ => new List<double>()).ToArray();
        for (int r = 0; r < repetitions; r++)
            for (int p = 0; p < passes.Length; p++)
            {
                var watch = Stopwatch.StartNew();
                passes[p]();
                Tensor.DefaultBackend.Synchronize();
                times[p].Add(watch.Elapsed.TotalMilliseconds);
            }
        return new ScoringCost(Median(times[0]), Median(times[1]), Median(times[2]), Median(times[3]));
    }

    private static double Median(List<double> times)
    {
        times.Sort();
        return times[times.Count / 2];
    }
}
