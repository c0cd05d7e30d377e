// The end-to-end throughput harness behind `standalone bench`: SGEMM GFLOP/s and ResNet-20 training/inference
// images per second, each the median of several timed repetitions after warm-up, with the GC activity of the timed
// training steps. The peer script bench/peers/torch_resnet20.py measures the same keys the same way.
using System.Diagnostics;
using Standalone.Autograd;
using Standalone.Autograd.Optim;
using Standalone.Models.Zoo;

namespace Standalone.Models.Benchmarks;

public sealed record BenchOptions(int Repetitions = 5, int TrainBatch = 128, int InferBatch = 256, int StepsPerRepetition = 3, bool Quick = false);

public sealed record BenchResult(
    double SgemmGflops1024,
    double SgemmGflops2048,
    double ResNet20TrainImagesPerSecond,
    double ResNet20InferImagesPerSecond,
    int Gen0Collections,
    int TimedTrainSteps,
    double AllocatedKilobytesPerTrainStep,
    long PoolArraysAllocatedWhenWarm,
    string Device,
    int Threads);

public static class ThroughputBenchmark
{
    public static BenchResult Run(BenchOptions options, Action<string>? progress = null)
    {
        progress ??= _ => { };
        var backend = Tensor.DefaultBackend;
        progress("sgemm 1024³");
        double g1024 = Sgemm(1024, options.Quick ? 3 : options.Repetitions * 2);
        progress("sgemm 2048³");
        double g2048 = Sgemm(2048, options.Quick ? 2 : options.Repetitions);
        progress("resnet20 training (batch " + options.TrainBatch + ")");
        var (train, gen0, steps, kb, poolAllocs) = Train(options);
        progress("resnet20 inference (batch " + options.InferBatch + ")");
        double infer = Infer(options);
        return new BenchResult(g1024, g2048, train, infer, gen0, steps, kb, poolAllocs, backend.Name, Environment.ProcessorCount);
    }

    private static double Median(List<double> values)
    {
        values.Sort();
        int n = values.Count;
        return n % 2 == 1 ? values[n / 2] : 0.5 * (values[n / 2 - 1] + values[n / 2]);
    }

    /// <summary>GFLOP/s of C = A·B for n×n float32 matrices (2n³ flops), through the backend's MatMul.</summary>
    public static double Sgemm(int n, int repetitions)
    {
        var rng = new Rng(1);
        using var a = Tensor.RandomUniform(new Shape(1, n, n), -1, 1, rng);
        using var b = Tensor.RandomUniform(new Shape(1, n, n), -1, 1, rng);
        using var c = Tensor.Zeros(new Shape(1, n, n));
        var backend = a.Backend;
        backend.MatMul(a.View, false, b.View, false, c.View, 1, 0);
        backend.Synchronize();
        var times = new List<double>();
        for (int r = 0; r < repetitions; r++)
        {
            var sw = Stopwatch.StartNew();
            backend.MatMul(a.View, false, b.View, false, c.View, 1, 0);
            backend.Synchronize();
            times.Add(2.0 * n * n * n / sw.Elapsed.TotalSeconds / 1e9);
        }
        return Median(times);
    }

    /// <summary>
    /// Runs the step until the JIT has settled: .NET first compiles methods quickly (tier 0) and recompiles hot ones
    /// optimised in the background after a short delay, so a few seconds of warm-up separate steady-state speed from
    /// start-up. At least 3 steps and 3 seconds (0.5 s with --quick).
    /// </summary>
    private static void WarmUp(Action step, BenchOptions o) => WarmUp(step, o.Quick);

    /// <summary>The same warm-up for any measured action (used by the attribution benchmark).</summary>
    public static void WarmUp(Action step, bool quick)
    {
        var sw = Stopwatch.StartNew();
        for (int i = 0; i < 3 || sw.Elapsed.TotalSeconds < (quick ? 0.5 : 3); i++) step();
    }

    /// <summary>Buffers the backend's memory pool has had to allocate so far (0 growth once warm is the goal).</summary>
    private static long PoolAllocations(Standalone.Backends.IBackend backend) => backend switch
    {
        Standalone.Backends.Cpu.CpuBackend cpu => cpu.PoolStatistics.Allocated,
        Standalone.Backends.Gpu.GpuBackend gpu => gpu.PoolStatistics.Allocated,
        _ => 0,
    };

