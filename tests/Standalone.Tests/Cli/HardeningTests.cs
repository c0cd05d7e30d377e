// One regression test per class of defect found by hostile use (the harness in Hostile/ covers the breadth): what
// escapes Main, what a tiny file may demand, silent nonsense, interruption and resume, special files, and messages.
using System.Text.Json.Nodes;
using Standalone.Cli;
using Standalone.Models.Data;
using Standalone.Models.IO;
using Standalone.Models.Training;
using Standalone.Models.Zoo;
using Standalone.Tests.Hostile;
using Standalone.Tests.Support;

namespace Standalone.Tests.Cli;

[TestFixture]
[NonParallelizable] // redirects Console
public sealed class HardeningTests : CliTest
{
    private static readonly ModelSpec Spec = new() { Architecture = "resnet20", InChannels = 1, NumClasses = 2 };

    private string Folder()
    {
        string folder = Path.Combine(Scratch, "folder");
        if (!Directory.Exists(folder)) HostileFiles.PngFolder(folder, perClass: 4, side: 8, seed: 1);
        return folder;
    }

    private string Model(DataInfo? info = null)
    {
        string path = Path.Combine(Scratch, "model.safetensors");
        HostileFiles.Model(path, Spec, info ?? HostileFiles.Info("folder", 1, 8, 2) with { Classes = ["a", "b"] });
        return path;
    }

    // 1. Exceptions: nothing escapes Main; a defect is exit 70 with its type, and --verbose adds the stack trace.
    [Test]
    public void ADefectIsExitSeventyWithoutAStackTraceUnlessVerbose()
    {
        Assert.That(Program.Fail(new NullReferenceException("boom"), verbose: false), Is.EqualTo(ExitCodes.Internal));
        Assert.That(Error.ToString(), Does.StartWith("internal error").And.Contain("NullReferenceException: boom").And.Not.Contain(" at "));
        Error.GetStringBuilder().Clear();
        Assert.That(Program.Fail(new KeyNotFoundException("k"), verbose: true), Is.EqualTo(ExitCodes.Internal));
        Assert.That(Error.ToString().Split('\n').Length, Is.GreaterThan(1), "--verbose prints the exception after the sentence");
    }

    [TestCase("train --dataset synthetic --arch vgg11 --width 1e9", "the width multiplier must be in (0, 4]")]
    [TestCase("train --dataset synthetic --arch resnet20 --width 2", "width multiplier 2 does not apply")]
    public void OptionsThatWouldOverflowAreRefused(string args, string expected) => AssertOneSentenceError(args.Split(' '), expected);

    // 2. A few bytes of metadata may not ask for a huge network: the description is compared with the tensors first.
    [Test]
    public void HugeLayersInTheDescriptionAreRefusedBeforeAllocation()
    {
        string model = Model();
        File.WriteAllBytes(model, HostileFiles.EditMetadata(File.ReadAllBytes(model), Checkpoint.ModelKey, s => s["num_classes"] = 2_000_000_000));
        long before = GC.GetTotalAllocatedBytes();
        AssertOneSentenceError(["info", model], "classes (expected 1 to 100,000)");
        Assert.That(GC.GetTotalAllocatedBytes() - before, Is.LessThan(64 << 20));
    }

    // 3. Silent nonsense: data of another size, NaN weights, integers over floats, targets that cannot be met.
    [Test]
    public void EvalRefusesImagesOfAnotherSizeOrClassCount()
    {
        string model = Model(HostileFiles.Info("folder", 1, 28, 2) with { Classes = ["a", "b"] });
        AssertOneSentenceError(["eval", "--model", model, "--data", Folder()], "gives 1×8×8 images, but " + model + " takes 1×28×28");
        Error.GetStringBuilder().Clear();
        Directory.CreateDirectory(Path.Combine(Folder(), "test", "c"));
        File.Copy(Path.Combine(Folder(), "test", "a", "0.png"), Path.Combine(Folder(), "test", "c", "0.png"));
        AssertOneSentenceError(["eval", "--model", Model(), "--data", Folder()], "has 3 classes, but " + Path.Combine(Scratch, "model.safetensors") + " was trained on 2");
    }

    [Test]
    public void NonFiniteWeightsAreRefusedUnlessAllowed()
    {
        string model = Model();
        File.WriteAllBytes(model, HostileFiles.SetFloat(File.ReadAllBytes(model), "fc.bias", 1, float.NaN));
        AssertOneSentenceError(["eval", "--model", model, "--data", Folder()], "'fc.bias' holds NaN at element 1");
        Error.GetStringBuilder().Clear();
        Assert.That(Program.Main(["eval", "--model", model, "--data", Folder(), "--allow-non-finite"]), Is.Zero, Error.ToString());
        Assert.That(Error.ToString(), Does.Contain("warning: the loss is NaN"));
    }

    [Test]
    public void AnIntegerTensorOverAFloatParameterIsRefused()
    {
        string model = Model();
        File.WriteAllBytes(model, HostileFiles.EditHeader(File.ReadAllBytes(model), h => h["fc.weight"]!["dtype"] = "I32"));
        AssertOneSentenceError(["info", model], "'fc.weight' is stored as Int32 but the model holds it as Float32");
    }

