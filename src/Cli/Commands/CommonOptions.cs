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