    /// <summary>One convolution shape of ResNet-20 and how many of it a forward pass runs.</summary>
    public sealed record ConvLayer(string Name, int InChannels, int OutChannels, int Size, int Kernel, int Stride, int CountInResNet20)
    {
        public int OutSize => (Size + 2 * (Kernel / 2) - Kernel) / Stride + 1;
        /// <summary>Multiply-adds ×2 of one pass (forward, backward input and backward weight each do as many).</summary>
        public double Flops(int batch) => 2.0 * batch * InChannels * OutChannels * Kernel * Kernel * OutSize * OutSize;
    }

    /// <summary>Every distinct convolution of the benchmark's ResNet-20 (1×32×32 input, shortcut B).</summary>
    public static readonly IReadOnlyList<ConvLayer> ResNet20Convolutions =
    [
        new("3×3, 1 → 16 (stem), 32×32", 1, 16, 32, 3, 1, 1),
        new("3×3, 16 → 16, 32×32", 16, 16, 32, 3, 1, 6),
        new("3×3 stride 2, 16 → 32, 32×32", 16, 32, 32, 3, 2, 1),
        new("1×1 stride 2, 16 → 32, 32×32", 16, 32, 32, 1, 2, 1),
        new("3×3, 32 → 32, 16×16", 32, 32, 16, 3, 1, 5),
        new("3×3 stride 2, 32 → 64, 16×16", 32, 64, 16, 3, 2, 1),
        new("1×1 stride 2, 32 → 64, 16×16", 32, 64, 16, 1, 2, 1),
        new("3×3, 64 → 64, 8×8", 64, 64, 8, 3, 1, 5),
    ];

    /// <summary>
    /// Times each ResNet-20 convolution alone at the training batch size: forward, backward input and backward weight,
    /// the three interleaved call by call (so the machine's drift falls on all three alike), each the median over the
    /// repetitions of ms per call. Returns (layer, forward ms, backward-input ms, backward-weight ms).
    /// </summary>
    public static IReadOnlyList<(ConvLayer Layer, double ForwardMs, double BackwardInputMs, double BackwardWeightMs)> ConvolutionLayers(BenchOptions o)
    {
        var rows = new List<(ConvLayer, double, double, double)>();
        var rng = new Rng(3);
        int batch = o.TrainBatch, repetitions = o.Quick ? 3 : Math.Max(5, o.Repetitions * 4);
        foreach (var layer in ResNet20Convolutions)
        {
            var p = new Standalone.Backends.Conv2dParams(layer.Stride, layer.Stride, layer.Kernel / 2, layer.Kernel / 2, 1, 1, 1);
            using var x = Tensor.RandomNormal(new Shape(batch, layer.InChannels, layer.Size, layer.Size), 0, 1, rng);
            using var w = Tensor.RandomNormal(new Shape(layer.OutChannels, layer.InChannels, layer.Kernel, layer.Kernel), 0, 0.1, rng);
            using var dy = Tensor.RandomNormal(new Shape(batch, layer.OutChannels, layer.OutSize, layer.OutSize), 0, 1, rng);
            Action[] passes =
            [
                () => Tensor.Conv2d(x, w, null, p).Dispose(),
                () => Tensor.Conv2dBackwardInput(dy, w, x.Shape, p).Dispose(),
                () => Tensor.Conv2dBackwardWeight(dy, x, w.Shape, false, p).DWeight.Dispose(),
            ];
            foreach (var pass in passes)
            {
                var warm = Stopwatch.StartNew();
                for (int i = 0; i < 2 || (!o.Quick && warm.Elapsed.TotalSeconds < 0.25); i++) pass();
                x.Backend.Synchronize();
            }
            var times = passes.Select(_ => new List<double>()).ToArray();
            for (int r = 0; r < repetitions; r++)
                for (int i = 0; i < passes.Length; i++)
                {
                    var sw = Stopwatch.StartNew();
                    passes[i]();
                    x.Backend.Synchronize();
                    times[i].Add(sw.Elapsed.TotalMilliseconds);
                }
            rows.Add((layer, Median(times[0]), Median(times[1]), Median(times[2])));
        }
        return rows;
    }

