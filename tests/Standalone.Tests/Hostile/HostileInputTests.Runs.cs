// Harness families for interrupted runs and command lines: training and pruning checkpoints with their saved state
// and metrics (resumed with --resume), and every option of every command given values that are not what it takes.
using System.CommandLine;
using System.Text.Json.Nodes;
using Standalone.Cli;
using Standalone.Models.Training;
using Standalone.Pruning;
using Standalone.Pruning.Schedules;

namespace Standalone.Tests.Hostile;

public sealed partial class HostileInputTests
{
    [Test]
    public void TrainingCheckpoints()
    {
        var harness = new HostileHarness("train-checkpoint", Scratch);
        string run = Path.Combine(Scratch, "run"), mutant = Path.Combine(Scratch, "resumed");
        Assert.That(Program.Main(["train", "--dataset", "folder", "--data", _folder, "--epochs", "2", "--batch-size", "4", "--out", run]), Is.Zero);
        // The checkpoint after epoch 1 of 2, as a kill after that epoch leaves it.
        string checkpoint = Path.Combine(run, Trainer.CheckpointFile), metrics = Path.Combine(run, Trainer.MetricsFile);
        byte[] good = HostileFiles.EditMetadata(File.ReadAllBytes(checkpoint), Checkpoint.TrainerKey, s => s["epoch"] = 1);
        string[] metricLines = File.ReadAllLines(metrics);
        string[] resume = ["train", "--resume", mutant];
        // A resumed run ends with one metrics line per epoch and its model.
        // (A metrics file that lost epoch 1's line cannot get it back: then only epoch 2's is expected.)
        string? Resumed(string _) => ResumedWith(_, [1, 2]);
        string? ResumedWith(string _, int[] expected)
        {
            var epochs = File.ReadAllLines(Path.Combine(mutant, Trainer.MetricsFile)).Select(l => JsonNode.Parse(l)!["epoch"]!.GetValue<int>()).ToArray();
            return epochs.SequenceEqual(expected) && File.Exists(Path.Combine(mutant, Trainer.ModelFile)) ? null : $"metrics hold epochs [{string.Join(", ", epochs)}], expected [{string.Join(", ", expected)}]";
        }
        void Case(string name, Expect expect, Func<byte[]> state, string? metricsText = null, string[]? args = null, int[]? epochs = null) => harness.Run(new(name, args ?? resume, expect, () =>
        {
            if (Directory.Exists(mutant)) Directory.Delete(mutant, recursive: true);
            Directory.CreateDirectory(mutant);
            File.WriteAllBytes(Path.Combine(mutant, Trainer.CheckpointFile), state());
            File.WriteAllText(Path.Combine(mutant, Trainer.MetricsFile), metricsText ?? metricLines[0] + "\n");
        }, stdout => ResumedWith(stdout, epochs ?? [1, 2])));

        Case("unchanged", Expect.Success, () => good);
        var edits = new (string Field, string Value, Expect Expect)[]
        {
            ("epoch", "-1", Expect.Error), ("epoch", "3", Expect.Error), ("epoch", "2147483647", Expect.Error), ("epoch", "\"1\"", Expect.Error), ("epoch", "null", Expect.Error),
            ("batch", "-5", Expect.Error), ("batch", "1000000", Expect.Error), ("batch", "2", Expect.Error), ("step", "-1", Expect.Error),
            ("epoch_loss_sum", "\"NaN\"", Expect.Error), ("epoch_loss_sum", "-1", Expect.Error), ("epoch_seen", "-3", Expect.Error), ("epoch_correct", "99", Expect.Error),
            ("epoch_seconds", "\"Infinity\"", Expect.Error), ("dropout_rng", "null", Expect.Error), ("dropout_rng", "{\"x\": [\"zz\"]}", Expect.Success),
            ("options", "null", Expect.Error), ("options", "{}", Expect.Error), ("data_directory", "\"/nowhere\"", Expect.Error), ("data_directory", "\"/dev/null\"", Expect.Error),
        };
        foreach (var (field, value, expect) in edits)
            Case($"state {field}={value}", expect, () => HostileFiles.EditMetadata(good, Checkpoint.TrainerKey, s => s[field] = JsonNode.Parse(value)));
        var optionEdits = new (string Field, string Value)[]
        {
            ("epochs", "0"), ("epochs", "-1"), ("batch_size", "0"), ("batch_size", "2147483647"), ("learning_rate", "\"NaN\""), ("learning_rate", "-1"), ("optimizer", "\"lion\""),
            ("schedule", "\"x\""), ("momentum", "1"), ("weight_decay", "-1"), ("label_smoothing", "1"), ("warmup_epochs", "5"), ("step_size", "0"), ("gamma", "0"),
            ("milestones", "[-1]"), ("crop_padding", "-1"), ("pad_to", "-2"), ("eval_batch_size", "0"), ("seed", "-1"), ("epochs", "\"two\""),
        };
        foreach (var (field, value) in optionEdits)
            Case($"options {field}={value}", Expect.Error, () => HostileFiles.EditMetadata(good, Checkpoint.TrainerKey, s => s["options"]![field] = JsonNode.Parse(value)));
        // The metrics file: torn by a kill or a full disk, repeated by a restart, garbage, or not a file.
        Case("metrics torn last line", Expect.Success, () => good, metricLines[0] + "\n" + metricLines[1][..20]);
        Case("metrics duplicated", Expect.Success, () => good, metricLines[0] + "\n" + metricLines[0] + "\n" + metricLines[1] + "\n");
        Case("metrics garbage", Expect.Success, () => good, "{]\n\0\0\0\nnull\n[1]\n{\"epoch\": \"x\"}\n", epochs: [2]);
        Case("metrics empty", Expect.Success, () => good, "", epochs: [2]);
        harness.Run(new("metrics fifo", resume, Expect.Error, () =>
        {
            HostileFiles.CopyTree(run, mutant);
            File.WriteAllBytes(Path.Combine(mutant, Trainer.CheckpointFile), good);
            HostileFiles.Fifo(Path.Combine(mutant, Trainer.MetricsFile));
        }));
        // A stale temporary file of a killed writer goes; another run's options are ignored with a warning.
        harness.Run(new("stale temporary file", resume, Expect.Success, () =>
        {
            Case("-", Expect.Success, () => good); // (sets up the directory; counted as a case of its own)
            File.WriteAllText(Path.Combine(mutant, Trainer.CheckpointFile + ".tmp-999999"), "partial");
        }, stdout => Directory.GetFiles(mutant, "*.tmp-*").Length == 0 ? Resumed(stdout) : "the stale temporary file is still there"));
        Case("options given with --resume", Expect.Success, () => good, args: [.. resume, "--epochs", "7", "--lr", "0.5"]);
        var random = new Random(37);
        var (_, dataStart) = HostileFiles.SplitSafeTensors(good);
        for (int i = 0; i < 40; i++)
        {
            int at = random.Next(dataStart);
            Case($"header flip {at}", Expect.Either, () => { var b = (byte[])good.Clone(); b[at] ^= (byte)(1 << (i % 8)); return b; });
        }
        harness.Run(new("prune --resume on a training run", ["prune", "--resume", run], Expect.Error));
        Finish(harness, 80);
    }

