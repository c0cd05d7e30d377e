// The `standalone` command. Thin by design: parse, call the libraries, render.
using System.CommandLine;
using Standalone.Cli.Commands;

namespace Standalone.Cli;

public static class Program
{
    public static int Main(string[] args)
    {
        var root = new RootCommand("Standalone — train, explain and prune convolutional networks in one .NET process.");
        root.Subcommands.Add(BenchCommand.Create());
        try
        {
            return root.Parse(args).Invoke();
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException or IOException or NotSupportedException)
        {
            Console.Error.WriteLine($"error: {e.Message}");
            return 1;
        }
    }
}
