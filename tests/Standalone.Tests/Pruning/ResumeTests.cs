// A pruning run interrupted (cancelled, as Ctrl+C does) and resumed from its checkpoint must end exactly where the
// uninterrupted run ends: same pruned model, bit for bit, and the same accuracy — whether it stopped in the middle of
// the entwined schedule's fine-tuning, between progressive steps or in the final fine-tuning (with distillation).
using Standalone.Models.Data;
using Standalone.Models.IO;
using Standalone.Models.Training;
using Standalone.Models.Zoo;
using Standalone.Pruning;
using Standalone.Pruning.Reports;
using Standalone.Pruning.Schedules;
using Standalone.Tests.Support;

namespace Standalone.Tests.Pruning;

public sealed class ResumeTests : ScratchDirectoryTest
{
    private static readonly PruneOptions Options = new()
    {
        Criterion = "singe", Schedule = ScheduleKind.Entwined, Target = new PruningTarget(TargetKind.Macs, 0.3), EntwinedFraction = 0.25, EntwinedSteps = 3,
        Singe = new() { Steps = 2 }, ScoreBatches = 1, ScoreBatchSize = 8, BatchSize = 16, FineTuneEpochs = 0.1,
        CurveImages = 16, TestImages = 32, MeasureThroughput = false, Selection = new SelectionOptions(), Seed = 4,
    };

    /// <summary>
    /// Progressive pruning with fine-tuning between steps, distillation from the unpruned model, cost-aware ranking of
    /// mean-normalised scores and a total step budget whose remainder the final phase takes.
    /// </summary>
    private static readonly PruneOptions Progressive = Options with
    {
        Criterion = "taylor", Schedule = ScheduleKind.Progressive, ProgressiveSteps = 3, ProgressiveTuneSteps = 3, DistillAlpha = 0.7, DistillTemperature = 3,
        FineTuneSteps = 14, Selection = new SelectionOptions { CostAware = true, Normalization = ScoreNormalization.Mean },
    };

    private static PruneOptions OptionsFor(string schedule) => schedule == "progressive" ? Progressive : Options;

    // The uninterrupted runs, made once for all cases.
    private string _fixtureDirectory = "", _model = "";
    private readonly Dictionary<string, (string Directory, PruneReport Report)> _straight = [];

    [OneTimeSetUp]
    public void RunStraight()
    {
        _fixtureDirectory = Directory.CreateTempSubdirectory("standalone-resume-").FullName;
        _model = ModelFile(_fixtureDirectory);
        foreach (string schedule in new[] { "entwined", "progressive" })
        {
            string directory = Path.Combine(_fixtureDirectory, schedule);
            _straight[schedule] = (directory, PruneJob.Run(_model, null, OptionsFor(schedule), directory));
        }
    }

    [OneTimeTearDown]
    public void DeleteFixtureDirectory() => Directory.Delete(_fixtureDirectory, recursive: true);

    [Test]
    public void TheStepBudgetIsSpentExactly() => Assert.That(_straight["progressive"].Report.FineTuneSteps, Is.EqualTo(14));

    private static string ModelFile(string directory)
    {
        var train = DataCatalog.Load("synthetic", null, train: true);
        var (mean, std) = train.ChannelStatistics();
        var spec = new ModelSpec { Architecture = "resnet20", Shortcut = "A", InChannels = 3, NumClasses = 10 };
        string path = Path.Combine(directory, "base.safetensors");
        Checkpoint.SaveModel(path, ModelZoo.Create(spec, seed: 2), spec,
            new DataInfo { Dataset = "synthetic", Mean = mean, Std = std, Input = [3, 32, 32], Classes = train.Classes.ToArray() });
        return path;
    }

    /// <summary>Cancels the run once <paramref name="when"/> has seen the phase and that many fine-tuning progress reports.</summary>
    private sealed class Interrupter(CancellationTokenSource cancel, string phasePrefix, int reports) : IPruneObserver
    {
        private bool _armed;
        private int _seen;
        public void Phase(string description) => _armed |= description.StartsWith(phasePrefix, StringComparison.Ordinal);
        public void Progress(string phase, int done, int total)
        {
            if (_armed && phase == "fine-tuning" && ++_seen == reports) cancel.Cancel();
        }
    }

    [TestCase("entwined", "layer 2/", 2, TestName = "interrupted during the entwined rounds")]
    [TestCase("entwined", "fine-tuning 0.1 epoch", 5, TestName = "interrupted during the final fine-tuning")]
    [TestCase("progressive", "step 2/", 2, TestName = "interrupted between progressive steps, distilling")]
    [TestCase("progressive", "fine-tuning the budget's last", 3, TestName = "interrupted during the final fine-tuning of a step budget, distilling")]
    public void ResumedRunEqualsTheUninterruptedRun(string schedule, string phase, int reports)
    {
        string model = _model, resumed = Path.Combine(Scratch, "resumed");
        var (straight, expected) = _straight[schedule];
        var options = OptionsFor(schedule);

        using var cancel = new CancellationTokenSource();
        Assert.Throws<OperationCanceledException>(() => PruneJob.Run(model, null, options, resumed, new Interrupter(cancel, phase, reports), cancel.Token));
        Assert.That(File.Exists(Path.Combine(resumed, PruneJob.CheckpointFile)), "a checkpoint is left behind");
        Assert.That(File.Exists(Path.Combine(resumed, PruneJob.ModelFile)), Is.False, "no model file before the run ends");
        var actual = PruneJob.Resume(resumed);

        Assert.That(actual.Pruned, Is.EqualTo(expected.Pruned));
        Assert.That(actual.AccuracyBeforeFinetune, Is.EqualTo(expected.AccuracyBeforeFinetune));
        Assert.That(actual.FineTuneSteps, Is.EqualTo(expected.FineTuneSteps));
        Assert.That(actual.Curve.Select(p => (p.Label, p.Accuracy)), Is.EqualTo(expected.Curve.Select(p => (p.Label, p.Accuracy))));
        using var a = SafeTensors.Read(Path.Combine(straight, PruneJob.ModelFile));
        using var b = SafeTensors.Read(Path.Combine(resumed, PruneJob.ModelFile));
        Assert.That(b.Tensors.Select(t => t.Name), Is.EqualTo(a.Tensors.Select(t => t.Name)));
        foreach (var ((name, x), (_, y)) in a.Tensors.Zip(b.Tensors))
            Assert.That(y.ToDoubleArray(), Is.EqualTo(x.ToDoubleArray()), name);
        Assert.That(File.Exists(Path.Combine(resumed, PruneJob.CheckpointFile)), Is.False, "the checkpoint is removed once the run is complete");
    }
}
