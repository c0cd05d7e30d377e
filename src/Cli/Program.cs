// The `standalone` command. Thin by design: parse, call the libraries, render. Every failure ends here as one
// sentence on standard error and a documented exit code (ExitCodes); no exception leaves Main.
using System.CommandLine;
using Spectre.Console;
using Standalone.Cli.Commands;

namespace Standalone.Cli;

/// <summary>The exit codes of every command (the README's "Exit codes" lists them).</summary>
public static class ExitCodes
{
    /// <summary>The command did what was asked.</summary>
    public const int Success = 0;
    /// <summary>An input was wrong (a file, a data set, an option's value) or the work could not be done (out of memory, no device).</summary>
    public const int Failure = 1;
    /// <summary>The command line does not parse: an unknown command or option, a missing or malformed value.</summary>
    public const int Usage = 2;
    /// <summary>A defect in Standalone itself: the message says what failed; --verbose adds the stack trace.</summary>
    public const int Internal = 70;
    /// <summary>Interrupted (Ctrl+C); a checkpoint was saved and the run can be resumed.</summary>
    public const int Interrupted = 130;
}

public static class Program
{
    /// <summary>The compute device, an option of every command (STANDALONE_DEVICE when not given).</summary>
    internal static readonly Option<string?> Device = new("--device")
    {
        HelpName = "DEVICE",
        Description = "Compute device: cpu, cuda[:N] (NVIDIA, through ILGPU), opencl[:N] (OpenCL 2.0 or 3.0 with the generic address space; opencl alone picks the first usable GPU), sim (the GPU kernels on ILGPU's CPU accelerator, for checking kernels). Default: $STANDALONE_DEVICE, else cpu. `standalone devices` lists them.",
        Recursive = true,
    };

    /// <summary>Print the stack trace of a failure after its one-sentence message.</summary>
    internal static readonly Option<bool> Verbose = new("--verbose")
    {
        Description = "On failure, also print the exception's stack trace (for reporting a defect).",
        Recursive = true,
    };

    /// <summary>The command tree (tests walk it to check that every option is documented).</summary>
    internal static RootCommand BuildRoot()
    {
        var root = new RootCommand("Standalone — train, explain and prune convolutional networks in one .NET process.")
        {
            Device,
            Verbose,
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
        OptionValues.ApplyParsers(root);
        return root;
    }

    public static int Main(string[] args)
    {
        bool verbose = args.Contains(Verbose.Name);
        try
        {
            var root = BuildRoot();
            // Spectre's console binds to Console.Out when first used; bind it to the current one (in-process callers such as
            // the tests redirect Console.Out between runs).
            AnsiConsole.Console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Out) });
            var parse = root.Parse(args);
            if (parse.Errors.Count > 0)
            {
                Console.Error.WriteLine($"error: {UsageErrors.Describe(parse, root)}");
                return ExitCodes.Usage;
            }
            // New tensors (models, data) are created on the chosen device; `devices` only lists, so it needs none.
            if (parse.CommandResult.Command.Name != "devices" && parse.CommandResult.Command != root) Devices.Select(parse.GetValue(Device));
            // Our handler below turns failures into one sentence; System.CommandLine's would print a stack trace.
            return parse.Invoke(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
        }
        catch (Exception e)
        {
            return Fail(e, verbose);
        }
    }

    /// <summary>Prints a failure as one line (and the stack trace with --verbose) and returns its exit code.</summary>
    internal static int Fail(Exception e, bool verbose)
    {
        e = Failures.Unwrap(e);
        int code = Failures.IsInterruption(e) ? ExitCodes.Interrupted : Failures.IsExpected(e) ? ExitCodes.Failure : ExitCodes.Internal;
        string message = Failures.OneSentence(e);
        Console.Error.WriteLine(code switch
        {
            ExitCodes.Interrupted => $"interrupted: {message}",
            ExitCodes.Internal => $"internal error (a defect in Standalone; rerun with --verbose and report it): {e.GetType().Name}: {message}",
            _ => $"error: {message}",
        });
        if (verbose) Console.Error.WriteLine(e);
        return code;
    }
}
