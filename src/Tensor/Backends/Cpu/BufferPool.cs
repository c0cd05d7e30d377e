// Recycles arrays by (dtype, exact length) so a training loop that repeats the same shapes stops allocating
// once warm. Bounded: beyond MaxPooledBytes returned arrays are left to the GC.
namespace Standalone.Backends.Cpu;

internal sealed class BufferPool
{
    public long MaxPooledBytes { get; set; } = 4L << 30;
    private readonly Dictionary<(DType, int), Stack<Array>> _free = new();
    private long _pooledBytes;
    private readonly object _lock = new();

    public long Allocations { get; private set; }
    public long Reuses { get; private set; }

    public Array Rent(DType dtype, int length)
    {
        lock (_lock)
        {
            if (_free.TryGetValue((dtype, length), out var stack) && stack.Count > 0)
            {
                Reuses++;
                _pooledBytes -= (long)length * dtype.Size();
                return stack.Pop();
            }
            Allocations++;
        }
        return dtype switch
        {
            DType.Float32 => GC.AllocateUninitializedArray<float>(length, pinned: true),
            DType.Float64 => GC.AllocateUninitializedArray<double>(length, pinned: true),
            DType.Int32 => GC.AllocateUninitializedArray<int>(length, pinned: true),
            DType.Int64 => GC.AllocateUninitializedArray<long>(length, pinned: true),
            _ => throw new ArgumentOutOfRangeException(nameof(dtype)),
        };
    }

    public void Return(DType dtype, Array array)
    {
        long bytes = (long)array.Length * dtype.Size();
        lock (_lock)
        {
            if (_pooledBytes + bytes > MaxPooledBytes) return;
            if (!_free.TryGetValue((dtype, array.Length), out var stack)) _free[(dtype, array.Length)] = stack = new Stack<Array>();
            stack.Push(array);
            _pooledBytes += bytes;
        }
    }
}
