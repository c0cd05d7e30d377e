// `standalone eval`: accuracy and loss of a model file on a data set's test split (the data set, normalisation and
// input size come from the file), plus its parameter and MAC counts; --json writes the keys accuracy, loss, params,
// macs, images.
using System.CommandLine;
using System.Text.Json;
using System.Text.Json.Nodes;
using Spectre.Console;
using Standalone.Models.Data;
using Standalone.Models.IO;
using Standalone.Models.Stats;
using Standalone.Models.Training;

namespace Standalone.Cli.Commands;

internal static class EvalCommand
{
    public const string DefaultModel = "data/models/resnet20-fashion-mnist.safetensors";

    public static Command Create()
    {
        var model = CommonOptions.ModelFile();
        var arch = CommonOptions.Architecture();
        var allowNonFinite = CommonOptions.AllowNonFinite();
        var dataset = new Option<string?>("--dataset") { HelpName = "NAME", Description = "Data set (default: the one the model was trained on)." };
        var data = CommonOptions.DataDirectory();
        var split = new Option<string>("--split") { HelpName = "test|train", Description = "Which split to evaluate.", DefaultValueFactory = _ => "test" };
        var batch = new Option<int>("--batch-size") { HelpName = "B", Description = "Images per forward pass.", DefaultValueFactory = _ => 256 };
        var json = new Option<FileInfo?>("--json") { HelpName = "FILE", Description = "Also write accuracy, loss, params, macs, images to this JSON file." };
        var command = new Command("eval", "Evaluate a model file: accuracy, loss, parameters and MACs.") { model, arch, allowNonFinite, dataset, data, split, batch, json };
        command.SetAction(parse =>
        {
            string path = CommonOptions.ResolveModelPath(parse.GetValue(model)!);
            string which = parse.GetValue(split)!;
            if (which is not ("test" or "train")) throw new ArgumentException($"--split must be test or train, got '{which}'");
            if (parse.GetValue(batch) <= 0) throw new ArgumentException($"--batch-size must be positive, got {parse.GetValue(batch)}");
            var loaded = Checkpoint.LoadModel(path, parse.GetValue(arch), parse.GetValue(allowNonFinite));
            string name = parse.GetValue(dataset) ?? loaded.Data?.Dataset
                ?? throw new ArgumentException($"{path} does not say which data set it was trained on: pass --dataset");
            var info = loaded.Data ?? CommonOptions.InfoFromTrainingSplit(name, parse.GetValue(data));
            var images = DataCatalog.Load(name, parse.GetValue(data), train: which == "train", (c, h, w, source) => info.RequireShape(c, h, w, source, path));
            info.RequireFits(images, path);
            var loader = new DataLoader(images, info.EvalLoader(parse.GetValue(batch)));
            var stats = ModelStats.Measure(loaded.Model, loader.Channels, loader.Height, loader.Width);

            Evaluation result = null!;
            if (Console.IsOutputRedirected) result = Evaluator.Evaluate(loaded.Model, loader);
            else
                AnsiConsole.Progress().Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn())
                    .Start(ctx =>
                    {
                        var task = ctx.AddTask($"evaluating on {images.Count} images", maxValue: loader.BatchesPerEpoch);
                        result = Evaluator.Evaluate(loaded.Model, loader, (done, _) => task.Value = done);
                    });

            Console.WriteLine($"model     {path}: {loaded.Spec}");
            Console.WriteLine($"data      {name} ({which}, {result.Images} images, input {loader.Channels}×{loader.Height}×{loader.Width})");
            Console.WriteLine($"accuracy  {result.Accuracy:P2} ({result.Correct}/{result.Images})");
            Console.WriteLine($"loss      {result.Loss:F4}");
            if (!double.IsFinite(result.Loss))
                Console.Error.WriteLine($"warning: the loss is {result.Loss}: the model's outputs are not finite on some images, so its accuracy means little");
            Console.WriteLine($"params    {stats.Parameters:N0}");
            Console.WriteLine($"macs      {stats.Macs:N0} per image");
            if (parse.GetValue(json) is { } file)
            {
                var keys = new JsonObject
                {
                    ["accuracy"] = result.Accuracy,
                    ["loss"] = result.Loss,
                    ["params"] = stats.Parameters,
                    ["macs"] = stats.Macs,
                    ["images"] = result.Images,
                };
                AtomicFile.WriteAllText(file.FullName, keys.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n");
            }
            return 0;
        });
        return command;
    }
}
