// `train --init`: a run starts from pretrained weights (here the PyTorch checkpoint fixture, a 10-class ResNet-20),
// the classifier is replaced for the folder's 2 classes, and --freeze-epochs keeps every other parameter exactly at
// its pretrained value while only the classifier learns; after the frozen epochs the whole network trains.
using Standalone.Cli;
using Standalone.Models.IO;
using Standalone.Models.Training;
using Standalone.Tests.Hostile;
using Standalone.Tests.Reference;
using Standalone.Tests.Support;

namespace Standalone.Tests.Cli;

[TestFixture]
[NonParallelizable] // redirects Console
public sealed class TransferLearningTests : CliTest
{
    private static string Pretrained => Path.Combine(Fixture.RepositoryRoot(), "data", "reference", "pth", "resnet20.pth");

    private string Train(int epochs, int freezeEpochs)
    {
        string folder = Folder(), run = Path.Combine(Scratch, $"run-{epochs}-{freezeEpochs}");
        Assert.That(Program.Main(["train", "--arch", "resnet20", "--dataset", "folder", "--data", folder, "--init", Pretrained,
            "--epochs", epochs.ToString(), "--freeze-epochs", freezeEpochs.ToString(), "--batch-size", "4", "--out", run]), Is.Zero, Error.ToString());
        return Path.Combine(run, Trainer.ModelFile);
    }

    [Test]
    public void FrozenEpochsTrainOnlyTheNewClassifier()
    {
        string model = Train(epochs: 1, freezeEpochs: 1);
        Assert.That(Out.ToString(), Does.Contain("initialised 126 of 128 tensors from").And.Contain("the classifier (fc.weight, fc.bias) starts fresh for 2 classes"));
        var pretrained = TorchCheckpoint.Read(Pretrained).ToDictionary(t => t.Name, t => t.Value);
        var trained = Checkpoint.LoadModel(model);
        Assert.That(trained.Spec.NumClasses, Is.EqualTo(2));
        foreach (var (name, parameter) in trained.Model.NamedParameters())
            if (!name.StartsWith("fc.", StringComparison.Ordinal))
                Assert.That(parameter.Data.ToArray<float>(), Is.EqualTo(pretrained[name].ToArray<float>()), $"{name} stays frozen");
    }

    [Test]
    public void AfterTheFrozenEpochsTheWholeNetworkTrains()
    {
        string model = Train(epochs: 2, freezeEpochs: 1);
        var pretrained = TorchCheckpoint.Read(Pretrained).ToDictionary(t => t.Name, t => t.Value);
        var conv1 = Checkpoint.LoadModel(model).Model.NamedParameters().Single(p => p.Name == "conv1.weight").Parameter;
        Assert.That(conv1.Data.ToArray<float>(), Is.Not.EqualTo(pretrained["conv1.weight"].ToArray<float>()), "epoch 2 trains the backbone");
    }

    [Test]
    public void ImageNetNormalisationIsRecordedInTheModel()
    {
        string run = Path.Combine(Scratch, "imagenet");
        Assert.That(Program.Main(["train", "--dataset", "synthetic", "--normalize", "imagenet", "--epochs", "1", "--batch-size", "256", "--out", run]), Is.Zero, Error.ToString());
        var data = Checkpoint.LoadModel(Path.Combine(run, Trainer.ModelFile)).Data!;
        Assert.That(data.Mean, Is.EqualTo(new[] { 0.485f, 0.456f, 0.406f }));
        Assert.That(data.Std, Is.EqualTo(new[] { 0.229f, 0.224f, 0.225f }));
    }

    [TestCase("--normalize imagenet --dataset folder --data FOLDER", "--normalize imagenet is for RGB images")]
    [TestCase("--normalize z-score --dataset synthetic", "--normalize must be data or imagenet, got 'z-score'")]
    [TestCase("--freeze-epochs 1", "--freeze-epochs freezes pretrained weights: give them with --init FILE")]
    [TestCase("--init PRETRAINED --dataset synthetic", "'conv1.weight' is [16, 1, 3, 3] there, [16, 3, 3, 3] here")]
    [TestCase("--init PRETRAINED --dataset synthetic --arch resnet32", "does not fit resnet32")]
    public void WeightsThatDoNotFitAreOneSentence(string args, string expected) =>
        AssertOneSentenceError(["train", "--epochs", "1", "--out", Path.Combine(Scratch, "x"), .. args.Replace("PRETRAINED", Pretrained).Replace("FOLDER", Folder()).Split(' ')], expected);

    private string Folder()
    {
        string folder = Path.Combine(Scratch, "folder");
        if (!Directory.Exists(folder)) HostileFiles.PngFolder(folder, perClass: 4, side: 8, seed: 2);
        return folder;
    }
}
