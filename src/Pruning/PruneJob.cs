// The whole of `standalone prune` as one call: load the model file and its data set, run the pruning schedule,
// save the compacted model (a normal model file, loadable by eval/info), measure throughput, write the reports.
using Standalone.Models.Data;
using Standalone.Models.IO;
using Standalone.Models.IO.Onnx;
using Standalone.Models.Stats;
using Standalone.Models.Training;
using Standalone.Pruning.Reports;
using Standalone.Pruning.Schedules;

namespace Standalone.Pruning;

public static class PruneJob
{
    public const string ModelFile = "model.safetensors";
    public const string ReportFile = "report.json";
    public const string MarkdownFile = "report.md";
    public const string OnnxFile = "model.onnx";

    public const string CheckpointFile = "checkpoint.safetensors";

    /// <summary>A new run. The checkpoint (<see cref="CheckpointFile"/>) in the output directory is kept up to date until the run finishes.</summary>
    public static PruneReport Run(string modelPath, string? dataDirectory, PruneOptions options, string outputDirectory,
        IPruneObserver? observer = null, CancellationToken cancel = default) =>
        Execute(new PruneState { Options = options, ModelPath = Path.GetFullPath(modelPath), DataDirectory = dataDirectory is null ? null : Path.GetFullPath(dataDirectory) }, outputDirectory, null, observer, cancel);

    /// <summary>Continues the interrupted run whose checkpoint is in <paramref name="outputDirectory"/>.</summary>
    public static PruneReport Resume(string outputDirectory, IPruneObserver? observer = null, CancellationToken cancel = default)
    {
        var (state, file) = ReadCheckpoint(outputDirectory);
        using (file) return Execute(state, outputDirectory, file, observer, cancel);
    }

    /// <summary>The state a checkpoint holds (what `prune --resume` will continue).</summary>
    public static PruneState Inspect(string outputDirectory)
    {
        var (state, file) = ReadCheckpoint(outputDirectory);
        file.Dispose();
        return state;
    }

    /// <summary>
    /// Refuses an output directory that holds another run: an interrupted one (to be resumed, not restarted) or a finished
    /// one (replaced only when <paramref name="force"/> is set).
    /// </summary>
    public static void CheckOutputDirectory(string outputDirectory, bool force)
    {
        if (File.Exists(Path.Combine(outputDirectory, CheckpointFile)))
            throw new ArgumentException($"{outputDirectory} holds a checkpoint of another run ({CheckpointFile}): continue it with --resume {outputDirectory}, or choose another --out");
        if (!force && (File.Exists(Path.Combine(outputDirectory, ReportFile)) || File.Exists(Path.Combine(outputDirectory, ModelFile))))
            throw new ArgumentException($"{outputDirectory} holds a finished run ({(File.Exists(Path.Combine(outputDirectory, ReportFile)) ? ReportFile : ModelFile)}): choose another --out, or pass --force to replace it");
    }

