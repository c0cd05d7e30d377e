// CPU device memory: a managed array taken from (and returned to) the backend's pool.
namespace Standalone.Backends.Cpu;

internal sealed class CpuBuffer : DeviceBuffer
{
    private Array? _array;

    public CpuBuffer(CpuBackend backend, DType dtype, long length, Array array) : base(backend, dtype, length) => _array = array;

    public Array Array => _array ?? throw new ObjectDisposedException(nameof(CpuBuffer), "the buffer was released and can no longer be used");

    public T[] As<T>() where T : unmanaged => (T[])Array;

    public override void Release()
    {
        var array = _array;
        _array = null;
        if (array != null) ((CpuBackend)Backend).Pool.Return(DType, array);
    }
}
