// A cl_mem and its size. Released to the backend's pool when its tensor storage lets go of it; a buffer that is
// never released (a tensor left to the GC) frees its device memory from the finalizer.
namespace Standalone.Backends.OpenCl;

internal sealed class OpenClBuffer : DeviceBuffer
{
    private readonly OpenClBackend _backend;
    private nint _memory;

    public OpenClBuffer(OpenClBackend backend, DType dtype, long length, nint memory, long bytes) : base(backend, dtype, length)
    {
        _backend = backend;
        _memory = memory;
        Bytes = bytes;
    }

    ~OpenClBuffer()
    {
        if (_memory != 0) _backend.Pool.Free(_memory, Bytes);
    }

    public long Bytes { get; }

    public nint Memory => _memory != 0 ? _memory : throw new ObjectDisposedException(nameof(OpenClBuffer), "OpenCL buffer used after release");

    public override void Release()
    {
        var memory = Interlocked.Exchange(ref _memory, 0);
        if (memory == 0) return;
        GC.SuppressFinalize(this);
        _backend.Pool.Return(memory, Bytes);
    }
}