    private static (PruneState State, SafeTensorsFile File) ReadCheckpoint(string outputDirectory)
    {
        if (!Directory.Exists(outputDirectory)) throw new DirectoryNotFoundException($"run directory {outputDirectory} does not exist: nothing to resume");
        string path = Path.Combine(outputDirectory, CheckpointFile);
        if (!File.Exists(path)) throw new FileNotFoundException($"{outputDirectory} holds no pruning checkpoint ({CheckpointFile}): nothing to resume");
        var file = SafeTensors.Read(path);
        try
        {
            if (!file.Metadata.TryGetValue(PruneState.MetadataKey, out var json))
                throw new InvalidDataException(file.Metadata.ContainsKey(Checkpoint.TrainerKey)
                    ? $"{path} is a training checkpoint, not a pruning one: continue it with standalone train --resume {outputDirectory}"
                    : $"{path} has no '{PruneState.MetadataKey}' metadata: it is not a pruning checkpoint");
            var state = MetadataJson.Read<PruneState>(json, path, "pruning state");
            state.Check(path);
            return (state, file);
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    private static PruneReport Execute(PruneState state, string outputDirectory, SafeTensorsFile? checkpoint, IPruneObserver? observer, CancellationToken cancel)
    {
        var options = state.Options;
        options.Validate();
        string modelPath = state.ModelPath;
        var loaded = Checkpoint.LoadModel(modelPath);
        var data = loaded.Data ?? throw new ArgumentException($"{modelPath} records no data set (standalone.data metadata); prune needs the data it was trained on");
        var train = DataCatalog.Load(data.Dataset, state.DataDirectory, train: true);
        var test = DataCatalog.Load(data.Dataset, state.DataDirectory, train: false);
        data.RequireFits(train, modelPath);
        data.RequireFits(test, modelPath);
        int c = data.Input[0], h = data.Input[1], w = data.Input[2];
        var before = ModelStats.Measure(loaded.Model, c, h, w);

        string checkpointPath = Path.Combine(outputDirectory, CheckpointFile);
        // Distillation's teacher: the unpruned model, loaded afresh from the same file (a resumed run too).
        var teacher = options.DistillAlpha > 0 ? Checkpoint.LoadModel(modelPath).Model : null;
        var run = new PruningRun(loaded.Model, data, train, test, options, observer, state, teacher)
        {
            Checkpoint = (current, optimizer) => Checkpoint.SaveModel(checkpointPath, loaded.Model, loaded.Spec, data,
                new Dictionary<string, string> { [PruneState.MetadataKey] = MetadataJson.Write(current) }, optimizer),
            RestoreWeights = checkpoint == null ? null : model => model.LoadStateDict(checkpoint.Tensors
                .Where(t => !t.Name.StartsWith(Checkpoint.OptimizerPrefix, StringComparison.Ordinal)).ToDictionary(t => t.Name, t => t.Value, StringComparer.Ordinal)),
            RestoreOptimizer = checkpoint == null ? null : optimizer => Checkpoint.LoadOptimizerState(checkpoint, loaded.Model, optimizer),
        };
        Directory.CreateDirectory(outputDirectory);
        AtomicFile.RemoveStale(outputDirectory); // temporary files of a process that was killed while writing
        var outcome = run.Run(cancel);

        var after = ModelStats.Measure(outcome.Model, c, h, w);
        if (after.Macs != outcome.Cost.Macs || after.Parameters != outcome.Cost.Parameters)
            throw new InvalidOperationException($"compaction: the compacted model has {after.Macs:N0} MACs and {after.Parameters:N0} parameters, the mask predicted {outcome.Cost.Macs:N0} and {outcome.Cost.Parameters:N0}");
        string modelFile = Path.Combine(outputDirectory, ModelFile);
        var spec = loaded.Spec with { Pruned = true, ShortcutPadding = outcome.ShortcutPadding.Count > 0 ? outcome.ShortcutPadding : null };
        Checkpoint.SaveModel(modelFile, outcome.Model, spec, data, new Dictionary<string, string>
        {
            ["standalone.pruning"] = $"{options.Criterion}, {PruneOptions.ScheduleName(options.ResolvedSchedule)}, {options.Target}, from {Path.GetFileName(modelPath)}",
        });
        string onnxFile = Path.Combine(outputDirectory, OnnxFile);
        OnnxExporter.Export(outcome.Model, c, h, w, onnxFile, new Dictionary<string, string> { [Checkpoint.ModelKey] = spec.ToJson(), [Checkpoint.DataKey] = data.ToJson() });
        Throughput? throughput = options.MeasureThroughput ? MeasureSpeed(Checkpoint.LoadModel(modelPath).Model, outcome.Model, c, h, w) : null;

        var layers = outcome.Cost.Layers.Select(l => new LayerWidth(l.Name, l.OutputsBefore, l.OutputsAfter)).ToList();
        var charts = RunCharts.Write(outputDirectory, $"{loaded.Spec.Architecture}, {options.Criterion}", outcome.Curve, layers);
        var report = new PruneReport
        {
            Model = loaded.Spec.ToString(),
            Dataset = data.Dataset,
            Criterion = options.Criterion,
            Schedule = PruneOptions.ScheduleName(options.ResolvedSchedule),
            Options = OptionsTable(options),
            Seed = options.Seed,
            Baseline = new ModelSummary(outcome.BaselineAccuracy, before.Parameters, before.Macs),
            Pruned = new ModelSummary(outcome.Accuracy, after.Parameters, after.Macs),
            AccuracyBeforeFinetune = outcome.AccuracyBeforeFinetune,
            Timings = outcome.Timings,
            FineTuneSteps = outcome.FineTuneSteps,
            Layers = layers,
            Curve = outcome.Curve,
            Throughput = throughput,
            Files = new ReportFiles(modelFile, onnxFile, Path.Combine(outputDirectory, ReportFile), Path.Combine(outputDirectory, MarkdownFile), charts),
            Machine = $"{Environment.ProcessorCount} cores, {System.Runtime.InteropServices.RuntimeInformation.OSDescription}",
            Date = DateTime.Now,
        };
        ReportWriter.WriteJson(report, report.Files.Report);
        ReportWriter.WriteMarkdown(report, report.Files.Markdown);
        File.Delete(checkpointPath); // the run is complete: the model file and the report are its result
        return report;
    }

    private static string TargetUnit(TargetKind kind) => kind switch { TargetKind.Macs => "MAC", TargetKind.Parameters => "parameter", _ => "channel" };

    /// <summary>Inference images/s of the baseline and the pruned model, in three interleaved rounds at the end of the run.</summary>
    private static Throughput MeasureSpeed(Models.Nn.Module baseline, Models.Nn.Module pruned, int c, int h, int w)
    {
        // Baseline and pruned alternately, round after round, so that drift in the machine's speed falls on both.
        var (rates, spread) = InferenceSpeed.InterleavedWithSpread([(baseline, c, h, w), (pruned, c, h, w)]);
        return new Throughput(rates[0], rates[1], 256, spread);
    }

    /// <summary>Every choice the run made, as the report's options table.</summary>
    public static IReadOnlyDictionary<string, string> OptionsTable(PruneOptions o)
    {
        var t = new Dictionary<string, string>
        {
            ["target"] = o.Target.ToString(),
            ["ranking"] = (o.ResolvedSchedule == ScheduleKind.Entwined ? "entwined: layer quotas from a " : "")
                + (!o.GlobalRanking && o.Target.Kind == TargetKind.Channels && o.ResolvedSchedule == ScheduleKind.OneShot ? "per layer"
                    : o.Selection.CostAware ? $"global, cost-aware (score per {TargetUnit(o.Target.Kind)} saved)" : "global"),
            ["score_normalization"] = o.Selection.Normalization.ToString().ToLowerInvariant(),
            ["min_channels"] = o.Selection.MinChannels.ToString(),
            ["max_layer_ratio"] = o.Selection.MaxLayerRatio.ToString("0.###", System.Globalization.CultureInfo.InvariantCulture),
            ["round_to"] = o.Selection.RoundTo.ToString(),
            ["ignored_layers"] = o.Ignore.Count == 0 ? "none" : string.Join(", ", o.Ignore),
            ["evaluated_on"] = (o.TestImages > 0 ? $"the first {o.TestImages} test images (a subset)" : "the full test set") +
                (o.CurveImages > 0 ? $"; points along the run on the first {o.CurveImages}" : ""),
            ["scoring_data"] = o.ScorePerClass > 0 ? $"{o.ScorePerClass} training images per class (fixed)" : $"{o.ScoreBatches} fresh training batches of {o.ScoreBatchSize} per scoring",
            ["scoring_mode"] = "evaluation (batch norm on running statistics)",
            ["fine_tune"] = $"SGD lr {o.LearningRate} momentum {o.Momentum} wd {o.WeightDecay}, batch {o.BatchSize}, crop padding {o.CropPadding}, flip {o.HorizontalFlip}; " +
                (o.FineTuneSteps > 0 ? $"{o.FineTuneSteps} steps in all, the final phase cosine" : $"final {o.FineTuneEpochs} epoch(s) cosine"),
            ["distillation"] = o.DistillAlpha > 0 ? $"from the unpruned model: (1 − α)·CE + α·T²·KL, α = {o.DistillAlpha}, T = {o.DistillTemperature}" : "none",
        };
        switch (o.Criterion)
        {
            case "singe":
                t["ig_steps"] = o.Singe.Steps.ToString();
                t["ig_path"] = o.Singe.Path.ToString().ToLowerInvariant();
                t["ig_norm"] = $"l{o.Singe.Norm}";
                break;
            case "gradient" or "taylor" or "taylor-abs" or "taylor-sq":
                t["output_gradient"] = o.RandomGradient ? "random N(0, I), unit norm per sample" : "labelled cross-entropy";
                t["normalize_gradient"] = (o.NormalizeGradient || o.RandomGradient).ToString().ToLowerInvariant();
                break;
            case "lrp":
                t["lrp_rules"] = "BN fused; z^B first conv; z+ convs (bias ignored); epsilon 1e-6 linear; proportional residual split; winner-take-all max-pool; start at the true class";
                break;
        }
        switch (o.ResolvedSchedule)
        {
            case ScheduleKind.Iterative:
                t["iterative_step"] = $"{o.IterativeStep:P0} of the groups, then {o.IterativeSteps} fine-tuning steps";
                break;
            case ScheduleKind.Progressive:
                t["progressive"] = $"{o.ProgressiveSteps} equal steps of the target, re-scored before each" + (o.ProgressiveTuneSteps > 0 ? $", {o.ProgressiveTuneSteps} fine-tuning steps between" : "");
                break;
            case ScheduleKind.Entwined:
                t["entwined"] = $"q = {o.EntwinedFraction:P0} of the layer's width per round, then {o.EntwinedSteps} fine-tuning steps";
                break;
        }
        return t;
    }
}
