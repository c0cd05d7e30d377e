// Command-line errors in Standalone's words: System.CommandLine reports an unknown command as "Required command was
// not provided" and a bad number as a failure to parse System.Nullable`1[System.Double]; these name what was typed,
// what was expected, and the closest command or option when there is one.
using System.CommandLine;
using System.CommandLine.Parsing;
using System.Text.RegularExpressions;

namespace Standalone.Cli;

internal static partial class UsageErrors
{
    public static string Describe(ParseResult parse, RootCommand root)
    {
        var command = parse.CommandResult.Command;
        string where = command == root ? "standalone" : $"standalone {command.Name}";
        // An unknown word explains the rest ("Required command was not provided" follows a misspelt command).
        var error = parse.Errors.FirstOrDefault(e => UnrecognizedPattern().IsMatch(e.Message)) ?? parse.Errors[0];
        string message = error.Message;
        if (UnrecognizedPattern().Match(message) is { Success: true } m)
        {
            string token = m.Groups[1].Value;
            if (command == root)
                return $"unknown command '{token}' (expected one of {string.Join(", ", root.Subcommands.Select(c => c.Name))}){Suggest(token, root.Subcommands.Select(c => c.Name))}";
            if (command.Name == "train" && token == "--model")
                return "train takes the architecture as --arch NAME (--model names a model file, in the commands that read one)";
            var names = command.Options.Concat(root.Options.Where(o => o.Recursive)).Select(o => o.Name);
            return token.StartsWith('-')
                ? $"unknown option '{token}' for {where}{Suggest(token, names)}; see {where} --help"
                : $"unexpected argument '{token}' for {where}; see {where} --help";
        }
        if (message.StartsWith("Required command was not provided", StringComparison.Ordinal))
            return $"no command given: expected one of {string.Join(", ", root.Subcommands.Select(c => c.Name))}; see standalone --help";
        if (CannotParsePattern().Match(message) is { Success: true } p)
            return $"{p.Groups[2].Value} expects {Expected(p.Groups[3].Value)}, got '{p.Groups[1].Value}'";
        if (MissingValuePattern().Match(message) is { Success: true } v)
            return $"{v.Groups[1].Value} needs a value; see {where} --help";
        return $"{message.TrimEnd('.')} (see {where} --help)";
    }

    private static string Expected(string type) => type switch
    {
        _ when type.Contains("Int32") || type.Contains("Int64") => "a whole number",
        _ when type.Contains("UInt64") => "a non-negative whole number",
        _ when type.Contains("Double") => "a finite number",
        _ when type.Contains("Boolean") => "true or false",
        _ => "a value of another form",
    };

    /// <summary>" (did you mean X?)" for the name closest to what was typed, when one is within two edits.</summary>
    private static string Suggest(string typed, IEnumerable<string> names)
    {
        var best = names.Select(n => (Name: n, Distance: Distance(typed, n))).Where(c => c.Distance <= 2).OrderBy(c => c.Distance).FirstOrDefault();
        return best.Name == null ? "" : $" (did you mean {best.Name}?)";
    }

    private static int Distance(string a, string b)
    {
        var row = new int[b.Length + 1];
        for (int j = 0; j <= b.Length; j++) row[j] = j;
        for (int i = 1; i <= a.Length; i++)
        {
            int diagonal = row[0];
            row[0] = i;
            for (int j = 1; j <= b.Length; j++)
            {
                int above = row[j];
                row[j] = Math.Min(Math.Min(row[j] + 1, row[j - 1] + 1), diagonal + (a[i - 1] == b[j - 1] ? 0 : 1));
                diagonal = above;
            }
        }
        return row[b.Length];
    }

    [GeneratedRegex("^Unrecognized command or argument '(.*)'")]
    private static partial Regex UnrecognizedPattern();

    [GeneratedRegex("^Cannot parse argument '(.*)' for option '(.*)' as expected type '(.*)'")]
    private static partial Regex CannotParsePattern();

    [GeneratedRegex("^Required argument missing for option: '(.*)'")]
    private static partial Regex MissingValuePattern();
}
