// The CPU backend: managed, vectorized, multi-threaded. Work runs synchronously on the calling thread (helped by
// the worker pool), so Synchronize has nothing to wait for; the contract is kept so code above is GPU-correct.
// Primitives are grouped by family in partial files: Elementwise, Reduce, MatMul, Conv, Pool, Norm, Index.
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Standalone.Backends.Cpu;

public sealed partial class CpuBackend : IBackend
{
    public static CpuBackend Instance { get; } = new();

    internal BufferPool Pool { get; } = new();

    public Device Device => Device.Cpu;
    public string Name => $"cpu ({CpuParallel.ThreadCount} threads)";

    /// <summary>Arrays allocated / reused by the buffer pool so far (the benchmark reports them).</summary>
    public (long Allocated, long Reused) PoolStatistics => (Pool.Allocations, Pool.Reuses);

    public DeviceBuffer Allocate(DType dtype, long length)
    {
        if (length > Array.MaxLength)
            throw new OutOfMemoryException($"cpu: a buffer of {length:N0} {dtype} elements exceeds the largest array .NET allows ({Array.MaxLength:N0})");
        return new CpuBuffer(this, dtype, length, Pool.Rent(dtype, (int)length));
    }

    public void Upload<T>(ReadOnlySpan<T> source, DeviceBuffer destination, long offset) where T : unmanaged =>
        source.CopyTo(Buf(destination).As<T>().AsSpan(checked((int)offset)));

    public void Download<T>(DeviceBuffer source, long offset, Span<T> destination) where T : unmanaged =>
        Buf(source).As<T>().AsSpan(checked((int)offset), destination.Length).CopyTo(destination);

    public void Synchronize() { }

    private static CpuBuffer Buf(DeviceBuffer buffer) => (CpuBuffer)buffer;
    private static T[] Arr<T>(in TensorView v) where T : unmanaged => ((CpuBuffer)v.Buffer).As<T>();

    private static ref T At<T>(T[] array, long index) => ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(array), (nint)index);

    private static NotSupportedException Unsupported(string op, DType dtype) =>
        new($"cpu: {op} is not implemented for {dtype} (expected Float32 or Float64)");
}
