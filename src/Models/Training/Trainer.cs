// The training loop: epochs of shuffled, augmented batches (forward, cross-entropy, backward, optimizer step, the
// schedule's learning rate set before each step), an evaluation after each epoch, a checkpoint after each epoch
// and on cancellation, and one JSON line of metrics per epoch.
//
// Resume is exact: a batch is a function of (seed, epoch, index) (DataLoader), the checkpoint holds the weights, BN
// statistics, optimizer state and step count, the position inside the epoch, the running sums of the epoch's
// metrics and the dropout generators' states, so an interrupted run continues as if it had never stopped (on the
// CPU backend with the same thread count, bit for bit — a test checks it).
using System.Diagnostics;
using System.Text.Json;
using Standalone.Autograd;
using Standalone.Autograd.Optim;
using Standalone.Models.Data;
using Standalone.Models.IO;
using Standalone.Models.Nn;
using Standalone.Models.Zoo;

namespace Standalone.Models.Training;

/// <summary>What a run reports as it goes (the CLI draws progress bars from it).</summary>
public interface ITrainingObserver
{
    void EpochStarted(int epoch, int epochs, int batches, int firstBatch) { }
    void BatchDone(int epoch, int batch, double loss, double accuracy, double imagesPerSecond, double learningRate) { }
    void Evaluating(int epoch, int done, int total) { }
    void EpochDone(EpochMetrics metrics) { }
}

/// <summary>Where a run stands: stored in every checkpoint as "standalone.trainer".</summary>
public sealed record TrainerState
{
    /// <summary>Epochs completed.</summary>
    public int Epoch { get; init; }
    /// <summary>Batches completed of epoch Epoch + 1 (non-zero only when the run was interrupted mid-epoch).</summary>
    public int Batch { get; init; }
    public long Step { get; init; }
    public double EpochLossSum { get; init; }
    public long EpochCorrect { get; init; }
    public long EpochSeen { get; init; }
    public double EpochSeconds { get; init; }
    /// <summary>Dropout generator states by module name, as four hexadecimal words.</summary>
    public Dictionary<string, string[]> DropoutRng { get; init; } = new();
    public required TrainOptions Options { get; init; }
    /// <summary>The --data directory the run reads (absolute), so that a resumed run reads the same; null: the data set's default location.</summary>
    public string? DataDirectory { get; init; }

    /// <summary>Throws InvalidDataException naming the checkpoint unless every position and sum is one a run can reach.</summary>
    public void Check(string source)
    {
        void Require(bool ok, string problem) { if (!ok) throw new InvalidDataException($"checkpoint {source}: the trainer state {problem}"); }
        Require(Options != null, "holds no options");
        try { Options!.Validate(); }
        catch (ArgumentException e) { throw new InvalidDataException($"checkpoint {source}: the trainer state's options are invalid ({e.Message})", e); }
        Require(Epoch >= 0 && Epoch <= Options.Epochs, $"says {Epoch} epochs are done (expected 0 to {Options.Epochs})");
        Require(Batch >= 0, $"gives the negative batch position {Batch}");
        Require(Step >= 0 && EpochSeen >= 0 && EpochCorrect >= 0 && EpochCorrect <= EpochSeen,
            $"gives impossible counts (step {Step}, {EpochSeen} images seen, {EpochCorrect} correct)");
        Require(double.IsFinite(EpochLossSum) && EpochLossSum >= 0 && double.IsFinite(EpochSeconds) && EpochSeconds >= 0,
            $"gives an impossible loss sum {EpochLossSum} or time {EpochSeconds} s");
        Require(DropoutRng != null, "holds no dropout generator map");
    }
}

public sealed record TrainSummary(bool Completed, int Epochs, EpochMetrics? Last, string CheckpointPath, string ModelPath);

public sealed class Trainer
{
    public const string CheckpointFile = "checkpoint.safetensors";
    public const string ModelFile = "model.safetensors";
    public const string MetricsFile = "metrics.jsonl";

    private readonly DataLoader _trainLoader;
    private readonly DataLoader? _testLoader;
    private readonly Optimizer _optimizer;
    private readonly LrSchedule _schedule;
    private TrainerState _state;
    private bool _restored;

