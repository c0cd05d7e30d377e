// `standalone explain`: integrated gradients of one image — a test-set image by index or a PNG file — against the
// black image, rendered as a heat map over the image (red raised the target's logit, blue lowered it). Prints the
// prediction, the explained class, the completeness check (Σ attributions vs f(x) − f(x')) and where the PNG went.
using System.CommandLine;
using Standalone.Models.Data;
using Standalone.Models.Training;
using Standalone.Pruning.Attribution;

namespace Standalone.Cli.Commands;

internal static class ExplainCommand
{
    public static Command Create()
    {
        var model = new Option<string>("--model") { HelpName = "FILE", Description = "Model file: .safetensors written by Standalone, or a PyTorch state dict (.safetensors, or .pth/.pt saved by torch.save) with --arch.", DefaultValueFactory = _ => EvalCommand.DefaultModel };
        var arch = CommonOptions.Architecture();
        var allowNonFinite = CommonOptions.AllowNonFinite();
        var dataset = new Option<string?>("--dataset") { HelpName = "NAME", Description = "Data set whose test split --index picks from, and whose statistics normalise inputs for a model file that records none (default: the model's)." };
        var data = CommonOptions.DataDirectory();
        var index = new Option<int?>("--index") { HelpName = "N", Description = "Index of the image in the test split (default 0)." };
        var image = new Option<string?>("--image") { HelpName = "FILE.png", Description = "Explain this PNG instead (gray or colour, the model's input size; alpha is dropped)." };
        var target = new Option<string?>("--target") { HelpName = "CLASS", Description = "Class to explain, by index or name (default: the predicted class)." };
        var steps = new Option<int>("--steps") { HelpName = "S", Description = "Riemann steps along the path from the black image to the input.", DefaultValueFactory = _ => IntegratedGradients.DefaultSteps };
        var sideBySide = new Option<bool>("--side-by-side") { Description = "Put the plain image to the left of the overlay." };
        var output = new Option<string?>("--out") { HelpName = "FILE.png", Description = "Where to write the heat map (default: explain-<index or file name>.png here)." };
        var command = new Command("explain", "Explain a prediction: integrated gradients of one image, written as a heat-map PNG.")
        {
            model, arch, allowNonFinite, dataset, data, index, image, target, steps, sideBySide, output,
        };
        command.SetAction(parse =>
        {
            if (parse.GetValue(steps) < 1) throw new ArgumentException($"--steps must be at least 1, got {parse.GetValue(steps)}");
            string? png = parse.GetValue(image);
            if (png != null && parse.GetValue(index) != null) throw new ArgumentException("give either --image or --index, not both");
            string path = CommonOptions.ResolveModelPath(parse.GetValue(model)!);
            var loaded = Checkpoint.LoadModel(path, parse.GetValue(arch), parse.GetValue(allowNonFinite));
            string? name = parse.GetValue(dataset) ?? loaded.Data?.Dataset;
            var info = loaded.Data ?? CommonOptions.InfoFromTrainingSplit(
                name ?? throw new ArgumentException($"{path} does not say which data set it was trained on: pass --dataset"), parse.GetValue(data));

            var (images, position, label, stem) = png != null
                ? (FromPng(png, info), 0, "", Path.GetFileNameWithoutExtension(png))
                : FromTestSplit(name!, parse.GetValue(data), parse.GetValue(index) ?? 0, info);
            var loader = new DataLoader(images, info.EvalLoader(batchSize: 1));
            if (loader.Channels != info.Input[0] || loader.Height != info.Input[1] || loader.Width != info.Input[2])
                throw new ArgumentException($"{images.Name} gives {loader.Channels}×{loader.Height}×{loader.Width} inputs but {path} takes {string.Join("×", info.Input)}");
            using var input = Tensor.FromArray<float>(loader.Prepare(position), new Shape(loader.Channels, loader.Height, loader.Width));
            using var baseline = IntegratedGradients.BlackBaseline(info.Mean, info.Std, loader.Height, loader.Width);

            var result = IntegratedGradients.Compute(loaded.Model, input, baseline, ParseTarget(parse.GetValue(target), info.Classes), parse.GetValue(steps));
            var heatmap = Heatmap.Render(result, input, info.Mean, info.Std, new HeatmapOptions { SideBySide = parse.GetValue(sideBySide) });
            string file = parse.GetValue(output) ?? $"explain-{stem}.png";
            Png.Write(file, heatmap);

            string Class(int c) => $"{info.Classes[c]} (class {c})";
            Console.WriteLine($"model         {path}: {loaded.Spec}");
            Console.WriteLine($"image         {images.Name}{(png == null ? $" #{position}" : "")}{label}, input {string.Join("×", info.Input)}");
            Console.WriteLine($"predicted     {Class(result.Predicted)}, probability {result.Probability(result.Predicted):P2}");
            Console.WriteLine($"target        {Class(result.Target)}, logit {result.Logits[result.Target]:F4} (black image: {result.BaselineLogits[result.Target]:F4})");
            Console.WriteLine($"completeness  Σ attributions {result.Sum:F4} vs f(x) − f(x') {result.OutputDifference:F4}: gap {result.CompletenessGap:+0.0000;-0.0000} ({result.Steps} steps)");
            Console.WriteLine($"wrote         {file} ({heatmap.Width}×{heatmap.Height})");
            return 0;
        });
        return command;
    }

    /// <summary>The test split with the image to explain, its position, a " (label ...)" note and the output name's stem.</summary>
    private static (ImageDataset Images, int Index, string Label, string Stem) FromTestSplit(string name, string? directory, int index, DataInfo info)
    {
        var test = DataCatalog.Load(name, directory, train: false);
        if ((uint)index >= (uint)test.Count) throw new ArgumentException($"--index {index} is outside the {test.Count} images of {name}'s test split (0–{test.Count - 1})");
        if (test.Classes.Count != info.Classes.Length)
            throw new ArgumentException($"{name} has {test.Classes.Count} classes but the model was trained on {info.Classes.Length}");
        return (test, index, $" (label {test.Classes[test.Labels[index]]})", index.ToString());
    }

    /// <summary>A one-image data set of a PNG file converted to the model's channels; it must already have the model's size.</summary>
    private static ImageDataset FromPng(string file, DataInfo info)
    {
        var png = Png.Read(file);
        int channels = info.Input[0], height = info.Input[1], width = info.Input[2];
        // A data set padded to PadTo trained on smaller images; such an image is padded here the same way.
        if (Math.Max(png.Width, info.PadTo) != width || Math.Max(png.Height, info.PadTo) != height)
            throw new ArgumentException($"{file} is {png.Width}×{png.Height} pixels but the model takes {width}×{height} images (width×height); " +
                "resize it first (explain does not resample)");
        if (channels is not (1 or 3)) throw new ArgumentException($"the model takes {channels}-channel images; PNG files give 1 (gray) or 3 (RGB)");
        var pixels = new byte[channels * png.Width * png.Height];
        ImageFolder.ToPlanar(png, channels, pixels);
        // One image whose label is unknown: label 0 only fills the data set's required field and is never shown.
        return new ImageDataset(file, pixels, [0], channels, png.Height, png.Width, info.Classes);
    }

    /// <summary>null (the predicted class), a class index, or a class name (ignoring case).</summary>
    private static int? ParseTarget(string? target, IReadOnlyList<string> classes)
    {
        if (target == null) return null;
        if (int.TryParse(target, out int index))
            return (uint)index < (uint)classes.Count ? index : throw new ArgumentException($"--target {index} is outside the model's {classes.Count} classes (0–{classes.Count - 1})");
        for (int c = 0; c < classes.Count; c++)
            if (string.Equals(classes[c], target, StringComparison.OrdinalIgnoreCase)) return c;
        throw new ArgumentException($"--target must be a class index or one of the class names ({string.Join(", ", classes)}), got '{target}'");
    }
}