    [Test]
    public void PruneRefusesATargetItsFloorsForbidAndAFinishedOutput()
    {
        string model = Model();
        AssertOneSentenceError(["prune", "--model", model, "--data", Folder(), "--min-channels", "512", "--batch-size", "4", "--no-throughput", "--out", Path.Combine(Scratch, "p")],
            "nothing could be pruned");
        Error.GetStringBuilder().Clear();
        string finished = Path.Combine(Scratch, "finished");
        Directory.CreateDirectory(finished);
        File.WriteAllText(Path.Combine(finished, "report.json"), "{}");
        AssertOneSentenceError(["prune", "--model", model, "--data", Folder(), "--out", finished], "holds a finished run (report.json)");
        Assert.That(File.ReadAllText(Path.Combine(finished, "report.json")), Is.EqualTo("{}"), "nothing already written is lost");
    }

    // 4. Interruption: resume restores the data directory; torn metrics lines and stale temporary files go.
    [Test]
    public void ResumeReadsTheRunsOwnDataAndRepairsWhatAKillLeft()
    {
        string run = Path.Combine(Scratch, "run");
        Assert.That(Program.Main(["train", "--dataset", "folder", "--data", Folder(), "--epochs", "2", "--batch-size", "4", "--out", run]), Is.Zero, Error.ToString());
        string checkpoint = Path.Combine(run, Trainer.CheckpointFile), metrics = Path.Combine(run, Trainer.MetricsFile);
        // As after a kill during epoch 2's checkpoint: epoch 1's state, epoch 2's metrics line torn, a temporary file left.
        File.WriteAllBytes(checkpoint, HostileFiles.EditMetadata(File.ReadAllBytes(checkpoint), Checkpoint.TrainerKey, s => s["epoch"] = 1));
        var lines = File.ReadAllLines(metrics);
        File.WriteAllText(metrics, lines[0] + "\n" + lines[0] + "\n" + lines[1][..15]);
        File.WriteAllText(checkpoint + ".tmp-999999", "partial");
        Assert.That(Program.Main(["train", "--resume", run, "--epochs", "5"]), Is.Zero, Error.ToString());
        Assert.That(Error.ToString(), Does.Contain("warning: --epochs is ignored"));
        Assert.That(File.ReadAllLines(metrics).Select(l => JsonNode.Parse(l)!["epoch"]!.GetValue<int>()), Is.EqualTo(new[] { 1, 2 }));
        Assert.That(Directory.GetFiles(run, "*.tmp-*"), Is.Empty);
        Assert.That(MetadataJson.Read<TrainerState>(SafeTensors.Read(checkpoint).Metadata[Checkpoint.TrainerKey], checkpoint, "state").DataDirectory,
            Is.EqualTo(Path.GetFullPath(Folder())), "the checkpoint records the data directory; without it the resume above would have read Fashion-MNIST");
    }

    [Test]
    public void AFailedWriteLeavesNoTemporaryFileAndNamesTheTarget()
    {
        string target = Path.Combine(Scratch, "out.bin");
        var e = Assert.Throws<IOException>(() => AtomicFile.Write(target, stream => throw new IOException($"No space left on device : '{target}.tmp-{Environment.ProcessId}'")))!;
        Assert.That(e.Message, Does.StartWith($"could not write {target}:").And.Not.Contain(".tmp-"));
        Assert.That(Directory.GetFiles(Scratch), Is.Empty);
    }

    // 5. Special files: a FIFO where a file is expected is refused by name, without blocking.
    [Test]
    public void AFifoIsRefusedWithoutBlocking()
    {
        string fifo = Path.Combine(Scratch, "model.safetensors");
        HostileFiles.Fifo(fifo);
        var run = Task.Run(() => Program.Main(["info", fifo]));
        Assert.That(run.Wait(TimeSpan.FromSeconds(30)), Is.True, "info on a FIFO must not block");
        Assert.That(run.Result, Is.EqualTo(ExitCodes.Failure));
        Assert.That(Error.ToString(), Does.Contain($"model file {fifo} is a FIFO, not a regular file"));
    }

    // 6. Messages in Standalone's words: an unknown command, a non-finite number, a misspelt option.
    [TestCase("trian", "unknown command 'trian' (expected one of train, eval")]
    [TestCase("train --lr inf", "--lr expects a finite number, got 'inf'")]
    [TestCase("prune --finetune-epochs nan", "--finetune-epochs expects a finite number, got 'nan'")]
    [TestCase("train --epochs 1e9", "--epochs expects a whole number, got '1e9'")]
    [TestCase("eval --bach-size 4", "unknown option '--bach-size' for standalone eval (did you mean --batch-size?)")]
    [TestCase("train --model resnet20", "train takes the architecture as --arch NAME")]
    public void UsageErrorsAreExitTwoInOurWords(string args, string expected) => AssertOneSentenceError(args.Split(' '), expected, ExitCodes.Usage);
}