    [Test]
    public void PruningCheckpoints()
    {
        var harness = new HostileHarness("prune-checkpoint", Scratch);
        string run = Path.Combine(Scratch, "prune-run"), mutant = Path.Combine(Scratch, "prune-resumed");
        var options = new PruneOptions
        {
            Criterion = "l1", Target = PruningTarget.Create(0.3, null, null), FineTuneSteps = 2, CurveImages = 0, MeasureThroughput = false,
            ScoreBatches = 1, ScoreBatchSize = 4, BatchSize = 4,
        };
        // Interrupt the run as soon as it starts fine-tuning: the checkpoint then holds the pruned state.
        using (var cancel = new CancellationTokenSource())
            Assert.That(() => PruneJob.Run(_model, _folder, options, run, new CancelAt("fine-tuning", cancel), cancel.Token), Throws.InstanceOf<OperationCanceledException>());
        byte[] good = File.ReadAllBytes(Path.Combine(run, PruneJob.CheckpointFile));
        string[] resume = ["prune", "--resume", mutant];
        void Case(string name, Expect expect, Func<byte[]> state) => harness.Run(new(name, resume, expect, () =>
        {
            if (Directory.Exists(mutant)) Directory.Delete(mutant, recursive: true);
            Directory.CreateDirectory(mutant);
            File.WriteAllBytes(Path.Combine(mutant, PruneJob.CheckpointFile), state());
        }, _ => File.Exists(Path.Combine(mutant, PruneJob.ReportFile)) ? null : "no report was written"));

        Case("unchanged", Expect.Success, () => good);
        var edits = new (string Field, string Value, Expect Expect)[]
        {
            ("phase", "\"done\"", Expect.Error), ("phase", "\"x\"", Expect.Error), ("phase", "null", Expect.Error), ("pruned", "[-1]", Expect.Error), ("pruned", "[100000]", Expect.Error),
            ("pruned", "null", Expect.Error), ("round", "-1", Expect.Error), ("unit_index", "-2", Expect.Error), ("quotas", "[-1]", Expect.Error), ("pending_steps", "-1", Expect.Error),
            ("tuner_epoch", "-1", Expect.Error), ("tuner_batch", "-1", Expect.Error), ("tuner_steps", "-1", Expect.Error), ("scoring_batch", "-4", Expect.Error),
            ("criterion_rng", "[\"zz\"]", Expect.Either), ("model_path", "\"/nowhere.safetensors\"", Expect.Error), ("model_path", "\"/dev/zero\"", Expect.Error),
            ("model_path", "null", Expect.Error), ("data_directory", "\"/nowhere\"", Expect.Error), ("options", "null", Expect.Error), ("total_seconds", "\"NaN\"", Expect.Error),
            ("curve", "null", Expect.Error), ("final_steps_done", "-1", Expect.Error),
        };
        foreach (var (field, value, expect) in edits)
            Case($"state {field}={value}", expect, () => HostileFiles.EditMetadata(good, PruneState.MetadataKey, s => s[field] = JsonNode.Parse(value)));
        foreach (var (field, value) in new[] { ("criterion", "\"x\""), ("learning_rate", "\"NaN\""), ("fine_tune_epochs", "\"Infinity\""), ("score_batches", "0"),
                     ("curve_images", "-1"), ("test_images", "-5"), ("distill_alpha", "2"), ("target", "null") })
            Case($"options {field}={value}", Expect.Error, () => HostileFiles.EditMetadata(good, PruneState.MetadataKey, s => s["options"]![field] = JsonNode.Parse(value)));
        harness.Run(new("no checkpoint", ["prune", "--resume", Path.Combine(Scratch, "nowhere")], Expect.Error));
        harness.Run(new("finished run as --out", ["prune", "--model", _model, "--data", _folder, "--out", mutant, "--finetune-steps", "1", "--batch-size", "4", "--no-throughput"], Expect.Error,
            () => { Directory.CreateDirectory(mutant); File.WriteAllText(Path.Combine(mutant, PruneJob.ReportFile), "{}"); File.Delete(Path.Combine(mutant, PruneJob.CheckpointFile)); }));
        harness.Run(new("min-channels above every width", ["prune", "--model", _model, "--data", _folder, "--out", Path.Combine(Scratch, "p2"), "--min-channels", "512", "--batch-size", "4", "--no-throughput"], Expect.Error));
        Finish(harness, 30);
    }

