// P/Invoke to the OpenCL ICD loader (libOpenCL.so.1): only the calls the backend needs, OpenCL 1.2. Nothing here
// runs until a caller asks for an OpenCL device, so a machine without OpenCL never loads the library
// (OpenClRuntime.TryLoad checks for it first). Status codes are turned into ClException by Check.
using System.Runtime.InteropServices;

namespace Standalone.Backends.OpenCl.Native;

internal static unsafe partial class Cl
{
    public const string Library = "libOpenCL.so.1";

    // Info and flag constants (cl.h).
    public const uint PlatformName = 0x0902, PlatformVersion = 0x0901, PlatformVendor = 0x0903;
    public const ulong DeviceTypeCpu = 1 << 1, DeviceTypeGpu = 1 << 2, DeviceTypeAccelerator = 1 << 3, DeviceTypeAll = 0xFFFFFFFF;
    public const uint DeviceType = 0x1000, DeviceMaxComputeUnits = 0x1002, DeviceMaxWorkGroupSize = 0x1004,
        DeviceMaxWorkItemSizes = 0x1005, DeviceMaxClockFrequency = 0x100C, DeviceMaxMemAllocSize = 0x1010,
        DeviceGlobalMemSize = 0x101F, DeviceLocalMemSize = 0x1023, DeviceName = 0x102B, DeviceVendor = 0x102C,
        DriverVersion = 0x102D, DeviceVersion = 0x102F, DeviceOpenClCVersion = 0x103D, DeviceExtensions = 0x1030;
    public const ulong MemReadWrite = 1 << 0;
    public const uint ProgramBuildLog = 0x1183, ProgramBinarySizes = 0x1165, ProgramBinaries = 0x1166;
    public const uint KernelWorkGroupSize = 0x11B0;

    [DllImport(Library)] public static extern int clGetPlatformIDs(uint numEntries, nint* platforms, uint* numPlatforms);
    [DllImport(Library)] public static extern int clGetPlatformInfo(nint platform, uint param, nuint size, void* value, nuint* sizeRet);
    [DllImport(Library)] public static extern int clGetDeviceIDs(nint platform, ulong type, uint numEntries, nint* devices, uint* numDevices);
    [DllImport(Library)] public static extern int clGetDeviceInfo(nint device, uint param, nuint size, void* value, nuint* sizeRet);

    [DllImport(Library)] public static extern nint clCreateContext(nint* properties, uint numDevices, nint* devices, nint notify, nint userData, int* status);
    [DllImport(Library)] public static extern int clReleaseContext(nint context);
    [DllImport(Library)] public static extern nint clCreateCommandQueue(nint context, nint device, ulong properties, int* status);
    [DllImport(Library)] public static extern int clReleaseCommandQueue(nint queue);
    [DllImport(Library)] public static extern int clFinish(nint queue);
    [DllImport(Library)] public static extern int clFlush(nint queue);

    [DllImport(Library)] public static extern nint clCreateBuffer(nint context, ulong flags, nuint size, void* hostPointer, int* status);
    [DllImport(Library)] public static extern int clReleaseMemObject(nint buffer);
    [DllImport(Library)] public static extern int clEnqueueWriteBuffer(nint queue, nint buffer, uint blocking, nuint offset, nuint size, void* source, uint numEvents, nint* waitList, nint* evt);
    [DllImport(Library)] public static extern int clEnqueueReadBuffer(nint queue, nint buffer, uint blocking, nuint offset, nuint size, void* destination, uint numEvents, nint* waitList, nint* evt);
    [DllImport(Library)] public static extern int clEnqueueCopyBuffer(nint queue, nint source, nint destination, nuint sourceOffset, nuint destinationOffset, nuint size, uint numEvents, nint* waitList, nint* evt);
    [DllImport(Library)] public static extern int clEnqueueFillBuffer(nint queue, nint buffer, void* pattern, nuint patternSize, nuint offset, nuint size, uint numEvents, nint* waitList, nint* evt);

    [DllImport(Library)] public static extern nint clCreateProgramWithSource(nint context, uint count, byte** sources, nuint* lengths, int* status);
    [DllImport(Library)] public static extern nint clCreateProgramWithBinary(nint context, uint numDevices, nint* devices, nuint* lengths, byte** binaries, int* binaryStatus, int* status);
    [DllImport(Library)] public static extern int clBuildProgram(nint program, uint numDevices, nint* devices, byte* options, nint notify, nint userData);
    [DllImport(Library)] public static extern int clGetProgramBuildInfo(nint program, nint device, uint param, nuint size, void* value, nuint* sizeRet);
    [DllImport(Library)] public static extern int clGetProgramInfo(nint program, uint param, nuint size, void* value, nuint* sizeRet);
    [DllImport(Library)] public static extern int clReleaseProgram(nint program);

    [DllImport(Library)] public static extern nint clCreateKernel(nint program, byte* name, int* status);
    [DllImport(Library)] public static extern int clReleaseKernel(nint kernel);
    [DllImport(Library)] public static extern int clSetKernelArg(nint kernel, uint index, nuint size, void* value);
    [DllImport(Library)] public static extern int clGetKernelWorkGroupInfo(nint kernel, nint device, uint param, nuint size, void* value, nuint* sizeRet);
    [DllImport(Library)] public static extern int clEnqueueNDRangeKernel(nint queue, nint kernel, uint workDim, nuint* globalOffset, nuint* globalSize, nuint* localSize, uint numEvents, nint* waitList, nint* evt);

    /// <summary>Throws <see cref="ClException"/> naming the call and the status when status is not CL_SUCCESS.</summary>
    public static void Check(int status, string call)
    {
        if (status != 0) throw new ClException(call, status);
    }

    /// <summary>A device or platform string property.</summary>
    public static string DeviceString(nint device, uint param)
    {
        nuint size;
        Check(clGetDeviceInfo(device, param, 0, null, &size), "clGetDeviceInfo");
        var bytes = new byte[(int)size];
        fixed (byte* p = bytes) Check(clGetDeviceInfo(device, param, size, p, null), "clGetDeviceInfo");
        return System.Text.Encoding.UTF8.GetString(bytes).TrimEnd('\0').Trim();
    }

    public static string PlatformString(nint platform, uint param)
    {
        nuint size;
        Check(clGetPlatformInfo(platform, param, 0, null, &size), "clGetPlatformInfo");
        var bytes = new byte[(int)size];
        fixed (byte* p = bytes) Check(clGetPlatformInfo(platform, param, size, p, null), "clGetPlatformInfo");
        return System.Text.Encoding.UTF8.GetString(bytes).TrimEnd('\0').Trim();
    }

    /// <summary>A fixed-size device property (cl_uint, cl_ulong, size_t, cl_bitfield).</summary>
    public static T DeviceValue<T>(nint device, uint param) where T : unmanaged
    {
        T value;
        Check(clGetDeviceInfo(device, param, (nuint)sizeof(T), &value, null), "clGetDeviceInfo");
        return value;
    }
}
