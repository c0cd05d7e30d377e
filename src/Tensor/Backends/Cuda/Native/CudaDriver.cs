// P/Invoke to the CUDA driver API (libcuda.so.1, installed with the NVIDIA driver): only the calls the backend needs.
// Nothing here runs until a caller asks for a CUDA device, so a machine without the driver never loads the library
// (CudaRuntime checks for it first). Types as in cuda.h on 64-bit Linux: CUresult = int, CUdevice = int,
// CUdeviceptr = ulong, CUcontext/CUstream/CUmodule/CUfunction = nint, size_t = nuint. The "_v2" entry points are the
// ones cuda.h maps the plain names to (64-bit sizes and pointers). Status codes become CudaException through Check.
using System.Runtime.InteropServices;

namespace Standalone.Backends.Cuda.Native;

internal static unsafe class CudaDriver
{
    public const string Library = "libcuda.so.1";

    // CUdevice_attribute values (cuda.h).
    public const int AttributeMaxThreadsPerBlock = 1, AttributeMaxBlockDimX = 2, AttributeMaxBlockDimY = 3,
        AttributeMaxBlockDimZ = 4, AttributeMaxGridDimX = 5, AttributeMaxGridDimY = 6, AttributeMaxGridDimZ = 7,
        AttributeMaxSharedMemoryPerBlock = 8, AttributeClockRate = 13, AttributeMultiprocessorCount = 16,
        AttributeComputeCapabilityMajor = 75, AttributeComputeCapabilityMinor = 76;

    /// <summary>CU_STREAM_NON_BLOCKING: the stream does not synchronize with the legacy default stream.</summary>
    public const uint StreamNonBlocking = 1;

    [DllImport(Library)] public static extern int cuInit(uint flags);
    [DllImport(Library)] public static extern int cuDriverGetVersion(int* version);
    [DllImport(Library)] public static extern int cuGetErrorName(int status, byte** name);

    [DllImport(Library)] public static extern int cuDeviceGetCount(int* count);
    [DllImport(Library)] public static extern int cuDeviceGet(int* device, int ordinal);
    [DllImport(Library)] public static extern int cuDeviceGetName(byte* name, int length, int device);
    [DllImport(Library)] public static extern int cuDeviceTotalMem_v2(nuint* bytes, int device);
    [DllImport(Library)] public static extern int cuDeviceGetAttribute(int* value, int attribute, int device);

    [DllImport(Library)] public static extern int cuDevicePrimaryCtxRetain(nint* context, int device);
    [DllImport(Library)] public static extern int cuDevicePrimaryCtxRelease_v2(int device);
    [DllImport(Library)] public static extern int cuCtxSetCurrent(nint context);
    [DllImport(Library)] public static extern int cuCtxGetCurrent(nint* context);
    [DllImport(Library)] public static extern int cuCtxSynchronize();

    [DllImport(Library)] public static extern int cuStreamCreate(nint* stream, uint flags);
    [DllImport(Library)] public static extern int cuStreamDestroy_v2(nint stream);
    [DllImport(Library)] public static extern int cuStreamSynchronize(nint stream);

    [DllImport(Library)] public static extern int cuMemAlloc_v2(ulong* pointer, nuint bytes);
    [DllImport(Library)] public static extern int cuMemFree_v2(ulong pointer);
    [DllImport(Library)] public static extern int cuMemGetInfo_v2(nuint* free, nuint* total);
    [DllImport(Library)] public static extern int cuMemcpyHtoD_v2(ulong destination, void* source, nuint bytes);
    [DllImport(Library)] public static extern int cuMemcpyDtoH_v2(void* destination, ulong source, nuint bytes);
    [DllImport(Library)] public static extern int cuMemcpyHtoDAsync_v2(ulong destination, void* source, nuint bytes, nint stream);
    [DllImport(Library)] public static extern int cuMemcpyDtoHAsync_v2(void* destination, ulong source, nuint bytes, nint stream);
    [DllImport(Library)] public static extern int cuMemcpyDtoDAsync_v2(ulong destination, ulong source, nuint bytes, nint stream);
    [DllImport(Library)] public static extern int cuMemsetD8Async(ulong destination, byte value, nuint count, nint stream);
    [DllImport(Library)] public static extern int cuMemsetD32Async(ulong destination, uint value, nuint count, nint stream);

    /// <summary>Loads a module from a NUL-terminated PTX text (JIT-compiled by the driver for the current device) or a cubin.</summary>
    [DllImport(Library)] public static extern int cuModuleLoadData(nint* module, void* image);
    [DllImport(Library)] public static extern int cuModuleUnload(nint module);
    [DllImport(Library)] public static extern int cuModuleGetFunction(nint* function, nint module, byte* name);
    [DllImport(Library)] public static extern int cuFuncGetAttribute(int* value, int attribute, nint function);

    /// <summary>CU_FUNC_ATTRIBUTE_MAX_THREADS_PER_BLOCK: the most threads a block of this kernel can have (registers limit it).</summary>
    public const int FuncAttributeMaxThreadsPerBlock = 0;

    /// <summary>
    /// Launches on a grid of gridDim blocks of blockDim threads. kernelParams holds one pointer per kernel parameter,
    /// each pointing at the argument's value (the driver reads sizes and offsets from the kernel image); extra is null.
    /// </summary>
    [DllImport(Library)]
    public static extern int cuLaunchKernel(nint function, uint gridDimX, uint gridDimY, uint gridDimZ,
        uint blockDimX, uint blockDimY, uint blockDimZ, uint sharedMemoryBytes, nint stream, void** kernelParams, void** extra);

    /// <summary>Throws <see cref="CudaException"/> naming the call and the status when status is not CUDA_SUCCESS.</summary>
    public static void Check(int status, string call)
    {
        if (status != 0) throw new CudaException(call, status, UnlistedName(status));
    }

    /// <summary>An int device attribute (CU_DEVICE_ATTRIBUTE_*).</summary>
    public static int Attribute(int device, int attribute)
    {
        int value;
        Check(cuDeviceGetAttribute(&value, attribute, device), "cuDeviceGetAttribute");
        return value;
    }

    public static string DeviceName(int device)
    {
        var bytes = new byte[256];
        fixed (byte* p = bytes) Check(cuDeviceGetName(p, bytes.Length, device), "cuDeviceGetName");
        return System.Text.Encoding.UTF8.GetString(bytes, 0, Math.Max(0, Array.IndexOf(bytes, (byte)0))).Trim();
    }

    /// <summary>The driver's own name for a status newer than CudaException's table ("CUDA_ERROR_..."), else null.</summary>
    private static string? UnlistedName(int status)
    {
        if (!CudaException.StatusName(status).StartsWith("unknown", StringComparison.Ordinal)) return null;
        byte* name;
        return cuGetErrorName(status, &name) == 0 && name != null ? $"the driver calls it {Marshal.PtrToStringUTF8((nint)name)}" : null;
    }
}
