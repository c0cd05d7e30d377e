// Work splitting for the CPU backend. Every parallel loop in the backend goes through here so the thread
// count is set in one place (STANDALONE_THREADS or the processor count).
namespace Standalone.Backends.Cpu;

internal static class CpuParallel
{
    public static int ThreadCount { get; } =
        int.TryParse(Environment.GetEnvironmentVariable("STANDALONE_THREADS"), out int n) && n > 0 ? n : Environment.ProcessorCount;

    // Declared after ThreadCount: static initialisers run in textual order.
    private static readonly ParallelOptions Options = new() { MaxDegreeOfParallelism = ThreadCount };

    /// <summary>Runs body(i) for i in [0, count); in parallel when there is more than one item and thread.</summary>
    public static void For(int count, Action<int> body)
    {
        if (count <= 0) return;
        if (count == 1 || ThreadCount == 1)
        {
            for (int i = 0; i < count; i++) body(i);
            return;
        }
        Parallel.For(0, count, Options, body);
    }

    /// <summary>Splits [0, length) into at most ThreadCount chunks of at least minChunk and runs body(start, end).</summary>
    public static void ForRange(long length, long minChunk, Action<long, long> body)
    {
        int chunks = (int)Math.Clamp(length / Math.Max(1, minChunk), 1, ThreadCount);
        if (chunks == 1) { body(0, length); return; }
        long per = (length + chunks - 1) / chunks;
        Parallel.For(0, chunks, Options, i => body(i * per, Math.Min(length, (i + 1) * per)));
    }
}
