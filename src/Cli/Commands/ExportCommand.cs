// `standalone export`: a model file (pruned or not) as an ONNX model (opset 13) for the input size it was trained
// on. The graph takes images normalised as in training; the ONNX file's metadata_props keep the model file's
// standalone.model and standalone.data descriptions, which say how. --test-data also writes an input and this
// engine's logits for it, so that another runtime can be checked against them.
using System.CommandLine;
using System.Globalization;
using Standalone.Models.IO.Onnx;
using Standalone.Models.Training;

namespace Standalone.Cli.Commands;

internal static class ExportCommand
{
    /// <summary>Images in the --test-data batch (two, so that a runtime also shows it honours the variable batch axis).</summary>
    private const int TestImages = 2;

    public static Command Create()
    {
        var model = CommonOptions.ModelFile();
        var output = new Option<string>("--out") { HelpName = "FILE.onnx", Description = "Where to write the ONNX model.", Required = true };
        var arch = CommonOptions.Architecture();
        var allowNonFinite = CommonOptions.AllowNonFinite();
        var size = CommonOptions.InputShape("Input shape C,H,W the graph is written for (default: the one the model was trained on).");
        var testData = new Option<string?>("--test-data")
        {
            HelpName = "DIR",
            Description = "Also write DIR/input_0.pb and DIR/output_0.pb (ONNX's test-data layout): two random normalised images and this engine's logits for them.",
        };
        var command = new Command("export", "Write a model file as an ONNX model (opset 13) that other runtimes can load.") { model, output, arch, allowNonFinite, size, testData };
        command.SetAction(parse =>
        {
            string path = CommonOptions.ResolveModelPath(parse.GetValue(model)!);
            string target = parse.GetValue(output)!;
            var loaded = Checkpoint.LoadModel(path, parse.GetValue(arch), parse.GetValue(allowNonFinite));
            int[] input = CommonOptions.ResolveInputShape(parse.GetValue(size), loaded);
            var metadata = new Dictionary<string, string> { [Checkpoint.ModelKey] = loaded.Spec.ToJson() };
            if (loaded.Data != null) metadata[Checkpoint.DataKey] = loaded.Data.ToJson();
            var export = OnnxExporter.Export(loaded.Model, input[0], input[1], input[2], target, metadata);

            Console.WriteLine($"wrote     {target} ({export.Bytes:N0} bytes, ONNX IR 7, opset 13)");
            Console.WriteLine($"model     {path}: {loaded.Spec}");
            Console.WriteLine($"graph     {OnnxExporter.InputName} [{OnnxExporter.BatchDim}, {string.Join(", ", export.InputDims)}] → " +
                              $"{OnnxExporter.OutputName} [{OnnxExporter.BatchDim}, {string.Join(", ", export.OutputDims)}]");
            Console.WriteLine($"nodes     {export.Nodes}: {export.OpSummary}");
            Console.WriteLine($"weights   {export.Initializers} initializers");
            if (loaded.Data is { } data)
                Console.WriteLine($"inputs    as in training: pixels in [0, 1]{(data.PadTo > 0 ? $" centred on a {data.PadTo}×{data.PadTo} zero canvas" : "")}, " +
                                  $"then (x − mean) / std per channel with mean {Numbers(data.Mean)}, std {Numbers(data.Std)}");
            if (parse.GetValue(testData) is { } directory)
            {
                using var images = Tensor.RandomNormal(new Shape(TestImages, input[0], input[1], input[2]), 0, 1, new Rng(0));
                OnnxTestData.Write(loaded.Model, images, directory);
                Console.WriteLine($"test data {Path.Combine(directory, "input_0.pb")}, {Path.Combine(directory, "output_0.pb")}");
            }
            return 0;
        });
        return command;
    }

    private static string Numbers(float[] values) => string.Join(", ", values.Select(v => v.ToString("G6", CultureInfo.InvariantCulture)));
}
