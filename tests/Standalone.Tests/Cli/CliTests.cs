// The `standalone` command in-process: every option of every command is documented and shown by --help, a short
// train → eval round trip on the synthetic set writes exactly the documented JSON keys, export writes the shipped
// model as ONNX with its test data, and bad input ends in one "error:" sentence with exit code 1.
using System.CommandLine;
using System.Text.Json;
using System.Runtime.InteropServices;
using Standalone.Autograd;
using Standalone.Cli;
using Standalone.Cli.Commands;
using Standalone.Models.Training;
using Standalone.Tests.IO;
using Standalone.Tests.Support;

namespace Standalone.Tests.Cli;

[TestFixture]
[NonParallelizable] // redirects Console
public sealed class CliTests : CliTest
{
    [Test]
    public void EveryOptionIsDocumentedAndShownByHelp()
    {
        foreach (var command in Program.BuildRoot().Subcommands)
        {
            Assert.That(command.Description, Is.Not.Empty, command.Name);
            Out.GetStringBuilder().Clear();
            Assert.That(Program.Main([command.Name, "--help"]), Is.EqualTo(0), command.Name);
            string help = Out.ToString();
            foreach (var option in command.Options.Where(o => o.Name is not ("--help" or "-h" or "-?")))
            {
                Assert.That(option.Description, Is.Not.Null.And.Not.Empty, $"{command.Name} {option.Name}");
                Assert.That(help, Does.Contain(option.Name), $"{command.Name} --help lacks {option.Name}");
            }
        }
    }

    [Test]
    public void TrainThenEvalWritesTheDocumentedKeys()
    {
        string run = Path.Combine(Scratch, "run"), json = Path.Combine(Scratch, "eval.json");
        Assert.That(Program.Main(["train", "--dataset", "synthetic", "--epochs", "1", "--batch-size", "64", "--out", run]), Is.EqualTo(0), Error.ToString());
        Assert.That(File.Exists(Path.Combine(run, "model.safetensors")) && File.Exists(Path.Combine(run, "checkpoint.safetensors")));
        Assert.That(Program.Main(["eval", "--model", Path.Combine(run, "model.safetensors"), "--json", json]), Is.EqualTo(0), Error.ToString());
        using var doc = JsonDocument.Parse(File.ReadAllText(json));
        Assert.That(doc.RootElement.EnumerateObject().Select(p => p.Name), Is.EqualTo(new[] { "accuracy", "loss", "params", "macs", "images" }));
        Assert.That(doc.RootElement.GetProperty("images").GetInt32(), Is.EqualTo(Standalone.Models.Data.DataCatalog.SyntheticTest));
        Assert.That(doc.RootElement.GetProperty("params").GetInt64(), Is.EqualTo(272_474), "ResNet-20 (shortcut B) for 3 channels and 10 classes");

        // A second train into the same directory must not overwrite the run.
        Assert.That(Program.Main(["train", "--dataset", "synthetic", "--epochs", "1", "--out", run]), Is.EqualTo(1));
        Assert.That(Error.ToString(), Does.Contain("--resume"));
    }

    [Test]
    public void BenchLayersTimesEveryResNet20Convolution()
    {
        Assert.That(Program.Main(["bench", "--layers", "--quick"]), Is.EqualTo(0), Error.ToString());
        var lines = Out.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        foreach (var layer in Standalone.Models.Benchmarks.ThroughputBenchmark.ResNet20Convolutions)
            Assert.That(lines.Count(l => l.StartsWith(layer.Name, StringComparison.Ordinal) && l.Split(" ms").Length == 4), Is.EqualTo(1), layer.Name);
        Assert.That(lines[^1], Does.StartWith("per training step"));
        Assert.That(Standalone.Models.Benchmarks.ThroughputBenchmark.ResNet20Convolutions.Sum(l => l.CountInResNet20), Is.EqualTo(21), "ResNet-20 has 21 convolutions");
    }

    [TestCase("bench --layers --json out.json", "--layers prints its table only")]
    [TestCase("eval --model /nowhere/model.safetensors", "model file /nowhere/model.safetensors does not exist")]
    [TestCase("train --arch resnet21 --dataset synthetic", "unknown model 'resnet21'")]
    [TestCase("train --dataset imagenet", "unknown data set 'imagenet'")]
    [TestCase("train --dataset synthetic --optimizer lion", "--optimizer must be one of")]
    [TestCase("info /nowhere.safetensors", "does not exist")]
    [TestCase("export --model /nowhere/model.safetensors --out model.onnx", "model file /nowhere/model.safetensors does not exist")]
    public void BadInputIsOneSentence(string args, string expected) => AssertOneSentenceError(args.Split(' '), expected);

    [Test]
    public void ExportWritesTheShippedModelAndItsTestData()
    {
        string onnx = Path.Combine(Scratch, "resnet20.onnx"), data = Path.Combine(Scratch, "test-data");
        Assert.That(Program.Main(["export", "--out", onnx, "--test-data", data]), Is.EqualTo(0), Error.ToString());
        string printed = Out.ToString();
        Assert.That(printed, Does.Contain($"wrote     {onnx} ({new FileInfo(onnx).Length:N0} bytes, ONNX IR 7, opset 13)"));
        Assert.That(printed, Does.Contain("resnet20-fashion-mnist.safetensors: resnet20 (shortcut B, 1 in, 10 classes)"));
        Assert.That(printed, Does.Contain("graph     input [batch, 1, 28, 28] → logits [batch, 10]"));
        Assert.That(printed, Does.Contain("nodes     73: Conv 21, BatchNormalization 21, Relu 19, Add 9, GlobalAveragePool 1, Flatten 1, Gemm 1"));
        var model = OnnxModel.Read(onnx);
        Assert.That(model.Metadata.Keys, Is.EquivalentTo(new[] { Checkpoint.ModelKey, Checkpoint.DataKey }));
        Assert.That(model.Metadata[Checkpoint.DataKey], Does.Contain("\"input\":[1,28,28]"));

        // output_0.pb holds exactly what the engine computes for input_0.pb (two images, so the batch axis is exercised).
        OnnxTensor Read(string file) => OnnxModel.ParseTensor(Protobuf.Decode(File.ReadAllBytes(Path.Combine(data, file))));
        var (input, output) = (Read("input_0.pb"), Read("output_0.pb"));
        Assert.That((input.Name, input.Dims, output.Name, output.Dims), Is.EqualTo(("input", new long[] { 2, 1, 28, 28 }, "logits", new long[] { 2, 10 })));
        var shipped = Checkpoint.LoadModel(Path.Combine(Reference.Fixture.RepositoryRoot(), EvalCommand.DefaultModel)).Model;
        shipped.Eval();
        using var images = Tensor.FromArray<float>(MemoryMarshal.Cast<byte, float>(input.RawData), new Shape(2, 1, 28, 28));
        using (Grad.Disabled())
            Assert.That(output.RawData, Is.EqualTo(MemoryMarshal.AsBytes(shipped.Forward(Variable.Constant(images)).Data.ToArray<float>().AsSpan()).ToArray()));
    }
}