    /// <summary>A new run: the network of spec initialised with the options' seed.</summary>
    public Trainer(ModelSpec spec, DataInfo data, ImageDataset train, ImageDataset? test, TrainOptions options, string outputDirectory,
        string? dataDirectory = null)
    {
        options.Validate();
        Spec = spec;
        Data = data;
        Options = options;
        OutputDirectory = outputDirectory;
        Model = ModelZoo.Create(spec, options.Seed);
        _trainLoader = new DataLoader(train, data.TrainLoader(options.BatchSize, options.Seed, options.CropPadding, options.HorizontalFlip) with { PadTo = options.PadTo });
        if (train.Count < options.BatchSize)
            throw new ArgumentException($"training set '{train.Name}' has {train.Count} images, fewer than one batch of {options.BatchSize}");
        if (test != null) _testLoader = new DataLoader(test, data.EvalLoader(options.EvalBatchSize));
        _optimizer = options.CreateOptimizer(Model.Parameters());
        _schedule = options.CreateSchedule(_trainLoader.BatchesPerEpoch);
        _state = new TrainerState { Options = options, DataDirectory = dataDirectory is null ? null : Path.GetFullPath(dataDirectory) };
    }

    public ModelSpec Spec { get; }
    public DataInfo Data { get; }
    public TrainOptions Options { get; }
    public string OutputDirectory { get; }
    public Module Model { get; }
    public TrainerState State => _state;
    public string CheckpointPath => Path.Combine(OutputDirectory, CheckpointFile);
    public string ModelPath => Path.Combine(OutputDirectory, ModelFile);
    public string MetricsPath => Path.Combine(OutputDirectory, MetricsFile);

    /// <summary>The description, data preparation and run state a checkpoint holds (to rebuild its Trainer).</summary>
    public static (ModelSpec Spec, DataInfo Data, TrainerState State) Inspect(string checkpointPath)
    {
        InputFile.Check(checkpointPath, "checkpoint");
        using var file = SafeTensors.Read(checkpointPath);
        string Get(string key) => file.Metadata.TryGetValue(key, out var v) ? v
            : throw new InvalidDataException($"checkpoint {checkpointPath} has no '{key}' metadata: it is not a Standalone training checkpoint");
        var spec = ModelSpec.FromJson(Get(Checkpoint.ModelKey), checkpointPath);
        var data = DataInfo.FromJson(Get(Checkpoint.DataKey), checkpointPath);
        ModelFileChecks.CheckSpec(spec, file.Tensors.Where(t => !t.Name.StartsWith(Checkpoint.OptimizerPrefix, StringComparison.Ordinal)).ToList(), checkpointPath);
        data.Check(spec, checkpointPath);
        var state = MetadataJson.Read<TrainerState>(Get(Checkpoint.TrainerKey), checkpointPath, "trainer state");
        state.Check(checkpointPath);
        return (spec, data, state);
    }

    /// <summary>
    /// Starts a new run from pretrained weights (transfer learning): every tensor of the file is loaded, except a
    /// classifier whose shape differs because the data has another number of classes — that one keeps its fresh
    /// initialisation. Anything else that does not fit (another architecture, other input channels) is an error.
    /// Returns one line saying what was loaded and what starts fresh.
    /// </summary>
    public string InitializeFrom(string path)
    {
        if (_restored || _state.Step > 0) throw new InvalidOperationException("pretrained weights initialise a new run, not one under way");
        var weights = Checkpoint.ReadStateDict(path);
        try
        {
            ModelFileChecks.CheckFinite(weights, path);
            var file = weights.ToDictionary(t => t.Name, t => t.Value, StringComparer.Ordinal);
            var head = Classifier();
            var own = Model.StateDict().ToDictionary(e => e.Name, e => e.Value, StringComparer.Ordinal);
            var fresh = head.Where(k => file.TryGetValue(k, out var t) && t.Shape != own[k].Shape).ToList();
            var problems = own.Where(e => !fresh.Contains(e.Key) && (!file.TryGetValue(e.Key, out var t) || t.Shape != e.Value.Shape))
                .Select(e => file.TryGetValue(e.Key, out var t) ? $"'{e.Key}' is {t.Shape} there, {e.Value.Shape} here" : $"'{e.Key}' is missing")
                .Concat(file.Keys.Where(k => !own.ContainsKey(k)).Select(k => $"'{k}' is not part of {Spec.Architecture}")).ToList();
            if (problems.Count > 0)
                throw new InvalidDataException($"--init {path} does not fit {Spec}: {string.Join("; ", problems.Take(3))}" +
                    (problems.Count > 3 ? $" (+{problems.Count - 3} more)" : "") +
                    (problems.Any(p => p.Contains("conv1.weight") || p.Contains("features.0.weight")) ? " (do the data's channels match what the weights were trained on?)" : ""));
            Model.LoadStateDict(file.Where(e => !fresh.Contains(e.Key)).ToDictionary(e => e.Key, e => e.Value, StringComparer.Ordinal), strict: false);
            return $"initialised {own.Count - fresh.Count} of {own.Count} tensors from {path}" +
                (fresh.Count > 0 ? $"; the classifier ({string.Join(", ", fresh)}) starts fresh for {Spec.NumClasses} classes" : "");
        }
        finally
        {
            foreach (var (_, t) in weights) t.Dispose();
        }
    }

