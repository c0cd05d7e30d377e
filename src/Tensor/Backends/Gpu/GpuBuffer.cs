// A device memory object (cl_mem, CUdeviceptr) and its size. Released to its pool when its tensor storage lets go of
// it; a buffer that is never released (a tensor left to the GC) frees its device memory from the finalizer.
namespace Standalone.Backends.Gpu;

internal sealed class GpuBuffer : DeviceBuffer
{
    private readonly GpuMemoryPool _pool;
    private ulong _handle;

    public GpuBuffer(GpuBackend backend, GpuMemoryPool pool, DType dtype, long length, ulong handle, long bytes) : base(backend, dtype, length)
    {
        _pool = pool;
        _handle = handle;
        Bytes = bytes;
    }

    ~GpuBuffer()
    {
        if (_handle != 0) _pool.Free(_handle, Bytes);
    }

    public long Bytes { get; }

    public ulong Handle => _handle != 0 ? _handle : throw new ObjectDisposedException(nameof(GpuBuffer), $"{Backend.Device}: device buffer used after release");

    public override void Release()
    {
        ulong handle = Interlocked.Exchange(ref _handle, 0);
        if (handle == 0) return;
        GC.SuppressFinalize(this);
        _pool.Return(handle, Bytes);
    }
}
