// The hostile-input harness over every input Standalone reads (HostileHarness judges each case): model files
// (safetensors, its header and its metadata), IDX data (gzip'd and raw), PNG folders, CIFAR binaries, training and
// pruning checkpoints with their saved state and metrics, and the command lines of every command. Mutants are seeded,
// so a failure reproduces; each family asserts that none of its cases crashed, hung, ran away with memory or was
// accepted where it must be refused, and prints its counts (the README reports them).
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Standalone.Models.Data;
using Standalone.Models.Training;
using Standalone.Models.Zoo;
using Standalone.Tests.Support;

namespace Standalone.Tests.Hostile;

[TestFixture]
[NonParallelizable] // redirects Console and the default device
public sealed partial class HostileInputTests : ScratchDirectoryTest
{
    private static readonly ModelSpec Spec = new() { Architecture = "resnet20", InChannels = 1, NumClasses = 2 };

    private string _folder = "", _model = "";

    [SetUp]
    public void Build()
    {
        _folder = Path.Combine(Scratch, "folder");
        HostileFiles.PngFolder(_folder, perClass: 4, side: 8, seed: 1);
        _model = Path.Combine(Scratch, "model.safetensors");
        HostileFiles.Model(_model, Spec, HostileFiles.Info("folder", 1, 8, 2) with { Classes = ["a", "b"] });
    }

    /// <summary>An eval result must count the images of the data it was given.</summary>
    private static Func<string, string?> EvaluatedImages(int images) => stdout =>
        AccuracyLine().Match(stdout) is { Success: true } m && int.Parse(m.Groups[2].Value) == images && double.Parse(m.Groups[1].Value) is >= 0 and <= 100
            ? null : $"expected an accuracy over {images} images, got: {AccuracyLine().Match(stdout).Value}";

    [GeneratedRegex(@"accuracy\s+([0-9.]+) ?% \(\d+/(\d+)\)")]
    private static partial Regex AccuracyLine();

    private static void Finish(HostileHarness harness, int minimumCases)
    {
        TestContext.Out.WriteLine(harness.Summary);
        Assert.That(harness.Cases, Is.GreaterThanOrEqualTo(minimumCases), "the family generates its cases");
        Assert.That(harness.Failures, Is.Empty, $"{harness.Failures.Count} of {harness.Cases} cases failed:\n" + string.Join("\n", harness.Failures.Take(60)));
    }

    // ---- model files -------------------------------------------------------------------------------------------

