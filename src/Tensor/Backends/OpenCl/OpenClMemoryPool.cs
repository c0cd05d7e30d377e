// OpenCL memory for one context: cl_mem objects (CL_MEM_READ_WRITE) behind the shared pool of GpuMemoryPool.
using Standalone.Backends.Gpu;
using Standalone.Backends.OpenCl.Native;

namespace Standalone.Backends.OpenCl;

internal sealed unsafe class OpenClMemoryPool(nint context, string device, GpuLimits limits) : GpuMemoryPool(device, limits)
{
    protected override (ulong Handle, Exception? Error, bool OutOfMemory) Create(long bytes)
    {
        int status;
        nint memory = Cl.clCreateBuffer(context, Cl.MemReadWrite, (nuint)bytes, null, &status);
        if (status == 0) return ((ulong)memory, null, false);
        var error = new ClException("clCreateBuffer", status);
        return (0, error, error.IsOutOfMemory);
    }

    protected override void Destroy(ulong handle) => Cl.clReleaseMemObject((nint)handle);
}
