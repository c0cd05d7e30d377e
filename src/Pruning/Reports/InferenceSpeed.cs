// Inference throughput of a model on this machine: images per second in evaluation mode without the tape, at one
// batch size, the median of several timed repetitions after a warm-up (the same definition as `standalone bench`).
// A repetition runs forward passes for at least MinRepetitionSeconds so that short passes are not timed alone.
using System.Diagnostics;
using Standalone.Autograd;
using Standalone.Models.Nn;

namespace Standalone.Pruning.Reports;

public static class InferenceSpeed
{
    public const double MinRepetitionSeconds = 0.5;

    public static double ImagesPerSecond(Module model, int channels, int height, int width, int batchSize = 256, int repetitions = 5)
    {
        bool wasTraining = model.Training;
        model.Eval();
        try
        {
            using var noGrad = Grad.Disabled();
            using var scope = TensorScope.Begin();
            var reference = model.Parameters().First().Data;
            var x = Variable.Constant(Tensor.RandomNormal(new Shape(batchSize, channels, height, width), 0, 1, new Rng(1), reference.DType, reference.Backend));
            double Once()
            {
                var watch = Stopwatch.StartNew();
                int passes = 0;
                do
                {
                    using var step = TensorScope.Begin();
                    model.Forward(x).Data.Backend.Synchronize();
                    passes++;
                }
                while (watch.Elapsed.TotalSeconds < MinRepetitionSeconds);
                return (double)batchSize * passes / watch.Elapsed.TotalSeconds;
            }
            Once();
            var rates = Enumerable.Range(0, repetitions).Select(_ => Once()).OrderBy(r => r).ToList();
            return rates[rates.Count / 2];
        }
        finally
        {
            model.Train(wasTraining);
        }
    }

    /// <summary>
    /// Images/s of several models measured in turn, round after round, each the median of its rounds, so that the
    /// machine's drift falls on all of them alike.
    /// </summary>
    public static double[] Interleaved(IReadOnlyList<(Module Model, int Channels, int Height, int Width)> models, int rounds = 3, int repetitions = 3) =>
        InterleavedWithSpread(models, rounds, repetitions).Rates;

    /// <summary>
    /// As <see cref="Interleaved"/>, with the largest spread of any model's rounds ((max − min) / median): a busy or
    /// throttling machine shows as a large spread, and a ratio of such figures is not to be trusted.
    /// </summary>
    public static (double[] Rates, double Spread) InterleavedWithSpread(IReadOnlyList<(Module Model, int Channels, int Height, int Width)> models, int rounds = 3, int repetitions = 3)
    {
        if (rounds < 1) throw new ArgumentException($"--rounds must be ≥ 1, got {rounds}");
        var rates = models.Select(_ => new List<double>()).ToList();
        for (int round = 0; round < rounds; round++)
            for (int i = 0; i < models.Count; i++)
                rates[i].Add(ImagesPerSecond(models[i].Model, models[i].Channels, models[i].Height, models[i].Width, repetitions: repetitions));
        var medians = rates.Select(r => r.Order().ElementAt(r.Count / 2)).ToArray();
        double spread = rates.Select((r, i) => (r.Max() - r.Min()) / medians[i]).Max();
        return (medians, spread);
    }
}