    [Test]
    public void ModelFiles()
    {
        var harness = new HostileHarness("safetensors", Scratch);
        byte[] good = File.ReadAllBytes(_model);
        string mutant = Path.Combine(Scratch, "mutant.safetensors");
        string[] Eval(params string[] extra) => ["eval", "--model", mutant, "--data", _folder, .. extra];
        void Case(string name, Func<byte[]> make, Expect expect, params string[] extra) =>
            harness.Run(new(name, Eval(extra), expect, () => File.WriteAllBytes(mutant, make()), EvaluatedImages(8)));

        Case("unchanged", () => good, Expect.Success);
        var random = new Random(19);
        var (header, dataStart) = HostileFiles.SplitSafeTensors(good);
        var names = JsonNode.Parse(header)!.AsObject().Select(p => p.Key).Where(k => k != "__metadata__").ToArray();

        // Header entries: every change of dtype, shape or offsets breaks the file's layout or its meaning.
        foreach (string name in names.OrderBy(_ => random.Next()).Take(12))
        {
            var entry = JsonNode.Parse(header)![name]!;
            foreach (string dtype in new[] { "F16", "BF16", "F64", "I32", "I64", "U8", "BOOL", "Q4" })
                Case($"dtype {name} {dtype}", () => HostileFiles.EditHeader(good, h => h[name]!["dtype"] = dtype),
                    entry["dtype"]!.GetValue<string>() == dtype ? Expect.Success : Expect.Error);
            foreach (var shape in new[] { "[]", "[0]", "[-1]", "[2147483648]", "[1099511627776, 1099511627776]", "[1, 2, 3, 4, 5, 6, 7, 8, 9]", "\"x\"", "null" })
                Case($"shape {name} {shape}", () => HostileFiles.EditHeader(good, h => h[name]!["shape"] = JsonNode.Parse(shape)),
                    entry["shape"]!.ToJsonString() == JsonNode.Parse(shape)?.ToJsonString() ? Expect.Success : Expect.Error);
            foreach (var offsets in new[] { "[0, 0]", "[-4, 0]", "[1, 2, 3]", "[9223372036854775807, 0]", "[0, 18446744073709551615]", "\"0\"" })
                Case($"offsets {name} {offsets}", () => HostileFiles.EditHeader(good, h => h[name]!["data_offsets"] = JsonNode.Parse(offsets)), Expect.Error);
            Case($"remove {name}", () => HostileFiles.EditHeader(good, h => h.Remove(name)), Expect.Error);
            Case($"no dtype {name}", () => HostileFiles.EditHeader(good, h => h[name]!.AsObject().Remove("dtype")), Expect.Error);
        }

        // Model and data descriptions: values that the tensors or the data contradict, or that ask for huge networks.
        var specEdits = new (string Field, string Value, Expect Expect)[]
        {
            ("in_channels", "0", Expect.Error), ("in_channels", "3", Expect.Error), ("in_channels", "2147483647", Expect.Error), ("in_channels", "-1", Expect.Error),
            ("num_classes", "10", Expect.Error), ("num_classes", "2147483647", Expect.Error), ("num_classes", "0", Expect.Error), ("num_classes", "\"2\"", Expect.Error),
            ("width_multiplier", "0", Expect.Error), ("width_multiplier", "1e9", Expect.Error), ("width_multiplier", "\"NaN\"", Expect.Error), ("width_multiplier", "2", Expect.Error),
            ("architecture", "\"resnet32\"", Expect.Error), ("architecture", "\"vgg11\"", Expect.Error), ("architecture", "\"resnet18\"", Expect.Error),
            ("architecture", "\"\"", Expect.Error), ("architecture", "null", Expect.Error), ("architecture", "\"resnet2147483647\"", Expect.Error),
            ("shortcut", "\"A\"", Expect.Error), ("shortcut", "\"Z\"", Expect.Error), ("shortcut", "null", Expect.Error), ("head", "\"imagenet\"", Expect.Error),
            ("pruned", "true", Expect.Success), ("pruned", "\"yes\"", Expect.Error),
            ("shortcut_padding", "{\"layer1.0.shortcut\": [2147483647, 2147483647]}", Expect.Either), ("shortcut_padding", "{\"x\": [-1, 1]}", Expect.Error),
            ("shortcut_padding", "{\"x\": [1]}", Expect.Error), ("shortcut_padding", "[]", Expect.Error), ("extra_field", "1", Expect.Success),
        };
        foreach (var (field, value, expect) in specEdits)
            Case($"model {field}={value}", () => HostileFiles.EditMetadata(good, Checkpoint.ModelKey, r => r[field] = JsonNode.Parse(value)), expect);
        var dataEdits = new (string Field, string Value, Expect Expect)[]
        {
            ("mean", "[\"NaN\"]", Expect.Error), ("mean", "[]", Expect.Error), ("mean", "[0.1, 0.2]", Expect.Error), ("mean", "[\"Infinity\"]", Expect.Error), ("mean", "[0.3]", Expect.Success),
            ("std", "[0]", Expect.Error), ("std", "[-1]", Expect.Error), ("std", "[\"Infinity\"]", Expect.Error), ("std", "null", Expect.Error), ("std", "[2]", Expect.Success),
            ("input", "[1, 8]", Expect.Error), ("input", "[1, 1000000000, 8]", Expect.Error), ("input", "[3, 8, 8]", Expect.Error), ("input", "[1, 0, 8]", Expect.Error),
            ("input", "[1, 16, 16]", Expect.Error), ("input", "null", Expect.Error),
            ("classes", "[]", Expect.Error), ("classes", "[\"a\", \"b\", \"c\"]", Expect.Error), ("classes", "[\"x\", \"y\"]", Expect.Success), ("classes", "null", Expect.Error),
            ("pad_to", "-1", Expect.Error), ("pad_to", "1000000000", Expect.Error), ("pad_to", "16", Expect.Error), ("pad_to", "8", Expect.Success),
            ("dataset", "\"synthetic\"", Expect.Error), ("dataset", "\"imagenet\"", Expect.Error), ("dataset", "\"\"", Expect.Error), ("dataset", "null", Expect.Error),
        };
        foreach (var (field, value, expect) in dataEdits)
            Case($"data {field}={value}", () => HostileFiles.EditMetadata(good, Checkpoint.DataKey, r => r[field] = JsonNode.Parse(value)), expect);
        foreach (string json in new[] { "{", "[]", "null", "\"x\"", "{\"architecture\": 5}", "" })
            Case($"model description {json}", () => HostileFiles.EditHeader(good, h => h["__metadata__"]![Checkpoint.ModelKey] = json), Expect.Error);

        // Numbers that are not numbers: refused on load, accepted when asked for.
        foreach (var (tensor, value) in new[] { ("conv1.weight", float.NaN), ("fc.bias", float.PositiveInfinity), ("bn1.running_mean", float.NegativeInfinity),
                     ("bn1.running_var", -1f), ("bn1.running_var", float.NaN), ("layer3.2.bn2.weight", float.NaN) })
        {
            Case($"{tensor}={value}", () => HostileFiles.SetFloat(good, tensor, 0, value), Expect.Error);
            harness.Run(new($"{tensor}={value} allowed", Eval("--allow-non-finite"), Expect.Success, () => File.WriteAllBytes(mutant, HostileFiles.SetFloat(good, tensor, 0, value))));
        }

        // Random damage: flips in the header and the data, truncations, a wrong length prefix, trailing bytes.
        for (int i = 0; i < 160; i++)
        {
            int at = random.Next(0, dataStart);
            byte xor = (byte)(1 << random.Next(8));
            Case($"header flip {at}^{xor}", () => { var b = (byte[])good.Clone(); b[at] ^= xor; return b; }, Expect.Either);
        }
        for (int i = 0; i < 100; i++)
        {
            int at = dataStart + random.Next(good.Length - dataStart);
            byte value = (byte)random.Next(256);
            Case($"data byte {at}={value}", () => { var b = (byte[])good.Clone(); b[at] = value; return b; }, Expect.Either);
        }
        for (int i = 0; i < 60; i++)
        {
            int length = random.Next(0, good.Length);
            Case($"truncated to {length}", () => good[..length], Expect.Error);
        }
        foreach (ulong prefix in new ulong[] { 0, 1, (ulong)dataStart - 7, (ulong)dataStart, (ulong)good.Length, 100_000_001, ulong.MaxValue, 1UL << 63 })
            Case($"length prefix {prefix}", () => { var b = (byte[])good.Clone(); BitConverter.TryWriteBytes(b, prefix); return b; }, Expect.Error);
        Case("trailing bytes", () => [.. good, 1, 2, 3, 4], Expect.Error);
        Case("empty", () => [], Expect.Error);

        // Not a file at all.
        harness.Run(new("fifo", Eval(), Expect.Error, () => HostileFiles.Fifo(mutant)));
        harness.Run(new("directory", ["eval", "--model", Scratch, "--data", _folder], Expect.Error));
        harness.Run(new("/dev/zero", ["eval", "--model", "/dev/zero", "--data", _folder], Expect.Error));
        harness.Run(new("info fifo", ["info", mutant], Expect.Error, () => HostileFiles.Fifo(mutant)));
        File.Delete(mutant);
        for (int i = 0; i < 20; i++)
        {
            int at = random.Next(0, dataStart);
            harness.Run(new($"info header flip {at}", ["info", mutant], Expect.Either, () => { var b = (byte[])good.Clone(); b[at] ^= 0x20; File.WriteAllBytes(mutant, b); }));
        }
        Finish(harness, 500);
    }
}
