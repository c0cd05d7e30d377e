// Device memory for one GPU context, recycled by exact byte size so that a training loop stops allocating once warm.
// It counts the bytes it holds (in use and pooled) against the device's global memory, so that running out gives an
// error naming the request and what is in use — drivers often allocate lazily and fail later, at a kernel launch, with
// a bare out-of-resources status. A derived pool creates and releases the device's memory objects (cl_mem,
// CUdeviceptr), both held as ulong handles.
namespace Standalone.Backends.Gpu;

internal abstract class GpuMemoryPool
{
    private readonly Dictionary<long, Stack<ulong>> _free = new();
    private readonly object _lock = new();
    private long _held, _pooled;

    protected GpuMemoryPool(string device, GpuLimits limits)
    {
        DeviceName = device;
        Limits = limits;
    }

    /// <summary>"opencl:0 (name)", for messages.</summary>
    protected string DeviceName { get; }
    protected GpuLimits Limits { get; }

    public long Allocations { get; private set; }
    public long Reuses { get; private set; }

    /// <summary>Bytes allocated on the device through this pool (in use + pooled).</summary>
    public long HeldBytes { get { lock (_lock) return _held; } }

    /// <summary>Creates a memory object of <paramref name="bytes"/>; returns 0 and the error when the device refuses.</summary>
    protected abstract (ulong Handle, Exception? Error, bool OutOfMemory) Create(long bytes);

    protected abstract void Destroy(ulong handle);

    public ulong Rent(long bytes)
    {
        lock (_lock)
        {
            if (_free.TryGetValue(bytes, out var stack) && stack.Count > 0)
            {
                Reuses++;
                _pooled -= bytes;
                return stack.Pop();
            }
            if (bytes > Limits.MaxAllocation)
                throw new OutOfMemoryException($"{DeviceName}: a buffer of {Format(bytes)} exceeds the device's largest allocation ({Format(Limits.MaxAllocation)})");
            if (_held + bytes > Limits.GlobalMemory) Trim();
            if (_held + bytes > Limits.GlobalMemory) throw OutOfMemory(bytes);
            var (handle, error, outOfMemory) = Create(bytes);
            if (error != null && outOfMemory)
            {
                Trim();
                (handle, error, outOfMemory) = Create(bytes);
            }
            if (error != null) throw outOfMemory ? OutOfMemory(bytes, error) : error;
            Allocations++;
            _held += bytes;
            return handle;
        }
    }

    public void Return(ulong handle, long bytes)
    {
        lock (_lock)
        {
            if (!_free.TryGetValue(bytes, out var stack)) _free[bytes] = stack = new Stack<ulong>();
            stack.Push(handle);
            _pooled += bytes;
        }
    }

    /// <summary>Releases memory for good (a buffer finalized without being released).</summary>
    public void Free(ulong handle, long bytes)
    {
        Destroy(handle);
        lock (_lock) _held -= bytes;
    }

    /// <summary>Gives every pooled buffer back to the device.</summary>
    public void Trim()
    {
        lock (_lock)
        {
            foreach (var stack in _free.Values)
                while (stack.Count > 0) Destroy(stack.Pop());
            _held -= _pooled;
            _pooled = 0;
        }
    }

    private OutOfMemoryException OutOfMemory(long bytes, Exception? inner = null) =>
        new($"{DeviceName}: out of device memory allocating {Format(bytes)}; " +
            $"{Format(_held)} of {Format(Limits.GlobalMemory)} is in use by Standalone, so about {Format(Math.Max(0, Limits.GlobalMemory - _held))} is free. " +
            "Use a smaller batch (--batch-size) or another device.", inner);

    internal static string Format(long bytes) => bytes switch
    {
        >= 1L << 30 => $"{bytes / (double)(1L << 30):F2} GiB",
        >= 1L << 20 => $"{bytes / (double)(1L << 20):F1} MiB",
        _ => $"{bytes / 1024.0:F1} KiB",
    };
}
