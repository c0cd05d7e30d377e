// How a failure reads: one line naming what was wrong, and which exit code it gets. Expected failures are the
// exception types the libraries throw for bad input and unmet conditions, each with a message that names the file,
// option or field (ArgumentException for options and arguments, IOException/InvalidDataException for files and data,
// NotSupportedException for a format feature, InvalidOperationException for a run that cannot go on, out of memory);
// anything else is a defect (ExitCodes.Internal).
using System.Reflection;

namespace Standalone.Cli;

internal static class Failures
{
    /// <summary>The exception that says what happened, under the wrappers that tasks, reflection and type initialisers add.</summary>
    public static Exception Unwrap(Exception e)
    {
        while (true)
        {
            switch (e)
            {
                case AggregateException { InnerExceptions.Count: 1 } a: e = a.InnerExceptions[0]; continue;
                case TargetInvocationException { InnerException: { } inner }: e = inner; continue;
                case TypeInitializationException { InnerException: { } inner }: e = inner; continue;
                default: return e;
            }
        }
    }

    public static bool IsInterruption(Exception e) => e is OperationCanceledException;

    public static bool IsExpected(Exception e) =>
        e is ArgumentException or IOException or InvalidDataException or NotSupportedException or UnauthorizedAccessException
            or InvalidOperationException or OutOfMemoryException or TimeoutException;

    /// <summary>The message as one line (a file's text quoted in a message may hold newlines).</summary>
    public static string OneSentence(Exception e)
    {
        string message = e switch
        {
            // .NET's own wording names neither the input nor the remedy.
            OutOfMemoryException when e.Message.StartsWith("Array dimensions exceeded", StringComparison.Ordinal)
                => "out of memory: an input asked for an array larger than .NET allows (more than 2³¹ elements)",
            OutOfMemoryException when !e.Message.StartsWith("out of memory", StringComparison.OrdinalIgnoreCase)
                => $"out of memory ({e.Message.TrimEnd('.')}); try a smaller --batch-size or smaller images",
            OperationCanceledException => "the run was cancelled",
            _ => e.Message,
        };
        return string.Join(' ', message.Split(['\r', '\n'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
    }
}
