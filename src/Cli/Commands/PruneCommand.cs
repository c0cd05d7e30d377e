// `standalone prune`: structured pruning of a trained model file by one criterion and schedule (docs/algorithms.md).
// With no flags it prunes the shipped ResNet-20 Fashion-MNIST model to half its MACs with the measured best
// configuration (L1, global ranking of layer-mean-normalised scores, one shot, 9 epochs of fine-tuning). Writes
// the compacted model, report.json and report.md into --out (default runs/prune-<timestamp>/) and prints a table.
using System.CommandLine;
using System.Globalization;
using Standalone.Pruning;
using Standalone.Pruning.Criteria;
using Standalone.Pruning.Reports;
using Standalone.Pruning.Schedules;

namespace Standalone.Cli.Commands;

internal static class PruneCommand
{
    public static Command Create()
    {
        var defaults = new PruneOptions();
        var model = new Option<string>("--model") { HelpName = "FILE", Description = "Trained model file written by Standalone.", DefaultValueFactory = _ => EvalCommand.DefaultModel };
        var data = CommonOptions.DataDirectory();
        var criterion = new Option<string>("--criterion") { HelpName = "NAME", Description = $"Importance criterion: {string.Join(", ", PruneOptions.Criteria)}.", DefaultValueFactory = _ => defaults.Criterion };
        var schedule = new Option<string?>("--schedule") { HelpName = "NAME", Description = $"one-shot, progressive, iterative or entwined (default {PruneOptions.ScheduleName(defaults.ResolvedSchedule)})." };
        var targetMacs = new Option<double?>("--target-macs") { HelpName = "F", Description = "Fraction of the MACs to remove (default 0.5 when no target is given)." };
        var targetParams = new Option<double?>("--target-params") { HelpName = "F", Description = "Fraction of the parameters to remove." };
        var ratio = new Option<double?>("--ratio") { HelpName = "F", Description = "Fraction of the channels (groups) to remove." };
        var ranking = new Option<string>("--ranking") { HelpName = "cost|global|layer", Description = "How the budget is spread over the layers: one global ranking of score per MAC (or parameter) saved, of plain scores, or (one-shot with --ratio) the same share of every layer.", DefaultValueFactory = _ => RankingName(defaults) };
        var output = new Option<string?>("--out") { HelpName = "DIR", Description = "Output directory (default runs/prune-<timestamp>)." };
        var seed = new Option<ulong>("--seed") { HelpName = "N", Description = "Seed of the scoring batches, fine-tuning order and random scores/gradients.", DefaultValueFactory = _ => 0 };
        var ignore = new Option<string[]>("--ignore") { HelpName = "LAYER", Description = "Conv/Linear layers (state-dict prefixes, e.g. conv1) that keep all their channels.", AllowMultipleArgumentsPerToken = true };
        var minChannels = new Option<int>("--min-channels") { HelpName = "N", Description = "Fewest channels a layer keeps.", DefaultValueFactory = _ => defaults.Selection.MinChannels };
        var roundTo = new Option<int>("--round-to") { HelpName = "N", Description = "Keep each layer's width a multiple of N.", DefaultValueFactory = _ => defaults.Selection.RoundTo };
        var layerRatio = new Option<string[]>("--layer-ratio") { HelpName = "NAME=F", Description = "Per-layer ranking: fraction removed from one layer (repeatable).", AllowMultipleArgumentsPerToken = true };
        var normalization = new Option<string>("--score-normalization") { HelpName = "none|mean|l1|l2|max", Description = "Divide scores by their layer's mean, L1 or L2 norm or maximum before a global ranking.", DefaultValueFactory = _ => defaults.Selection.Normalization.ToString().ToLowerInvariant() };
        var maxLayerRatio = new Option<double>("--max-layer-ratio") { HelpName = "F", Description = "Largest fraction of any layer's channels removed (a per-layer ceiling; 1: none).", DefaultValueFactory = _ => defaults.Selection.MaxLayerRatio };
        var scoreBatches = new Option<int>("--score-batches") { HelpName = "N", Description = "Fresh training batches per scoring.", DefaultValueFactory = _ => defaults.ScoreBatches };
        var scoreBatchSize = new Option<int>("--score-batch-size") { HelpName = "B", Description = "Images per scoring batch.", DefaultValueFactory = _ => defaults.ScoreBatchSize };
        var perClass = new Option<int>("--score-per-class") { HelpName = "K", Description = "Scarce data: score on a fixed set of K training images per class.", DefaultValueFactory = _ => 0 };
        var igSteps = new Option<int>("--ig-steps") { HelpName = "S", Description = "singe: integration steps.", DefaultValueFactory = _ => defaults.Singe.Steps };
        var igPath = new Option<string>("--ig-path") { HelpName = "layer|channel", Description = "singe: scale a whole layer or each channel along its own path.", DefaultValueFactory = _ => "layer" };
        var igNorm = new Option<int>("--ig-norm") { HelpName = "1|2", Description = "singe: norm of the attribution vector.", DefaultValueFactory = _ => defaults.Singe.Norm };
        var randomGradient = new Option<bool>("--random-gradient") { Description = "gradient/taylor*: seed backward with unit-norm N(0, I) at the logits instead of the labelled loss." };
        var normalizeGradient = new Option<bool>("--normalize-gradient") { Description = "gradient/taylor*: divide each sample's contribution by its output-gradient norm." };
        var step = new Option<double>("--step") { HelpName = "F", Description = "iterative: fraction of the groups pruned per iteration.", DefaultValueFactory = _ => defaults.IterativeStep };
        var progressiveSteps = new Option<int>("--progressive-steps") { HelpName = "N", Description = "progressive: equal steps of the target, re-scoring before each.", DefaultValueFactory = _ => defaults.ProgressiveSteps };
        var progressiveTune = new Option<int>("--progressive-tune-steps") { HelpName = "N", Description = "progressive: fine-tuning steps between steps (0: none).", DefaultValueFactory = _ => defaults.ProgressiveTuneSteps };
        var iterativeSteps = new Option<int>("--iterative-steps") { HelpName = "N", Description = "iterative: fine-tuning steps after each iteration.", DefaultValueFactory = _ => defaults.IterativeSteps };
        var entwinedFraction = new Option<double>("--entwined-fraction") { HelpName = "F", Description = "entwined: channels pruned per round, as a fraction of the layer's width (at least 1).", DefaultValueFactory = _ => defaults.EntwinedFraction };
        var entwinedSteps = new Option<int>("--entwined-steps") { HelpName = "N", Description = "entwined: fine-tuning steps after each round.", DefaultValueFactory = _ => defaults.EntwinedSteps };
        var epochs = new Option<double>("--finetune-epochs") { HelpName = "E", Description = "Final fine-tuning epochs (cosine-decayed learning rate).", DefaultValueFactory = _ => defaults.FineTuneEpochs };
        var finetuneSteps = new Option<int>("--finetune-steps") { HelpName = "N", Description = "Total fine-tuning budget in steps, rounds between pruning steps included; the final phase gets the rest (overrides --finetune-epochs; 0: off).", DefaultValueFactory = _ => defaults.FineTuneSteps };
        var distillAlpha = new Option<double>("--distill-alpha") { HelpName = "A", Description = "Distil from the unpruned model while fine-tuning: weight of the soft targets, (1 − A)·CE + A·T²·KL (0: off).", DefaultValueFactory = _ => defaults.DistillAlpha };
        var distillTemperature = new Option<double>("--distill-temperature") { HelpName = "T", Description = "Distillation temperature.", DefaultValueFactory = _ => defaults.DistillTemperature };
        var batchSize = new Option<int>("--batch-size") { HelpName = "B", Description = "Images per fine-tuning step.", DefaultValueFactory = _ => defaults.BatchSize };
        var lr = new Option<double>("--lr") { HelpName = "LR", Description = "Fine-tuning learning rate.", DefaultValueFactory = _ => defaults.LearningRate };
        var curveImages = new Option<int>("--curve-images") { HelpName = "N", Description = "Test images for the accuracy points along the run (0: none).", DefaultValueFactory = _ => defaults.CurveImages };
        var testImages = new Option<int>("--test-images") { HelpName = "N", Description = "Evaluate on the first N test images only (0: all) — for quick trials.", DefaultValueFactory = _ => 0 };
        var resume = new Option<string?>("--resume") { HelpName = "DIR", Description = "Continue the interrupted run in DIR with the options it was started with (other options are ignored)." };
        var force = new Option<bool>("--force") { Description = "Replace a finished run in --out (its model and report); without it such a directory is refused." };
        var noThroughput = new Option<bool>("--no-throughput") { Description = "Skip measuring inference images/s of the baseline and the pruned model." };
        var command = new Command("prune", "Prune a trained model by attribution (SInGE, LRP, Taylor) or a classic criterion; write the smaller model and a report.")
        {
            model, data, criterion, schedule, targetMacs, targetParams, ratio, ranking, output, seed, ignore, minChannels, roundTo, layerRatio, normalization, maxLayerRatio,
            scoreBatches, scoreBatchSize, perClass, igSteps, igPath, igNorm, randomGradient, normalizeGradient, progressiveSteps, progressiveTune, step, iterativeSteps,
            entwinedFraction, entwinedSteps, epochs, finetuneSteps, batchSize, lr, distillAlpha, distillTemperature, curveImages, testImages, noThroughput, resume, force,
        };
        command.SetAction(parse =>
        {
            if (parse.GetValue(resume) is { } resumeDir)
            {
                var saved = PruneJob.Inspect(resumeDir);
                CommonOptions.WarnIgnoredWithResume(parse, command, resume);
                Console.WriteLine($"resuming {resumeDir}: {saved.Options.Criterion} ({PruneOptions.ScheduleName(saved.Options.ResolvedSchedule)}) on {saved.ModelPath}, " +
                    $"phase {saved.Phase}, {saved.Pruned.Length} groups pruned, {saved.TunerSteps} fine-tuning steps done");
                return Execute(cancel => PruneJob.Resume(resumeDir, new LineObserver(saved.Options.CurveImages), cancel), resumeDir, saved.Options.TestImages);
            }
            string rankingName = parse.GetValue(ranking)!;
            if (rankingName is not ("cost" or "global" or "layer")) throw new ArgumentException($"--ranking must be cost, global or layer, got '{rankingName}'");
            var options = new PruneOptions
            {
                Criterion = parse.GetValue(criterion)!,
                Schedule = parse.GetValue(schedule) is { } s ? PruneOptions.ParseSchedule(s) : null,
                Target = PruningTarget.Create(parse.GetValue(targetMacs), parse.GetValue(targetParams), parse.GetValue(ratio)),
                GlobalRanking = rankingName != "layer",
                Selection = new SelectionOptions
                {
                    MinChannels = parse.GetValue(minChannels),
                    RoundTo = parse.GetValue(roundTo),
                    Normalization = ParseNormalization(parse.GetValue(normalization)!),
                    CostAware = rankingName == "cost",
                    MaxLayerRatio = parse.GetValue(maxLayerRatio),
                    LayerRatios = ParseLayerRatios(parse.GetValue(layerRatio) ?? []),
                },
                Ignore = parse.GetValue(ignore) ?? [],
                Seed = parse.GetValue(seed),
                ScoreBatches = parse.GetValue(scoreBatches),
                ScoreBatchSize = parse.GetValue(scoreBatchSize),
                ScorePerClass = parse.GetValue(perClass),
                Singe = new SingeOptions
                {
                    Steps = parse.GetValue(igSteps),
                    Path = parse.GetValue(igPath) switch { "layer" => IgPath.Layer, "channel" => IgPath.Channel, var p => throw new ArgumentException($"--ig-path must be layer or channel, got '{p}'") },
                    Norm = parse.GetValue(igNorm),
                },
                RandomGradient = parse.GetValue(randomGradient),
                NormalizeGradient = parse.GetValue(normalizeGradient),
                ProgressiveSteps = parse.GetValue(progressiveSteps),
                ProgressiveTuneSteps = parse.GetValue(progressiveTune),
                IterativeStep = parse.GetValue(step),
                IterativeSteps = parse.GetValue(iterativeSteps),
                EntwinedFraction = parse.GetValue(entwinedFraction),
                EntwinedSteps = parse.GetValue(entwinedSteps),
                FineTuneEpochs = parse.GetValue(epochs),
                FineTuneSteps = parse.GetValue(finetuneSteps),
                DistillAlpha = parse.GetValue(distillAlpha),
                DistillTemperature = parse.GetValue(distillTemperature),
                LearningRate = parse.GetValue(lr),
                BatchSize = parse.GetValue(batchSize),
                CurveImages = parse.GetValue(curveImages),
                TestImages = parse.GetValue(testImages),
                MeasureThroughput = !parse.GetValue(noThroughput),
            };
            options.Validate();
            string path = CommonOptions.ResolveModelPath(parse.GetValue(model)!);
            string outDir = parse.GetValue(output) ?? Path.Combine("runs", "prune-" + DateTime.Now.ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture));
            PruneJob.CheckOutputDirectory(outDir, parse.GetValue(force));
            Console.WriteLine($"pruning {path} with {options.Criterion} ({PruneOptions.ScheduleName(options.ResolvedSchedule)}) to {options.Target}; output {outDir}");

            return Execute(cancel => PruneJob.Run(path, parse.GetValue(data), options, outDir, new LineObserver(options.CurveImages), cancel), outDir, options.TestImages);
        });
        return command;
    }

    /// <summary>Runs the job with Ctrl+C wired to a checkpoint-and-stop; prints the table or how to resume.</summary>
    private static int Execute(Func<CancellationToken, PruneReport> job, string outDir, int testImages)
    {
        using var cancel = new CancellationTokenSource();
        ConsoleCancelEventHandler onCancel = (_, e) =>
        {
            if (cancel.IsCancellationRequested) return; // a second Ctrl+C ends the process at once
            e.Cancel = true;
            cancel.Cancel();
            Console.Error.WriteLine("interrupted: saving a checkpoint ...");
        };
        Console.CancelKeyPress += onCancel;
        try
        {
            Print(job(cancel.Token), testImages);
            return 0;
        }
        catch (OperationCanceledException)
        {
            Console.WriteLine($"stopped; checkpoint {Path.Combine(outDir, PruneJob.CheckpointFile)}");
            Console.WriteLine($"continue with: standalone prune --resume {outDir}");
            return 130;
        }
        finally { Console.CancelKeyPress -= onCancel; }
    }

    private static ScoreNormalization ParseNormalization(string name) => name switch
    {
        "none" => ScoreNormalization.None,
        "mean" => ScoreNormalization.Mean,
        "l1" => ScoreNormalization.L1,
        "l2" => ScoreNormalization.L2,
        "max" => ScoreNormalization.Max,
        _ => throw new ArgumentException($"--score-normalization must be none, mean, l1, l2 or max, got '{name}'"),
    };

    private static string RankingName(PruneOptions o) => !o.GlobalRanking ? "layer" : o.Selection.CostAware ? "cost" : "global";

    private static Dictionary<string, double> ParseLayerRatios(IEnumerable<string> entries)
    {
        var result = new Dictionary<string, double>();
        foreach (string entry in entries)
        {
            int eq = entry.IndexOf('=');
            if (eq <= 0 || !double.TryParse(entry[(eq + 1)..], NumberStyles.Float, CultureInfo.InvariantCulture, out double f) || !(f >= 0 && f < 1))
                throw new ArgumentException($"--layer-ratio expects NAME=F with F in [0, 1), got '{entry}'");
            result[entry[..eq]] = f;
        }
        return result;
    }

    private static void Print(PruneReport r, int testImages)
    {
        Console.WriteLine();
        // --test-images evaluates on a subset: the table says which images its accuracies are on.
        string on = testImages > 0 ? $"(first {testImages:N0} test images)" : "(full test set)";
        Console.WriteLine($"{on,-28}{"accuracy",10}{"params",14}{"MACs",16}");
        Console.WriteLine($"{"baseline",-28}{r.Baseline.Accuracy,10:P2}{r.Baseline.Params,14:N0}{r.Baseline.Macs,16:N0}");
        Console.WriteLine($"{"pruned, before fine-tuning",-28}{r.AccuracyBeforeFinetune,10:P2}");
        Console.WriteLine($"{"pruned, fine-tuned",-28}{r.Pruned.Accuracy,10:P2}{r.Pruned.Params,14:N0}{r.Pruned.Macs,16:N0}");
        Console.WriteLine($"removed: {1 - (double)r.Pruned.Macs / r.Baseline.Macs:P1} of the MACs, {1 - (double)r.Pruned.Params / r.Baseline.Params:P1} of the parameters; accuracy {100 * (r.Pruned.Accuracy - r.Baseline.Accuracy):+0.00;-0.00} points");
        if (r.Throughput is { } t)
            Console.WriteLine($"inference: {t.BaselineImagesPerSecond:N0} → {t.PrunedImagesPerSecond:N0} images/s ({t.Speedup:F2}×, baseline and pruned measured alternately)" +
                (t.Trustworthy ? "" : $"; not trustworthy: the machine's speed varied by {t.Spread:P0} between rounds (is something else running?)"));
        Console.WriteLine($"time: {r.Timings.Total:F0} s (scoring {r.Timings.Scoring:F0} s, fine-tuning {r.Timings.FineTuning:F0} s, evaluation {r.Timings.Evaluation:F0} s)");
        Console.WriteLine($"wrote {r.Files.Model}, {r.Files.Onnx}, {r.Files.Report}, {r.Files.Markdown}, {string.Join(", ", r.Files.Charts.Select(Path.GetFileName))}");
    }

    /// <summary>Phases and curve points as lines; progress at most every few seconds.</summary>
    private sealed class LineObserver(int curveImages) : IPruneObserver
    {
        private readonly System.Diagnostics.Stopwatch _clock = System.Diagnostics.Stopwatch.StartNew();
        private double _lastProgress;

        public void Phase(string description) => Console.WriteLine($"[{_clock.Elapsed:mm\\:ss}] {description}");

        public void Progress(string phase, int done, int total)
        {
            if (_clock.Elapsed.TotalSeconds - _lastProgress < 10 || done == total) return;
            _lastProgress = _clock.Elapsed.TotalSeconds;
            Console.WriteLine($"[{_clock.Elapsed:mm\\:ss}]   {phase} {done}/{total}");
        }

        public void Point(CurvePoint p) =>
            Console.WriteLine($"[{_clock.Elapsed:mm\\:ss}]   {p.Label}: {p.MacsRemoved:P1} MACs removed, accuracy {p.Accuracy:P2} on the first {curveImages:N0} test images (a subset)");
    }
}
