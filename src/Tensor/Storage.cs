// Reference-counted ownership of a device buffer. Every Tensor handle (including views) holds one reference;
// when the last handle is disposed the buffer goes back to its backend's pool. A handle that is never disposed
// is simply collected by the GC with its buffer — correct, only slower.
namespace Standalone;

internal sealed class Storage
{
    private int _references = 1;

    public Storage(Backends.DeviceBuffer buffer) => Buffer = buffer;

    public Backends.DeviceBuffer Buffer { get; }

    public void AddReference() => Interlocked.Increment(ref _references);

    public void RemoveReference()
    {
        if (Interlocked.Decrement(ref _references) == 0) Buffer.Release();
    }
}
