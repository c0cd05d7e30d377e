// `standalone info FILE`: what a model file holds — architecture, training data, per-layer shapes, parameters and
// MACs — without running any data through it beyond one image for the shapes.
using System.CommandLine;
using System.Text.Json;
using Spectre.Console;
using Standalone.Models.Stats;
using Standalone.Models.Training;

namespace Standalone.Cli.Commands;

internal static class InfoCommand
{
    public static Command Create()
    {
        var file = new Argument<string>("FILE") { Description = "Model file (.safetensors)." };
        var arch = CommonOptions.Architecture();
        var allowNonFinite = CommonOptions.AllowNonFinite();
        var size = CommonOptions.InputShape("Input shape for the counts (default: the one the model was trained on).");
        var command = new Command("info", "Show a model file's architecture, per-layer shapes, parameters and MACs.") { file, arch, allowNonFinite, size };
        command.SetAction(parse =>
        {
            string path = CommonOptions.ResolveModelPath(parse.GetValue(file)!);
            var loaded = Checkpoint.LoadModel(path, parse.GetValue(arch), parse.GetValue(allowNonFinite));
            int[] input = CommonOptions.ResolveInputShape(parse.GetValue(size), loaded, fallback: [loaded.Spec.InChannels, 32, 32]);
            var stats = ModelStats.Measure(loaded.Model, input[0], input[1], input[2]);

            AnsiConsole.MarkupLine($"[bold]{Markup.Escape(path)}[/]");
            AnsiConsole.MarkupLine($"architecture  {Markup.Escape(loaded.Spec.ToString())}");
            if (loaded.Data is { } data)
                AnsiConsole.MarkupLine($"trained on    {Markup.Escape(data.Dataset)}, input {string.Join("×", data.Input)}, classes {Markup.Escape(string.Join(", ", data.Classes))}");
            if (loaded.Metadata.TryGetValue("standalone.metrics", out string? metrics))
            {
                using var doc = JsonDocument.Parse(metrics);
                var m = doc.RootElement;
                string test = m.TryGetProperty("test_accuracy", out var acc) && acc.ValueKind == JsonValueKind.Number ? $", test accuracy {acc.GetDouble():P2}" : "";
                AnsiConsole.MarkupLine($"trained for   {m.GetProperty("epoch").GetInt32()} epochs ({m.GetProperty("step").GetInt64():N0} steps){test}");
            }
            // Shapes without the batch axis of the one-image pass: C×H×W, or features for a linear layer.
            static string Dims(Shape shape) => string.Join("×", shape.ToArray()[1..]);
            var table = new Table().AddColumn("layer").AddColumn("kind").AddColumn("input").AddColumn("output")
                .AddColumn(new TableColumn("params").RightAligned()).AddColumn(new TableColumn("MACs").RightAligned());
            foreach (var layer in stats.Layers)
                table.AddRow(Markup.Escape(layer.Name), Markup.Escape(layer.Kind), Dims(layer.InputShape), Dims(layer.OutputShape),
                    layer.Parameters.ToString("N0"), layer.Macs.ToString("N0"));
            table.AddRow("[bold]total[/]", "", $"{string.Join("×", input)}", "", $"[bold]{stats.Parameters:N0}[/]", $"[bold]{stats.Macs:N0}[/]");
            AnsiConsole.Write(table);
            return 0;
        });
        return command;
    }
}
