// An opaque block of device memory. Callers never see host pointers: data moves only through
// IBackend.Upload/Download, and kernels reach it through their backend.
namespace Standalone.Backends;

public abstract class DeviceBuffer
{
    protected DeviceBuffer(IBackend backend, DType dtype, long length)
    {
        Backend = backend;
        DType = dtype;
        Length = length;
    }

    public IBackend Backend { get; }
    public DType DType { get; }
    /// <summary>Number of elements.</summary>
    public long Length { get; }

    /// <summary>Returns the memory to the backend's pool; the buffer must not be used afterwards.</summary>
    public abstract void Release();
}