    /// <summary>The state-dict keys of the network's last linear layer: the classifier that transfer learning replaces.</summary>
    private List<string> Classifier()
    {
        var (name, layer) = Model.NamedModules().Last(m => m.Module is Linear);
        return layer.NamedParameters(name).Select(p => p.Name).ToList();
    }

    /// <summary>Freezes every parameter but the classifier's while epoch ≤ FreezeEpochs; thaws them after.</summary>
    private void ApplyFreeze(int epoch)
    {
        _optimizer.Frozen.Clear();
        if (epoch > Options.FreezeEpochs) return;
        var head = Classifier().ToHashSet(StringComparer.Ordinal);
        foreach (var (name, parameter) in Model.NamedParameters())
            if (!head.Contains(name)) _optimizer.Frozen.Add(parameter);
    }

    /// <summary>Continues from a checkpoint of this same run: weights, optimizer state and position.</summary>
    public void Restore(string checkpointPath)
    {
        var (_, _, state) = Inspect(checkpointPath);
        if (state.Batch >= _trainLoader.BatchesPerEpoch)
            throw new InvalidDataException($"checkpoint {checkpointPath}: the trainer state is at batch {state.Batch}, but an epoch has {_trainLoader.BatchesPerEpoch} batches");
        using (var file = SafeTensors.Read(checkpointPath))
        {
            var weights = file.Tensors.Where(t => !t.Name.StartsWith(Checkpoint.OptimizerPrefix, StringComparison.Ordinal))
                .ToDictionary(t => t.Name, t => t.Value, StringComparer.Ordinal);
            Model.LoadStateDict(weights, strict: true);
            Checkpoint.LoadOptimizerState(file, Model, _optimizer);
        }
        _optimizer.StepCount = state.Step;
        foreach (var (name, module) in Model.NamedModules())
            if (module is Dropout dropout && state.DropoutRng.TryGetValue(name, out var words))
                dropout.Rng.StateWords = words;
        _state = state with { Options = Options, DataDirectory = _state.DataDirectory ?? state.DataDirectory };
        _restored = true;
        TrimMetrics(state.Epoch);
    }

