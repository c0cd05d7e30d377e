// Device memory for one accelerator, recycled by exact byte size so that a training loop stops allocating once warm.
// It counts the bytes it holds (in use and pooled) against the device's global memory, so that running out gives an
// error naming the request and what is in use — drivers often allocate lazily and fail later, at a kernel launch, with
// a bare out-of-resources status.
using ILGPU;
using ILGPU.Runtime;

namespace Standalone.Backends.Gpu;

internal sealed class GpuMemoryPool(Accelerator accelerator, string deviceName, GpuLimits limits)
{
    private readonly Dictionary<long, Stack<MemoryBuffer1D<byte, Stride1D.Dense>>> _free = new();
    private readonly object _lock = new();
    private long _held, _pooled;

    public long Allocations { get; private set; }
    public long Reuses { get; private set; }

    /// <summary>Bytes allocated on the device through this pool (in use + pooled).</summary>
    public long HeldBytes { get { lock (_lock) return _held; } }

    public MemoryBuffer1D<byte, Stride1D.Dense> Rent(long bytes)
    {
        lock (_lock)
        {
            if (_free.TryGetValue(bytes, out var stack) && stack.Count > 0)
            {
                Reuses++;
                _pooled -= bytes;
                return stack.Pop();
            }
            if (bytes > limits.MaxAllocation)
                throw new OutOfMemoryException($"{deviceName}: a buffer of {Format(bytes)} exceeds the device's largest allocation ({Format(limits.MaxAllocation)})");
            if (_held + bytes > limits.GlobalMemory) Trim();
            if (_held + bytes > limits.GlobalMemory) throw OutOfMemory(bytes);
            MemoryBuffer1D<byte, Stride1D.Dense> memory;
            try { memory = accelerator.Allocate1D<byte>(bytes); }
            catch (Exception e) when (e is AcceleratorException or OutOfMemoryException or ILGPU.Runtime.Cuda.CudaException or ILGPU.Runtime.OpenCL.CLException)
            {
                Trim();
                try { memory = accelerator.Allocate1D<byte>(bytes); }
                catch (Exception again) when (again is AcceleratorException or OutOfMemoryException or ILGPU.Runtime.Cuda.CudaException or ILGPU.Runtime.OpenCL.CLException)
                {
                    throw OutOfMemory(bytes, again);
                }
            }
            Allocations++;
            _held += bytes;
            return memory;
        }
    }

    public void Return(MemoryBuffer1D<byte, Stride1D.Dense> memory)
    {
        lock (_lock)
        {
            long bytes = memory.LengthInBytes;
            if (!_free.TryGetValue(bytes, out var stack)) _free[bytes] = stack = new();
            stack.Push(memory);
            _pooled += bytes;
        }
    }

    /// <summary>Stops counting a buffer that ILGPU frees itself (one that was never released; see GpuBuffer).</summary>
    public void Forget(long bytes)
    {
        lock (_lock) _held -= bytes;
    }

    /// <summary>Gives every pooled buffer back to the device.</summary>
    public void Trim()
    {
        lock (_lock)
        {
            foreach (var stack in _free.Values)
                while (stack.Count > 0) stack.Pop().Dispose();
            _held -= _pooled;
            _pooled = 0;
        }
    }

    private OutOfMemoryException OutOfMemory(long bytes, Exception? inner = null) =>
        new($"{deviceName}: out of device memory allocating {Format(bytes)}; " +
            $"{Format(_held)} of {Format(limits.GlobalMemory)} is in use by Standalone, so about {Format(Math.Max(0, limits.GlobalMemory - _held))} is free. " +
            "Use a smaller batch (--batch-size) or another device.", inner);

    internal static string Format(long bytes) => bytes switch
    {
        >= 1L << 30 => $"{bytes / (double)(1L << 30):F2} GiB",
        >= 1L << 20 => $"{bytes / (double)(1L << 20):F1} MiB",
        _ => $"{bytes / 1024.0:F1} KiB",
    };
}
