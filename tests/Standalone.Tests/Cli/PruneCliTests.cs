// `standalone prune` in-process on the shipped model with a quick configuration: the files of the report exist,
// report.json has the documented keys, and the compacted model loads and evaluates with `eval`.
using System.Text.Json;
using Standalone.Cli;
using Standalone.Tests.Support;

namespace Standalone.Tests.Cli;

[NonParallelizable]
public sealed class PruneCliTests : CliTest
{
    [Test]
    public void PruneWritesTheCompactedModelAndTheReport()
    {
        string output = Path.Combine(Scratch, "run");
        int code = Program.Main(["prune", "--criterion", "l1", "--target-macs", "0.3", "--finetune-epochs", "0", "--test-images", "300",
            "--curve-images", "100", "--no-throughput", "--out", output]);
        Assert.That(code, Is.EqualTo(0), Error.ToString());
        foreach (string file in new[] { "model.safetensors", "model.onnx", "report.json", "report.md", "accuracy_vs_macs.svg", "channels_per_layer.svg" })
            Assert.That(File.Exists(Path.Combine(output, file)), file);

        using var report = JsonDocument.Parse(File.ReadAllText(Path.Combine(output, "report.json")));
        var root = report.RootElement;
        foreach (string key in new[] { "criterion", "schedule", "options", "seed", "baseline", "pruned", "accuracy_before_finetune", "timings", "layers", "files" })
            Assert.That(root.TryGetProperty(key, out _), key);
        Assert.That(root.GetProperty("criterion").GetString(), Is.EqualTo("l1"));
        Assert.That(root.GetProperty("schedule").GetString(), Is.EqualTo("one-shot"));
        foreach (string part in new[] { "baseline", "pruned" })
            foreach (string key in new[] { "accuracy", "params", "macs" })
                Assert.That(root.GetProperty(part).TryGetProperty(key, out _), $"{part}.{key}");
        long before = root.GetProperty("baseline").GetProperty("macs").GetInt64(), after = root.GetProperty("pruned").GetProperty("macs").GetInt64();
        Assert.That(1 - (double)after / before, Is.GreaterThanOrEqualTo(0.3));
        Assert.That(root.GetProperty("layers")[0].GetProperty("name").GetString(), Is.EqualTo("conv1"));
        Assert.That(root.GetProperty("files").GetProperty("model").GetString(), Is.EqualTo(Path.Combine(output, "model.safetensors")));

        // The compacted model is an ordinary model file.
        string json = Path.Combine(Scratch, "eval.json");
        Assert.That(Program.Main(["eval", "--model", Path.Combine(output, "model.safetensors"), "--json", json]), Is.EqualTo(0), Error.ToString());
        using var eval = JsonDocument.Parse(File.ReadAllText(json));
        Assert.That(eval.RootElement.GetProperty("macs").GetInt64(), Is.EqualTo(after));
        Assert.That(Out.ToString(), Does.Contain("pruned resnet20"));
    }

    [Test]
    public void AllocationScheduleAndDistillationOptionsReachTheReport()
    {
        string output = Path.Combine(Scratch, "progressive");
        int code = Program.Main(["prune", "--criterion", "l1", "--schedule", "progressive", "--progressive-steps", "3", "--ranking", "cost",
            "--score-normalization", "mean", "--max-layer-ratio", "0.75", "--target-macs", "0.3", "--finetune-steps", "2", "--distill-alpha", "0.5",
            "--distill-temperature", "3", "--test-images", "200", "--curve-images", "100", "--no-throughput", "--out", output]);
        Assert.That(code, Is.EqualTo(0), Error.ToString());
        using var report = JsonDocument.Parse(File.ReadAllText(Path.Combine(output, "report.json")));
        var root = report.RootElement;
        var options = root.GetProperty("options");
        Assert.That(root.GetProperty("schedule").GetString(), Is.EqualTo("progressive"));
        Assert.That(options.GetProperty("ranking").GetString(), Is.EqualTo("global, cost-aware (score per MAC saved)"));
        Assert.That(options.GetProperty("score_normalization").GetString(), Is.EqualTo("mean"));
        Assert.That(options.GetProperty("max_layer_ratio").GetString(), Is.EqualTo("0.75"));
        Assert.That(options.GetProperty("distillation").GetString(), Does.Contain("α = 0.5, T = 3"));
        Assert.That(options.GetProperty("progressive").GetString(), Does.StartWith("3 equal steps"));
        Assert.That(root.GetProperty("fine_tune_steps").GetInt64(), Is.EqualTo(2));
        foreach (var layer in root.GetProperty("layers").EnumerateArray())
            Assert.That(layer.GetProperty("after").GetInt32(), Is.GreaterThanOrEqualTo((int)Math.Ceiling(0.25 * layer.GetProperty("before").GetInt32())), layer.GetProperty("name").GetString());
    }

    [TestCase("prune --criterion fisher", "unknown criterion 'fisher'")]
    [TestCase("prune --ranking best", "--ranking must be cost, global or layer")]
    [TestCase("prune --score-normalization median", "--score-normalization must be none, mean, l1, l2 or max")]
    [TestCase("prune --distill-alpha 2", "--distill-alpha is the soft-target weight, in [0, 1]")]
    [TestCase("prune --max-layer-ratio 0", "--max-layer-ratio is the largest fraction")]
    [TestCase("prune --progressive-steps 0", "--progressive-steps must be ≥ 1")]
    [TestCase("prune --target-macs 0.5 --ratio 0.3", "give one of --target-macs, --target-params, --ratio")]
    [TestCase("prune --target-macs 1.5", "in (0, 1)")]
    [TestCase("prune --schedule gradual", "unknown schedule 'gradual'")]
    [TestCase("prune --ignore layer9.conv --finetune-epochs 0 --test-images 10 --no-throughput", "--ignore: 'layer9.conv' is not a Conv2d or Linear")]
    public void BadInputIsOneSentence(string args, string expected) => AssertOneSentenceError(args.Split(' '), expected);
}
