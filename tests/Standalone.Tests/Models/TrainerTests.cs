// The trainer end to end on a small synthetic set: it learns, writes a checkpoint, a model file and one metrics line
// per epoch, and a run interrupted mid-epoch (cancellation) and resumed ends bit-identical to an uninterrupted run.
using Standalone.Models.Data;
using Standalone.Models.Training;
using Standalone.Models.Zoo;
using Standalone.Tests.Support;

namespace Standalone.Tests.Models;

[TestFixture]
public sealed class TrainerTests : ScratchDirectoryTest
{
    // One synthetic set (its class patterns come from the seed) split into training and test images.
    private static readonly ImageDataset All = Synthetic.Create(256, 1, 8, 8, 4, seed: 1);
    private static readonly ImageDataset Train = All.Subset(Enumerable.Range(0, 192).ToArray());
    private static readonly ImageDataset Test = All.Subset(Enumerable.Range(192, 64).ToArray());
    private static readonly ModelSpec Spec = new() { Architecture = "resnet20", InChannels = 1, NumClasses = 4 };

    private static DataInfo Info()
    {
        var (mean, std) = Train.ChannelStatistics();
        return new DataInfo { Dataset = "synthetic", Mean = mean, Std = std, Input = [1, 8, 8], Classes = Train.Classes.ToArray() };
    }

    private static readonly TrainOptions Options = new()
    {
        Epochs = 3, BatchSize = 32, LearningRate = 0.05, CropPadding = 1, HorizontalFlip = true, Seed = 5, EvalBatchSize = 64, WarmupEpochs = 0.5,
    };

    private Trainer NewTrainer(string name) => new(Spec, Info(), Train, Test, Options, Path.Combine(Scratch, name));

    /// <summary>Cancels once a given batch of a given epoch is done.</summary>
    private sealed class CancelAt(int epoch, int batch, CancellationTokenSource source) : ITrainingObserver
    {
        public void BatchDone(int e, int b, double loss, double accuracy, double imagesPerSecond, double learningRate)
        {
            if (e == epoch && b == batch) source.Cancel();
        }
    }

    [Test]
    public void LearnsAndWritesItsFiles()
    {
        var trainer = NewTrainer("run");
        var summary = trainer.Run();
        Assert.That(summary.Completed, Is.True);
        Assert.That(summary.Last!.TestAccuracy, Is.GreaterThan(0.9), "a synthetic set of 4 class patterns should be learnt in 3 epochs");
        var lines = File.ReadAllLines(trainer.MetricsPath);
        Assert.That(lines, Has.Length.EqualTo(3));
        Assert.That(lines[2], Does.Contain("\"epoch\":3").And.Contain("\"test_accuracy\":"));

        var loaded = Checkpoint.LoadModel(trainer.ModelPath);
        Assert.That(loaded.Spec, Is.EqualTo(Spec));
        Assert.That(loaded.Data!.Classes, Is.EqualTo(Train.Classes));
        var evaluation = Evaluator.Evaluate(loaded.Model, new DataLoader(Test, loaded.Data.EvalLoader(50)));
        Assert.That(evaluation.Accuracy, Is.EqualTo(summary.Last.TestAccuracy!.Value).Within(1e-12), "the model file reproduces the final test accuracy");
    }

    [Test]
    public void InterruptedAndResumedRunEqualsAnUninterruptedOne()
    {
        var straight = NewTrainer("straight");
        straight.Run();

        using var cancel = new CancellationTokenSource();
        var first = NewTrainer("interrupted");
        var stopped = first.Run(new CancelAt(epoch: 2, batch: 3, cancel), cancel.Token);
        Assert.That(stopped.Completed, Is.False);
        Assert.That((first.State.Epoch, first.State.Batch), Is.EqualTo((1, 3)));

        var (spec, data, state) = Trainer.Inspect(first.CheckpointPath);
        Assert.That((state.Epoch, state.Batch, state.Step), Is.EqualTo((1, 3, 9L)));
        var resumed = new Trainer(spec, data, Train, Test, state.Options, first.OutputDirectory);
        resumed.Restore(first.CheckpointPath);
        Assert.That(resumed.Run().Completed, Is.True);

        var expected = straight.Model.StateDict();
        var actual = resumed.Model.StateDict();
        for (int i = 0; i < expected.Count; i++)
            Assert.That(actual[i].Value.ToDoubleArray(), Is.EqualTo(expected[i].Value.ToDoubleArray()), expected[i].Name);
        Assert.That(File.ReadAllLines(resumed.MetricsPath).Select(StripTime), Is.EqualTo(File.ReadAllLines(straight.MetricsPath).Select(StripTime)));
    }

    /// <summary>A metrics line without its wall-clock fields.</summary>
    private static string StripTime(string line) => line[..line.IndexOf(",\"seconds\"", StringComparison.Ordinal)];

    [Test]
    public void ResumeDropsMetricsOfEpochsItsCheckpointLacks()
    {
        var trainer = NewTrainer("trim");
        using var cancel = new CancellationTokenSource();
        trainer.Run(new CancelAt(epoch: 2, batch: 1, cancel), cancel.Token);
        // As if the process died after writing epoch 2's metrics but before its checkpoint.
        File.AppendAllText(trainer.MetricsPath, "{\"epoch\":2,\"step\":12}\n");
        var again = NewTrainer("trim");
        again.Restore(trainer.CheckpointPath);
        Assert.That(File.ReadAllLines(again.MetricsPath), Has.Length.EqualTo(1));
    }

    [Test]
    public void BadOptionsAndFilesAreNamed()
    {
        Assert.That(() => new Trainer(Spec, Info(), Train, Test, Options with { Optimizer = "lion" }, Scratch),
            Throws.ArgumentException.With.Message.Contains("--optimizer must be one of sgd, nesterov, adamw"));
        Assert.That(() => new Trainer(Spec, Info(), Train, Test, Options with { Schedule = "multistep" }, Scratch),
            Throws.ArgumentException.With.Message.Contains("--milestones"));
        Assert.That(() => new Trainer(Spec, Info(), Train, Test, Options with { BatchSize = 500 }, Scratch),
            Throws.ArgumentException.With.Message.Contains("fewer than one batch"));
        string plain = Path.Combine(Scratch, "plain.safetensors");
        Standalone.Models.IO.SafeTensors.Write(plain, ModelZoo.Create(Spec).StateDict());
        Assert.That(() => Checkpoint.LoadModel(plain), Throws.InstanceOf<InvalidDataException>().With.Message.Contains("does not say which architecture"));
        Assert.That(() => Trainer.Inspect(plain), Throws.InstanceOf<InvalidDataException>().With.Message.Contains("not a Standalone training checkpoint"));
        Assert.That(Checkpoint.LoadModel(plain, "resnet20").Spec, Is.EqualTo(Spec), "channels, classes and shortcut read off the tensors");
        Assert.That(() => Checkpoint.LoadModel(plain, "resnet32"), Throws.InstanceOf<InvalidDataException>().With.Message.Contains("does not fit resnet32"));
    }
}
