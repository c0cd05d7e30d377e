// Device memory for one OpenCL context, recycled by exact byte size so that a training loop stops allocating once
// warm. It counts the bytes it holds (in use and pooled) against the device's global memory, so that running out
// gives an error naming the request and what is in use — OpenCL drivers often allocate lazily and fail later, at a
// kernel launch, with a bare CL_OUT_OF_RESOURCES.
using Standalone.Backends.OpenCl.Native;

namespace Standalone.Backends.OpenCl;

internal sealed unsafe class OpenClMemoryPool
{
    private readonly nint _context;
    private readonly OpenClDeviceInfo _device;
    private readonly Dictionary<long, Stack<nint>> _free = new();
    private readonly object _lock = new();
    private long _held, _pooled;

    public OpenClMemoryPool(nint context, OpenClDeviceInfo device)
    {
        _context = context;
        _device = device;
    }

    public long Allocations { get; private set; }
    public long Reuses { get; private set; }

    /// <summary>Bytes allocated on the device through this pool (in use + pooled).</summary>
    public long HeldBytes { get { lock (_lock) return _held; } }

    public nint Rent(long bytes)
    {
        lock (_lock)
        {
            if (_free.TryGetValue(bytes, out var stack) && stack.Count > 0)
            {
                Reuses++;
                _pooled -= bytes;
                return stack.Pop();
            }
            if ((ulong)bytes > _device.MaxAllocation)
                throw new OutOfMemoryException($"opencl:{_device.Index} ({_device.Name}): a buffer of {Format(bytes)} exceeds the device's largest allocation ({Format((long)_device.MaxAllocation)})");
            if ((ulong)(_held + bytes) > _device.GlobalMemory) Trim();
            if ((ulong)(_held + bytes) > _device.GlobalMemory)
                throw OutOfMemory(bytes);
            int status;
            nint memory = Cl.clCreateBuffer(_context, Cl.MemReadWrite, (nuint)bytes, null, &status);
            if (status != 0 && new ClException("clCreateBuffer", status).IsOutOfMemory)
            {
                Trim();
                memory = Cl.clCreateBuffer(_context, Cl.MemReadWrite, (nuint)bytes, null, &status);
            }
            if (status != 0)
            {
                var error = new ClException("clCreateBuffer", status);
                if (error.IsOutOfMemory) throw OutOfMemory(bytes, error);
                throw error;
            }
            Allocations++;
            _held += bytes;
            return memory;
        }
    }

    public void Return(nint memory, long bytes)
    {
        lock (_lock)
        {
            if (!_free.TryGetValue(bytes, out var stack)) _free[bytes] = stack = new Stack<nint>();
            stack.Push(memory);
            _pooled += bytes;
        }
    }

    /// <summary>Releases memory for good (a buffer finalized without being released).</summary>
    public void Free(nint memory, long bytes)
    {
        Cl.clReleaseMemObject(memory);
        lock (_lock) _held -= bytes;
    }

    /// <summary>Gives every pooled buffer back to the device.</summary>
    public void Trim()
    {
        lock (_lock)
        {
            foreach (var stack in _free.Values)
                while (stack.Count > 0) Cl.clReleaseMemObject(stack.Pop());
            _held -= _pooled;
            _pooled = 0;
        }
    }

    private OutOfMemoryException OutOfMemory(long bytes, Exception? inner = null) =>
        new($"opencl:{_device.Index} ({_device.Name}): out of device memory allocating {Format(bytes)}; " +
            $"{Format(_held)} of {Format((long)_device.GlobalMemory)} is in use by Standalone, so about {Format(Math.Max(0, (long)_device.GlobalMemory - _held))} is free. " +
            "Use a smaller batch (--batch-size) or another device.", inner);

    internal static string Format(long bytes) => bytes switch
    {
        >= 1L << 30 => $"{bytes / (double)(1L << 30):F2} GiB",
        >= 1L << 20 => $"{bytes / (double)(1L << 20):F1} MiB",
        _ => $"{bytes / 1024.0:F1} KiB",
    };
}
