// Work splitting for the CPU backend. Every parallel loop in the backend goes through here, so the thread count is
// set in one place (STANDALONE_THREADS or the processor count).
//
// Why not Parallel.For: a training step runs a few hundred parallel regions of 10 µs – 5 ms each, and the task
// machinery costs ~40 µs per region plus allocations. Here a fixed set of workers (one per extra core) spins briefly
// for the next region and otherwise sleeps on an event; items are handed out through one shared counter, and the
// calling thread works too. A region started from inside another (or while another thread holds the workers) runs
// serially on its caller, which is always correct.
namespace Standalone.Backends.Cpu;

internal static class CpuParallel
{
    public static int ThreadCount { get; } =
        int.TryParse(Environment.GetEnvironmentVariable("STANDALONE_THREADS"), out int n) && n > 0 ? n : Environment.ProcessorCount;

    private static readonly object RegionLock = new();
    [ThreadStatic] private static bool _insideRegion;

    // The current region, published to the workers before they are woken.
    private static Action<int>? _body;
    private static int _count;
    private static int _next;
    private static int _busyWorkers;
    private static int _helpers;
    private static Exception? _failure;
    private static long _generation;
    private static readonly Worker[] Workers = CreateWorkers();

    /// <summary>Runs body(i) for every i in [0, count), spreading the items over the workers and the caller.</summary>
    public static void For(int count, Action<int> body)
    {
        if (count <= 0) return;
        if (count == 1 || Workers.Length == 0 || _insideRegion || !Monitor.TryEnter(RegionLock))
        {
            for (int i = 0; i < count; i++) body(i);
            return;
        }
        try
        {
            _body = body;
            _count = count;
            _next = 0;
            _failure = null;
            int helpers = Math.Min(Workers.Length, count - 1);
            _helpers = helpers;
            Volatile.Write(ref _busyWorkers, helpers);
            Interlocked.Increment(ref _generation); // full fence: the region is published before any worker looks
            for (int w = 0; w < helpers; w++) Workers[w].WakeIfSleeping();
            RunItems();
            var spin = new SpinWait();
            while (Volatile.Read(ref _busyWorkers) > 0) spin.SpinOnce(sleep1Threshold: -1);
            _body = null;
            if (_failure != null) throw new AggregateException("a parallel CPU kernel failed", _failure);
        }
        finally
        {
            Monitor.Exit(RegionLock);
        }
    }

    /// <summary>Splits [0, length) into at most ThreadCount chunks of at least minChunk and runs body(start, end).</summary>
    public static void ForRange(long length, long minChunk, Action<long, long> body)
    {
        int chunks = (int)Math.Clamp(length / Math.Max(1, minChunk), 1, ThreadCount);
        if (chunks == 1) { body(0, length); return; }
        long per = (length + chunks - 1) / chunks;
        For(chunks, i => body(i * per, Math.Min(length, (i + 1) * per)));
    }

    private static void RunItems()
    {
        bool outer = _insideRegion;
        _insideRegion = true;
        try
        {
            var body = _body!;
            int count = _count;
            for (int i = Interlocked.Increment(ref _next) - 1; i < count; i = Interlocked.Increment(ref _next) - 1)
                body(i);
        }
        catch (Exception e)
        {
            Interlocked.CompareExchange(ref _failure, e, null);
            Volatile.Write(ref _next, int.MaxValue / 2); // stop handing out items
        }
        finally
        {
            _insideRegion = outer;
        }
    }

    private static Worker[] CreateWorkers()
    {
        var workers = new Worker[Math.Max(0, ThreadCount - 1)];
        for (int i = 0; i < workers.Length; i++) workers[i] = new Worker(i);
        return workers;
    }

    private sealed class Worker
    {
        // How long an idle worker keeps polling for the next region before it sleeps: regions in a training step
        // follow each other within microseconds, and waking a sleeping thread costs tens of microseconds.
        private static readonly long SpinTicks = System.Diagnostics.Stopwatch.Frequency / 2000; // 0.5 ms

        private readonly ManualResetEventSlim _wake = new(false, spinCount: 0);
        private readonly int _index;
        private int _sleeping;

        public Worker(int index)
        {
            _index = index;
            var thread = new Thread(Loop) { IsBackground = true, Name = $"standalone-cpu-{index + 1}" };
            thread.Start();
        }

        public void WakeIfSleeping()
        {
            if (Volatile.Read(ref _sleeping) == 1) _wake.Set();
        }

        private void Loop()
        {
            // Generation 0 is "no region yet". Reading _generation here instead could miss the first region: this
            // thread may only get to run after the caller has already published it.
            long seen = 0;
            while (true)
            {
                long started = System.Diagnostics.Stopwatch.GetTimestamp();
                while (Volatile.Read(ref _generation) == seen)
                {
                    if (System.Diagnostics.Stopwatch.GetTimestamp() - started < SpinTicks)
                    {
                        Thread.SpinWait(20);
                        continue;
                    }
                    // Announce sleep with a full fence, then re-check: the caller bumps the generation (full fence)
                    // before reading _sleeping, so one of the two always sees the other.
                    Interlocked.Exchange(ref _sleeping, 1);
                    if (Volatile.Read(ref _generation) == seen) _wake.Wait();
                    _wake.Reset();
                    Interlocked.Exchange(ref _sleeping, 0);
                    started = System.Diagnostics.Stopwatch.GetTimestamp();
                }
                seen = Volatile.Read(ref _generation);
                if (_index >= Volatile.Read(ref _helpers)) continue; // not needed for this region
                RunItems();
                Interlocked.Decrement(ref _busyWorkers);
            }
        }
    }
}
