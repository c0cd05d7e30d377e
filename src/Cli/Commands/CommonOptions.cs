// Options shared by several commands, defined once so that their names, defaults and help read the same everywhere.
using System.CommandLine;
using System.CommandLine.Parsing;
using Standalone.Models.Data;

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

    /// <summary>Parses "1,2,3" or "1 2 3" into integers, naming the token that is not one.</summary>
    public static int[] ParseIntList(ArgumentResult result)
    {
        var values = new List<int>();
        foreach (var token in result.Tokens)
            foreach (string part in token.Value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                if (int.TryParse(part, out int v)) values.Add(v);
                else result.AddError($"'{part}' is not an integer");
            }
        return values.ToArray();
    }
}
