// The hostile-input harness: runs `standalone` in-process on one mutated input at a time and judges the outcome.
// A case passes when the command ends in a clean error (exit 1 or 2 and exactly one "error:" line naming the
// problem in Standalone's words) or in a correct result (exit 0, and the case's own check of the output holds).
// It fails when an exception escapes Main or the exit is 70 (a crash), when the command runs past a timeout (a hang),
// when the managed heap grows past a budget (runaway memory), or when an input that must be refused is accepted
// (silent nonsense). Every failure is collected with its case, so one run lists them all.
using System.Diagnostics;
using Standalone.Backends.Cpu;
using Standalone.Cli;

namespace Standalone.Tests.Hostile;

/// <summary>What a case may end in: it must be refused, it must succeed, or either (a valid mutant is a valid input).</summary>
internal enum Expect { Error, Success, Either }

/// <param name="Check">For an exit 0: returns what is wrong with the result (stdout given), or null.</param>
internal sealed record HostileCase(string Name, string[] Args, Expect Expect, Action? Setup = null, Func<string, string?>? Check = null);

internal sealed class HostileHarness(string family, string scratch)
{
    /// <summary>A case that has not exited after this long is a hang.</summary>
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(90);
    /// <summary>The managed heap may grow by at most this much during a case.</summary>
    public const long HeapBudget = 1L << 30;

    private readonly List<string> _failures = [];

    public int Cases { get; private set; }
    public int Errors { get; private set; }
    public int Successes { get; private set; }
    public IReadOnlyList<string> Failures => _failures;

    public void Run(HostileCase c)
    {
        Cases++;
        string label = $"{family}/{c.Name}: standalone {string.Join(' ', c.Args)}".Replace(scratch, "$SCRATCH", StringComparison.Ordinal);
        try { c.Setup?.Invoke(); }
        catch (Exception e) { _failures.Add($"{label}: the case's set-up failed: {e.Message}"); return; }

        var (stdout, stderr) = (new StringWriter(), new StringWriter());
        var (oldOut, oldError) = (Console.Out, Console.Error);
        int code = int.MinValue;
        Exception? escaped = null;
        long baseline = GC.GetTotalMemory(false), peak = baseline;
        var worker = new Thread(() =>
        {
            try { code = Program.Main(c.Args); }
            catch (Exception e) { escaped = e; }
        }) { IsBackground = true };
        Console.SetOut(stdout);
        Console.SetError(stderr);
        var clock = Stopwatch.StartNew();
        worker.Start();
        bool finished;
        while (!(finished = worker.Join(5)) && clock.Elapsed < Timeout) peak = Math.Max(peak, GC.GetTotalMemory(false));
        peak = Math.Max(peak, GC.GetTotalMemory(false));
        Console.SetOut(oldOut);
        Console.SetError(oldError);
        Tensor.DefaultBackend = CpuBackend.Instance;

        string error = stderr.ToString();
        string Fail(string what) { _failures.Add($"{label}: {what.Replace(scratch, "$SCRATCH", StringComparison.Ordinal)}"); return what; }
        if (!finished) { Fail($"hang: no exit after {Timeout.TotalSeconds:F0} s"); return; }
        if (escaped != null) { Fail($"crash: {escaped.GetType().Name} escaped Main ({escaped.Message})"); return; }
        if (peak - baseline > HeapBudget) Fail($"runaway memory: the heap grew by {(peak - baseline) >> 20} MiB (budget {HeapBudget >> 20} MiB)");
        switch (code)
        {
            case ExitCodes.Success:
                if (c.Expect == Expect.Error) { Fail($"silent nonsense: exit 0 for an input that must be refused; it printed: {Tail(stdout.ToString())}"); return; }
                if (c.Check?.Invoke(stdout.ToString()) is { } problem) { Fail($"wrong result: {problem}"); return; }
                Successes++;
                return;
            case ExitCodes.Failure or ExitCodes.Usage:
                var lines = error.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                    .Where(l => !l.StartsWith("warning: ", StringComparison.Ordinal) && !l.StartsWith("note: ", StringComparison.Ordinal)).ToArray();
                if (lines.Length != 1 || !lines[0].StartsWith("error: ", StringComparison.Ordinal)) { Fail($"exit {code} without exactly one 'error:' line: {error.Trim()}"); return; }
                if (lines[0].Contains("System.", StringComparison.Ordinal) || lines[0].Contains(" at ", StringComparison.Ordinal) && lines[0].Contains(".cs:", StringComparison.Ordinal))
                    { Fail($"the message speaks .NET, not Standalone: {lines[0]}"); return; }
                if (c.Expect == Expect.Success) { Fail($"refused a valid input: {lines[0]}"); return; }
                Errors++;
                return;
            default:
                Fail($"exit {code}: {error.Trim()}");
                return;
        }
    }

    /// <summary>One line for the test log: the family's counts.</summary>
    public string Summary => $"{family}: {Cases} cases, {Errors} clean errors, {Successes} correct results, {Failures.Count} failures";

    private static string Tail(string text) => string.Join(" | ", text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Where(l => l.StartsWith("accuracy") || l.StartsWith("wrote") || l.StartsWith("data")));
}
