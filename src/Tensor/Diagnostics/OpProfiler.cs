// A per-primitive profiler: when enabled, every tensor primitive synchronizes its backend and adds its wall time to
// a per-name total, so `standalone bench --profile` can say where a training step spends its time. Disabled, it
// costs one static bool test per op.
using System.Diagnostics;

namespace Standalone.Diagnostics;

public static class OpProfiler
{
    private static readonly Dictionary<string, (long Ticks, long Calls)> Totals = new();
    private static readonly object Lock = new();

    public static bool Enabled { get; set; }

    public static Measurement Measure(string name, Backends.IBackend backend) => Enabled ? new Measurement(name, backend) : default;

    public static void Reset()
    {
        lock (Lock) Totals.Clear();
    }

    /// <summary>(name, total milliseconds, calls), most expensive first.</summary>
    public static IReadOnlyList<(string Name, double Milliseconds, long Calls)> Snapshot()
    {
        lock (Lock)
            return Totals.Select(t => (t.Key, t.Value.Ticks * 1000.0 / Stopwatch.Frequency, t.Value.Calls))
                .OrderByDescending(t => t.Item2).ToList();
    }

    public readonly struct Measurement : IDisposable
    {
        private readonly string? _name;
        private readonly Backends.IBackend? _backend;
        private readonly long _start;

        internal Measurement(string name, Backends.IBackend backend)
        {
            _name = name;
            _backend = backend;
            backend.Synchronize();
            _start = Stopwatch.GetTimestamp();
        }

        public void Dispose()
        {
            if (_name == null) return;
            _backend!.Synchronize();
            long elapsed = Stopwatch.GetTimestamp() - _start;
            lock (Lock)
            {
                Totals.TryGetValue(_name, out var t);
                Totals[_name] = (t.Ticks + elapsed, t.Calls + 1);
            }
        }
    }
}
