// Options shared by several commands, defined once so that their names, defaults and help read the same everywhere.
using System.CommandLine;
using System.CommandLine.Parsing;
using Standalone.Models.Data;
using Standalone.Models.Training;

namespace Standalone.Cli.Commands;

internal static class CommonOptions
{
    public static Option<string> Dataset() => new("--dataset")
    {
        HelpName = "NAME",
        Description = $"Data set: {string.Join(", ", DataCatalog.Names)}.",
        DefaultValueFactory = _ => "fashion-mnist",
    };

    public static Option<string?> DataDirectory() => new("--data")
    {
        HelpName = "DIR",
        Description = "Directory holding the data set's files (default: the shipped data/<name>, then /usr/share/datasets/<name>).",
    };

    public static Option<string> ModelFile() => new("--model")
    {
        HelpName = "FILE",
        Description = "Model file: .safetensors written by Standalone, or a PyTorch state dict (.safetensors, or .pth/.pt saved by torch.save) with --arch.",
        DefaultValueFactory = _ => EvalCommand.DefaultModel,
    };

    public static Option<bool> AllowNonFinite() => new("--allow-non-finite")
    {
        Description = "Load a model file whose weights hold NaN or infinities, or whose batch-norm variances are negative (refused otherwise).",
    };

    public static Option<int[]> InputShape(string description) => new("--input")
    {
        HelpName = "C,H,W",
        Description = description,
        AllowMultipleArgumentsPerToken = true,
        CustomParser = ParseIntList,
    };

    /// <summary>
    /// The C,H,W given with --input, else the one the model file was trained on, else <paramref name="fallback"/>
    /// (or an error when there is none); it must have the model's input channels.
    /// </summary>
    public static int[] ResolveInputShape(int[]? given, LoadedModel loaded, int[]? fallback = null)
    {
        int[] input = given is { Length: > 0 } ? given
            : loaded.Data?.Input ?? fallback ?? throw new ArgumentException($"{loaded.Path} does not record the input size it was trained on: pass --input C,H,W");
        if (input.Length != 3 || input.Any(v => v <= 0)) throw new ArgumentException($"--input must be three positive numbers C,H,W, got {string.Join(",", input)}");
        if (input[0] != loaded.Spec.InChannels) throw new ArgumentException($"--input has {input[0]} channels but the model takes {loaded.Spec.InChannels}");
        return input;
    }

    public static Option<string?> Architecture() => new("--arch")
    {
        HelpName = "NAME",
        Description = "Architecture of a model file that does not record it (one exported from PyTorch); channels, classes, shortcut and head are read off its tensors.",
    };

    /// <summary>
    /// A model path as given, or — for a relative path that does not exist here, such as the default
    /// data/models/... — the same path above the working directory or above the program (the shipped files).
    /// </summary>
    public static string ResolveModelPath(string path)
    {
        if (File.Exists(path) || Path.IsPathRooted(path)) return path;
        foreach (string start in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
            for (var d = new DirectoryInfo(start); d != null; d = d.Parent)
                if (File.Exists(Path.Combine(d.FullName, path))) return Path.Combine(d.FullName, path);
        throw new FileNotFoundException($"model file {path} does not exist");
    }

    /// <summary>Normalisation for a model file that does not record it: the statistics of the data set's training split.</summary>
    public static DataInfo InfoFromTrainingSplit(string dataset, string? directory)
    {
        var train = DataCatalog.Load(dataset, directory, train: true);
        var (mean, std) = train.ChannelStatistics();
        Console.Error.WriteLine($"note: the model file records no normalisation; using {dataset}'s training statistics (mean {string.Join(", ", mean.Select(m => m.ToString("F4")))})");
        return new DataInfo { Dataset = dataset, Mean = mean, Std = std, Input = [train.Channels, train.Height, train.Width], Classes = train.Classes.ToArray() };
    }

    /// <summary>Warns about each option typed on the command line that a resumed run ignores (it keeps the options it started with).</summary>
    public static void WarnIgnoredWithResume(ParseResult parse, Command command, params Option[] honoured)
    {
        foreach (var option in command.Options)
            if (!honoured.Contains(option) && parse.GetResult(option) is { Implicit: false })
                Console.Error.WriteLine($"warning: {option.Name} is ignored: a resumed run keeps the options it was started with");
    }

    /// <summary>Parses "1,2,3" or "1 2 3" into integers, naming the token that is not one.</summary>
    public static int[] ParseIntList(ArgumentResult result)
    {
        var values = new List<int>();
        foreach (var token in result.Tokens)
            foreach (string part in token.Value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                if (int.TryParse(part, out int v)) values.Add(v);
                else result.AddError($"{OptionValues.NameOf(result)} expects whole numbers, got '{part}'");
            }
        return values.ToArray();
    }
}
