// A block of device memory (an ILGPU buffer of bytes, viewed by the kernels as the element type they need) and its
// size. Released to its pool when its tensor storage lets go of it. A buffer that is never released (a tensor left to
// the GC) is freed by ILGPU's own finalizer of the memory object, which may already have run: this finalizer only takes
// its bytes off the pool's count, and never hands the memory back for reuse.
using ILGPU;
using ILGPU.Runtime;

namespace Standalone.Backends.Gpu;

internal sealed class GpuBuffer : DeviceBuffer
{
    private readonly GpuMemoryPool _pool;
    private MemoryBuffer1D<byte, Stride1D.Dense>? _memory;

    public GpuBuffer(GpuBackend backend, GpuMemoryPool pool, DType dtype, long length, MemoryBuffer1D<byte, Stride1D.Dense> memory) : base(backend, dtype, length)
    {
        _pool = pool;
        _memory = memory;
    }

    ~GpuBuffer()
    {
        if (_memory is { } memory) _pool.Forget(memory.LengthInBytes);
    }

    public MemoryBuffer1D<byte, Stride1D.Dense> Memory => _memory ?? throw new ObjectDisposedException(nameof(GpuBuffer), $"{Backend.Device}: device buffer used after release");

    public override void Release()
    {
        var memory = Interlocked.Exchange(ref _memory, null);
        if (memory == null) return;
        GC.SuppressFinalize(this);
        _pool.Return(memory);
    }
}
