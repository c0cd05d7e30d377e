// `standalone bench [--json FILE] [--quick]`: runs the throughput harness and prints (and optionally writes) the
// four keys sgemm_gflops_1024, sgemm_gflops_2048, resnet20_train_img_s, resnet20_infer_img_s, and the attribution
// passes' costs. --profile: a training step per primitive; --layers: each ResNet-20 convolution alone; --model:
// inference speed of model files.
using System.CommandLine;
using System.Text.Json;
using System.Text.Json.Nodes;
using Standalone.Models.Training;
using Standalone.Pruning.Benchmarks;
using Standalone.Pruning.Reports;
using Standalone.Models.Benchmarks;
using Standalone.Models.IO;

namespace Standalone.Cli.Commands;

internal static class BenchCommand
{
    public static Command Create()
    {
        var json = new Option<FileInfo?>("--json") { HelpName = "FILE", Description = "Also write the results to this JSON file (replaced atomically)." };
        var quick = new Option<bool>("--quick") { Description = "Fewer repetitions (a smoke test, not a measurement)." };
        var repetitions = new Option<int>("--repetitions") { HelpName = "N", Description = "Timed repetitions per measurement; the median is reported.", DefaultValueFactory = _ => 5 };
        var profile = new Option<bool>("--profile") { Description = "Instead of the four keys, show where a ResNet-20 training step spends its time, per primitive." };
        var layers = new Option<bool>("--layers") { Description = "Instead of the four keys, time each ResNet-20 convolution alone (batch 128): forward, backward input and backward weight, in ms and GFLOP/s." };
        var models = new Option<string[]>("--model") { HelpName = "FILE", Description = "Instead: inference images/s (batch 256, eval mode) of these model files, e.g. a baseline and its pruned version.", AllowMultipleArgumentsPerToken = true };
        var modelRounds = new Option<int>("--rounds") { HelpName = "N", Description = "With --model: measure the files in turn this many times and report each one's median.", DefaultValueFactory = _ => 3 };
        var command = new Command("bench", "Measure SGEMM GFLOP/s and ResNet-20 training/inference throughput on this machine.") { json, quick, repetitions, profile, layers, models, modelRounds };
        command.SetAction(parse =>
        {
            if (parse.GetValue(models) is { Length: > 0 } files)
            {
                // Every model loaded first, then measured in turn, round after round (InferenceSpeed.Interleaved).
                var loaded = files.Select(f => (File: f, Model: Checkpoint.LoadModel(CommonOptions.ResolveModelPath(f)))).ToList();
                foreach (var entry in loaded)
                    if (entry.Model.Data?.Input is null) throw new ArgumentException($"{entry.File} records no input size (standalone.data metadata)");
                int rounds = parse.GetValue(modelRounds);
                var rates = InferenceSpeed.Interleaved(loaded.Select(e => (e.Model.Model, e.Model.Data!.Input[0], e.Model.Data.Input[1], e.Model.Data.Input[2])).ToList(),
                    rounds, Math.Max(1, parse.GetValue(repetitions)));
                Console.WriteLine($"inference, batch 256, median of {rounds} interleaved round(s); × is against the first file");
                for (int i = 0; i < loaded.Count; i++)
                    Console.WriteLine($"{rates[i],10:N0} images/s  {rates[i] / rates[0],5:F2}×  {loaded[i].File}: {loaded[i].Model.Spec}");
                return 0;
            }
            if (parse.GetValue(profile))
            {
                var rows = ThroughputBenchmark.ProfileTraining(new BenchOptions());
                double total = rows.Sum(r => r.MillisecondsPerStep);
                Console.WriteLine($"{"primitive",-28} {"ms/step",9} {"share",7} {"calls",6}");
                foreach (var (name, ms, calls) in rows)
                    Console.WriteLine($"{name,-28} {ms,9:F2} {ms / total,7:P1} {calls,6}");
                Console.WriteLine($"{"total",-28} {total,9:F2}   (batch 128 → {128 / total * 1000:F0} img/s while profiling)");
                return 0;
            }
            int reps = parse.GetValue(repetitions);
            if (reps < 1) throw new ArgumentException($"--repetitions must be at least 1, got {reps}");
            if (parse.GetValue(layers))
            {
                if (parse.GetValue(json) != null) throw new ArgumentException("--json writes the four keys; --layers prints its table only (redirect the output to keep it)");
                var options = new BenchOptions(Repetitions: reps, Quick: parse.GetValue(quick));
                var rows = ThroughputBenchmark.ConvolutionLayers(options);
                Console.WriteLine($"{$"convolution (batch {options.TrainBatch})",-32} {"count",5} {"forward",16} {"backward input",16} {"backward weight",16}");
                double[] total = new double[3];
                foreach (var (layer, forward, backwardInput, backwardWeight) in rows)
                {
                    double flops = layer.Flops(options.TrainBatch) / 1e6;
                    string Cell(double ms) => $"{ms,6:F3} ms {flops / ms,4:F0} GF";
                    Console.WriteLine($"{layer.Name,-32} {layer.CountInResNet20,5} {Cell(forward),16} {Cell(backwardInput),16} {Cell(backwardWeight),16}");
                    total[0] += layer.CountInResNet20 * forward;
                    // The stem's input is the image, whose gradient a training step never computes.
                    total[1] += layer.InChannels == 1 ? 0 : layer.CountInResNet20 * backwardInput;
                    total[2] += layer.CountInResNet20 * backwardWeight;
                }
                Console.WriteLine($"{"per training step (× count)",-32} {"",5} {total[0],9:F2} ms    {total[1],9:F2} ms    {total[2],9:F2} ms    = {total.Sum():F1} ms");
                return 0;
            }
            // Fail before measuring, not after, when the JSON file cannot be written.
            if (parse.GetValue(json) is { } target) Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(target.FullName))!);
            var result = ThroughputBenchmark.Run(new BenchOptions(Repetitions: reps, Quick: parse.GetValue(quick)), step => Console.Error.WriteLine($"measuring {step} ..."));
            var keys = new JsonObject
            {
                ["sgemm_gflops_1024"] = Math.Round(result.SgemmGflops1024, 1),
                ["sgemm_gflops_2048"] = Math.Round(result.SgemmGflops2048, 1),
                ["resnet20_train_img_s"] = Math.Round(result.ResNet20TrainImagesPerSecond, 1),
                ["resnet20_infer_img_s"] = Math.Round(result.ResNet20InferImagesPerSecond, 1),
            };
            Console.Error.WriteLine("measuring attribution passes (batch 128) ...");
            var scoring = ScoringBenchmark.Run(repetitions: parse.GetValue(quick) ? 3 : reps, quick: parse.GetValue(quick));
            keys["train_step_ms"] = Math.Round(scoring.TrainStepMs, 1);
            keys["singe_step_ms"] = Math.Round(scoring.SingeStepMs, 1);
            keys["taylor_pass_ms"] = Math.Round(scoring.TaylorPassMs, 1);
            keys["lrp_pass_ms"] = Math.Round(scoring.LrpPassMs, 1);
            foreach (var (key, value) in keys) Console.WriteLine($"{key,-24} {value}");
            Console.WriteLine($"device: {result.Device}; training: {result.Gen0Collections} gen-0 GCs over {result.TimedTrainSteps} timed steps, " +
                $"{result.AllocatedKilobytesPerTrainStep:F0} KiB managed allocation per step, {result.PoolArraysAllocatedWhenWarm} new pooled buffers once warm");
            if (parse.GetValue(json) is { } file) AtomicFile.WriteAllText(file.FullName, keys.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n");
            return 0;
        });
        return command;
    }
}
