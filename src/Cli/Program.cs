// The `standalone` command. Thin by design: parse, call the libraries, render.
using System.CommandLine;
using Standalone.Cli.Commands;

namespace Standalone.Cli;

public static class Program
{
    /// <summary>The command tree (tests walk it to check that every option is documented).</summary>
    internal static RootCommand BuildRoot() => new("Standalone — train, explain and prune convolutional networks in one .NET process.")
    {
        TrainCommand.Create(),
        EvalCommand.Create(),
        ExplainCommand.Create(),
        InfoCommand.Create(),
        ExportCommand.Create(),
        BenchCommand.Create(),
        DevicesCommand.Create(),
        PruneCommand.Create(),
        SweepCommand.Create(),
    };

    public static int Main(string[] args)
    {
        var root = BuildRoot();
        try
        {
            // Our handler below turns expected failures into one sentence; System.CommandLine's would print a stack trace.
            return root.Parse(args).Invoke(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException or IOException or InvalidDataException or FormatException
            or NotSupportedException or UnauthorizedAccessException or OutOfMemoryException)
        {
            Console.Error.WriteLine($"error: {e.Message}");
            return 1;
        }
    }
}
