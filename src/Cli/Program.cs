// The `standalone` command. Thin by design: parse, call the libraries, render.
using System.CommandLine;
using Standalone.Cli.Commands;

namespace Standalone.Cli;

public static class Program
{
    public static int Main(string[] args)
    {
        var root = new RootCommand("Standalone — train, explain and prune convolutional networks in one .NET process.");
        root.Subcommands.Add(TrainCommand.Create());
        root.Subcommands.Add(EvalCommand.Create());
        root.Subcommands.Add(InfoCommand.Create());
        root.Subcommands.Add(BenchCommand.Create());
        root.Subcommands.Add(DevicesCommand.Create());
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
