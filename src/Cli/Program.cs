// The `standalone` command. Thin by design: parse, call the libraries, render.
using System.CommandLine;
using Spectre.Console;
using Standalone.Cli.Commands;

namespace Standalone.Cli;

public static class Program
{
    /// <summary>The compute device, an option of every command (STANDALONE_DEVICE when not given).</summary>
    internal static readonly Option<string?> Device = new("--device")
    {
        HelpName = "DEVICE",
        Description = "Compute device: cpu, cuda[:N] (NVIDIA, through ILGPU), opencl[:N] (OpenCL 2.0 or 3.0 with the generic address space; opencl alone picks the first usable GPU), sim (the GPU kernels on ILGPU's CPU accelerator, for checking kernels). Default: $STANDALONE_DEVICE, else cpu. `standalone devices` lists them.",
        Recursive = true,
    };

    /// <summary>The command tree (tests walk it to check that every option is documented).</summary>
    internal static RootCommand BuildRoot() => new("Standalone — train, explain and prune convolutional networks in one .NET process.")
    {
        Device,
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
        // Spectre's console binds to Console.Out when first used; bind it to the current one (in-process callers such as
        // the tests redirect Console.Out between runs).
        AnsiConsole.Console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Out) });
        try
        {
            var parse = root.Parse(args);
            // New tensors (models, data) are created on the chosen device; `devices` only lists, so it needs none.
            if (parse.Errors.Count == 0 && parse.CommandResult.Command.Name != "devices") Devices.Select(parse.GetValue(Device));
            // Our handler below turns expected failures into one sentence; System.CommandLine's would print a stack trace.
            return parse.Invoke(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException or IOException or InvalidDataException or FormatException
            or NotSupportedException or UnauthorizedAccessException or OutOfMemoryException)
        {
            Console.Error.WriteLine($"error: {e.Message}");
            return 1;
        }
    }
}