    /// <summary>The ResNet-20 the benchmark measures: shortcut B, 1×32×32 input, 10 classes.</summary>
    public static ResNetCifar CreateModel() => new(depth: 20, numClasses: 10, inChannels: 1, seed: 0);

    /// <summary>
    /// Runs training steps with the op profiler on and returns where the time went, per primitive
    /// (each primitive synchronizes, so the total is somewhat above an unprofiled step).
    /// </summary>
    public static IReadOnlyList<(string Name, double MillisecondsPerStep, long CallsPerStep)> ProfileTraining(BenchOptions o, int steps = 3)
    {
        var step = TrainingStep(o);
        WarmUp(step, o);
        Diagnostics.OpProfiler.Reset();
        Diagnostics.OpProfiler.Enabled = true;
        try
        {
            for (int i = 0; i < steps; i++) step();
        }
        finally { Diagnostics.OpProfiler.Enabled = false; }
        return Diagnostics.OpProfiler.Snapshot().Select(e => (e.Name, e.Milliseconds / steps, e.Calls / steps)).ToList();
    }

    /// <summary>One ResNet-20 training step on a fixed random batch (forward, cross-entropy, backward, SGD step).</summary>
    private static Action TrainingStep(BenchOptions o)
    {
        var model = CreateModel();
        model.Train();
        var optimizer = new Sgd(model.Parameters(), learningRate: 0.01, momentum: 0.9, weightDecay: 5e-4);
        var rng = new Rng(2);
        var input = Tensor.RandomNormal(new Shape(o.TrainBatch, 1, 32, 32), 0, 1, rng);
        var labelValues = new long[o.TrainBatch];
        for (int i = 0; i < labelValues.Length; i++) labelValues[i] = rng.NextInt(10);
        var labels = Tensor.FromArray<long>(labelValues, new Shape(o.TrainBatch));

        void Step()
        {
            using var scope = TensorScope.Begin();
            var logits = model.Forward(Variable.Constant(input));
            var loss = F.CrossEntropy(logits, labels);
            optimizer.ZeroGrad();
            loss.Backward();
            optimizer.Step();
            input.Backend.Synchronize();
        }
        return Step;
    }

    private static (double ImagesPerSecond, int Gen0, int Steps, double KbPerStep, long PoolAllocations) Train(BenchOptions o)
    {
        var step = TrainingStep(o);
        WarmUp(step, o);
        long poolBefore = PoolAllocations(Tensor.DefaultBackend);
        int gen0Before = GC.CollectionCount(0);
        long bytesBefore = GC.GetTotalAllocatedBytes(precise: false);
        int steps = 0;
        var rates = new List<double>();
        int reps = o.Quick ? 2 : o.Repetitions;
        for (int r = 0; r < reps; r++)
        {
            var sw = Stopwatch.StartNew();
            for (int s = 0; s < o.StepsPerRepetition; s++) step();
            rates.Add(o.TrainBatch * o.StepsPerRepetition / sw.Elapsed.TotalSeconds);
            steps += o.StepsPerRepetition;
        }
        int gen0 = GC.CollectionCount(0) - gen0Before;
        double kb = (GC.GetTotalAllocatedBytes(precise: false) - bytesBefore) / 1024.0 / steps;
        long poolAfter = PoolAllocations(Tensor.DefaultBackend);
        return (Median(rates), gen0, steps, kb, poolAfter - poolBefore);
    }

    private static double Infer(BenchOptions o)
    {
        var model = CreateModel();
        model.Eval();
        using var input = Tensor.RandomNormal(new Shape(o.InferBatch, 1, 32, 32), 0, 1, new Rng(3));
        void Step()
        {
            using var scope = TensorScope.Begin();
            using var noGrad = Grad.Disabled();
            model.Forward(Variable.Constant(input));
            input.Backend.Synchronize();
        }
        WarmUp(Step, o);
        var rates = new List<double>();
        int reps = o.Quick ? 2 : o.Repetitions;
        for (int r = 0; r < reps; r++)
        {
            var sw = Stopwatch.StartNew();
            for (int s = 0; s < o.StepsPerRepetition; s++) Step();
            rates.Add(o.InferBatch * o.StepsPerRepetition / sw.Elapsed.TotalSeconds);
        }
        return Median(rates);
    }
}