    /// <summary>Cancels a run when a phase whose description starts with the given words begins.</summary>
    private sealed class CancelAt(string phase, CancellationTokenSource cancel) : IPruneObserver
    {
        public void Phase(string description)
        {
            if (description.StartsWith(phase, StringComparison.Ordinal)) cancel.Cancel();
        }
    }

    [Test]
    public void CommandLines()
    {
        var harness = new HostileHarness("command-line", Scratch);
        string fifo = Path.Combine(Scratch, "fifo");
        HostileFiles.Fifo(fifo);
        int runs = 0;
        string Out() => Path.Combine(Scratch, $"out-{runs++}");
        // Each command's quick valid form; one option at a time is then given a value it does not take.
        var bases = new Dictionary<string, Func<string[]>>
        {
            ["train"] = () => ["train", "--dataset", "folder", "--data", _folder, "--epochs", "1", "--batch-size", "4", "--out", Out()],
            ["eval"] = () => ["eval", "--model", _model, "--data", _folder],
            ["info"] = () => ["info", _model],
            ["explain"] = () => ["explain", "--model", _model, "--data", _folder, "--steps", "2", "--out", Out() + ".png"],
            ["export"] = () => ["export", "--model", _model, "--out", Out() + ".onnx"],
            ["prune"] = () => ["prune", "--model", _model, "--data", _folder, "--finetune-steps", "1", "--curve-images", "0", "--no-throughput", "--score-batch-size", "4", "--batch-size", "4", "--out", Out()],
            ["sweep"] = () => ["sweep", "--model", _model, "--data", _folder, "--fractions", "0.5", "--criteria", "l1", "--out", Out()],
        };
        // Relative paths among the values ("nonsense", "-1") land in a working directory of this test's own.
        string previous = Directory.GetCurrentDirectory(), work = Path.Combine(Scratch, "cwd");
        Directory.CreateDirectory(work);
        Directory.SetCurrentDirectory(work);
        try { RunCommandLines(harness, bases, fifo); }
        finally { Directory.SetCurrentDirectory(previous); }
        Finish(harness, 500);
    }

    private static void RunCommandLines(HostileHarness harness, Dictionary<string, Func<string[]>> bases, string fifo)
    {
        string[] numbers = ["nan", "inf", "-inf", "-1", "1e400", "99999999999", "abc", ""];
        string[] words = ["", "nonsense", "/dev/zero", fifo, "/nowhere/x", "-1"];
        var root = Program.BuildRoot();
        foreach (var (name, make) in bases)
        {
            var command = root.Subcommands.Single(c => c.Name == name);
            foreach (var option in command.Options.Where(o => o.Name is not ("--help" or "-h" or "-?" or "--resume")))
            {
                if (option is Option<bool>) continue; // flags take no value
                bool numeric = option.ValueType is var t && (t == typeof(int) || t == typeof(int?) || t == typeof(double) || t == typeof(double?) || t == typeof(ulong) || t == typeof(int[]));
                foreach (string value in numeric ? numbers : words)
                {
                    var args = make().ToList();
                    int at = args.IndexOf(option.Name);
                    if (at >= 0) args[at + 1] = value;
                    else args.AddRange([option.Name, value]);
                    harness.Run(new($"{name} {option.Name} '{value}'", [.. args], Expect.Either));
                }
            }
        }
        foreach (string[] args in new[] { new[] { "trian" }, ["train", "--model", "resnet20"], ["eval", "--bach-size", "4"], ["--device", "tpu", "eval"], ["eval", "--device"], [] })
            harness.Run(new(string.Join(' ', args), args, Expect.Error));
    }
}