    /// <summary>Trains until the last epoch or until cancel is signalled (then saves a checkpoint and returns).</summary>
    public TrainSummary Run(ITrainingObserver? observer = null, CancellationToken cancel = default)
    {
        observer ??= new NullObserver();
        Directory.CreateDirectory(OutputDirectory);
        AtomicFile.RemoveStale(OutputDirectory); // temporary files of a process that was killed while writing
        if (!_restored) File.Delete(MetricsPath); // a fresh run: lines of an earlier start that never wrote a checkpoint go
        int batches = _trainLoader.BatchesPerEpoch;
        var predicted = new long[Options.BatchSize];
        EpochMetrics? last = null;
        Model.Train();
        while (_state.Epoch < Options.Epochs)
        {
            int epoch = _state.Epoch + 1;
            ApplyFreeze(epoch);
            observer.EpochStarted(epoch, Options.Epochs, batches, _state.Batch);
            var clock = Stopwatch.StartNew();
            double secondsBefore = _state.EpochSeconds, lossSum = _state.EpochLossSum;
            long correct = _state.EpochCorrect, seen = _state.EpochSeen, step = _state.Step;
            int batchIndex = _state.Batch;
            foreach (var batch in _trainLoader.Epoch(epoch, _state.Batch))
            {
                if (cancel.IsCancellationRequested)
                {
                    _trainLoader.Return(batch);
                    break;
                }
                double lr = _schedule.At((int)step);
                _optimizer.LearningRate = lr;
                using (var scope = TensorScope.Begin())
                {
                    var (x, y) = Evaluator.Upload(_trainLoader, batch);
                    var logits = Model.Forward(Variable.Constant(x));
                    var loss = F.CrossEntropy(logits, y, Options.LabelSmoothing);
                    _optimizer.ZeroGrad();
                    loss.Backward();
                    _optimizer.Step();
                    double lossValue = loss.Data.Item();
                    if (!double.IsFinite(lossValue))
                        throw new InvalidOperationException($"training diverged: the loss is {lossValue} at epoch {epoch}, batch {batchIndex + 1} (lower --lr?)");
                    lossSum += lossValue * batch.Count;
                    correct += Evaluator.CountCorrect(logits.Data, batch, predicted);
                }
                seen += batch.Count;
                step++;
                batchIndex++;
                _trainLoader.Return(batch);
                double elapsed = secondsBefore + clock.Elapsed.TotalSeconds;
                observer.BatchDone(epoch, batchIndex, lossSum / seen, (double)correct / seen, seen / elapsed, lr);
            }
            double seconds = secondsBefore + clock.Elapsed.TotalSeconds;
            _state = _state with { Batch = batchIndex, Step = step, EpochLossSum = lossSum, EpochCorrect = correct, EpochSeen = seen, EpochSeconds = seconds };
            if (batchIndex < batches)
            {
                SaveCheckpoint();
                return new TrainSummary(false, _state.Epoch, last, CheckpointPath, ModelPath);
            }

            Evaluation? test = null;
            if (_testLoader != null)
            {
                try
                {
                    test = Evaluator.Evaluate(Model, _testLoader, (done, total) => observer.Evaluating(epoch, done, total), cancel);
                }
                catch (OperationCanceledException)
                {
                    // The epoch's training is complete and saved; its evaluation runs again on resume.
                    SaveCheckpoint();
                    return new TrainSummary(false, _state.Epoch, last, CheckpointPath, ModelPath);
                }
            }
            last = new EpochMetrics(epoch, step, _optimizer.LearningRate, lossSum / seen, (double)correct / seen,
                test?.Loss, test?.Accuracy, seconds, seen / seconds);
            _state = _state with { Epoch = epoch, Batch = 0, EpochLossSum = 0, EpochCorrect = 0, EpochSeen = 0, EpochSeconds = 0 };
            AppendMetrics(last);
            SaveCheckpoint();
            Checkpoint.SaveModel(ModelPath, Model, Spec, Data, new Dictionary<string, string> { ["standalone.metrics"] = MetricsJson(last) });
            observer.EpochDone(last);
        }
        return new TrainSummary(true, _state.Epoch, last, CheckpointPath, ModelPath);
    }

    private void SaveCheckpoint()
    {
        var rngs = new Dictionary<string, string[]>();
        foreach (var (name, module) in Model.NamedModules())
            if (module is Dropout dropout) rngs[name] = dropout.Rng.StateWords;
        _state = _state with { DropoutRng = rngs };
        Checkpoint.SaveModel(CheckpointPath, Model, Spec, Data,
            new Dictionary<string, string> { [Checkpoint.TrainerKey] = MetadataJson.Write(_state) }, _optimizer);
    }

    private static string MetricsJson(EpochMetrics m) => MetadataJson.Write(m);

    private void AppendMetrics(EpochMetrics metrics) => File.AppendAllText(MetricsPath, MetricsJson(metrics) + "\n");

    /// <summary>
    /// Keeps one metrics line per epoch up to the checkpoint's: lines of later epochs (written before a kill that lost
    /// their checkpoint), repeated epochs and torn lines (a kill or a full disk mid-write) go.
    /// </summary>
    private void TrimMetrics(int epochs)
    {
        if (!File.Exists(MetricsPath)) return;
        InputFile.Check(MetricsPath, "metrics file");
        var byEpoch = new SortedDictionary<int, string>();
        foreach (string line in File.ReadAllLines(MetricsPath))
            if (EpochOf(line) is int epoch && epoch >= 1 && epoch <= epochs) byEpoch[epoch] = line;
        AtomicFile.WriteAllText(MetricsPath, byEpoch.Count == 0 ? "" : string.Join("\n", byEpoch.Values) + "\n");
    }

    /// <summary>The epoch of a metrics line, or null for a line that is not a whole JSON object with one.</summary>
    private static int? EpochOf(string line)
    {
        try
        {
            using var doc = JsonDocument.Parse(line);
            return doc.RootElement.ValueKind == JsonValueKind.Object && doc.RootElement.TryGetProperty("epoch", out var e) && e.ValueKind == JsonValueKind.Number && e.TryGetInt32(out int epoch) ? epoch : null;
        }
        catch (JsonException) { return null; }
    }

    private sealed class NullObserver : ITrainingObserver;
}
