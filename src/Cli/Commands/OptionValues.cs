// Numbers on the command line: every numeric option of every command parses through here, so a value that is not a
// finite number of the option's kind (nan, inf, 1e400, 1e9 for a count, 99999999999) is one sentence naming the
// option — checked ranges (positive, a fraction) stay with the options' own validation.
using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;

namespace Standalone.Cli.Commands;

internal static class OptionValues
{
    /// <summary>Gives every numeric option below root without a parser of its own the strict parser for its type.</summary>
    public static void ApplyParsers(Command root)
    {
        foreach (var option in root.Options.Concat(root.Subcommands.SelectMany(c => c.Options)))
            switch (option)
            {
                case Option<double> { CustomParser: null } o: o.CustomParser = r => Finite(r); break;
                case Option<double?> { CustomParser: null } o: o.CustomParser = r => Finite(r); break;
                case Option<int> { CustomParser: null } o: o.CustomParser = r => Whole(r); break;
                case Option<int?> { CustomParser: null } o: o.CustomParser = r => Whole(r); break;
                case Option<ulong> { CustomParser: null } o: o.CustomParser = r => Unsigned(r); break;
            }
        foreach (var command in root.Subcommands) ApplyParsers(command);
    }

    /// <summary>The option's name, for messages about its value.</summary>
    public static string NameOf(ArgumentResult result) => (result.Parent as OptionResult)?.Option.Name ?? result.Argument.Name;

    private static string Single(ArgumentResult result) => result.Tokens.Count == 1 ? result.Tokens[0].Value : string.Join(" ", result.Tokens.Select(t => t.Value));

    private static double Finite(ArgumentResult result)
    {
        string text = Single(result);
        if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double v) && double.IsFinite(v)) return v;
        result.AddError($"{NameOf(result)} expects a finite number, got '{text}'");
        return 0;
    }

    private static int Whole(ArgumentResult result)
    {
        string text = Single(result);
        if (int.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out int v)) return v;
        result.AddError($"{NameOf(result)} expects a whole number{(long.TryParse(text, out _) ? $" from {int.MinValue} to {int.MaxValue}" : "")}, got '{text}'");
        return 0;
    }

    private static ulong Unsigned(ArgumentResult result)
    {
        string text = Single(result);
        if (ulong.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out ulong v)) return v;
        result.AddError($"{NameOf(result)} expects a non-negative whole number below 2⁶⁴, got '{text}'");
        return 0;
    }
}
