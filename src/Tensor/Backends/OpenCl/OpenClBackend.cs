// The OpenCL backend: one context and one in-order command queue per device. The primitives are GpuBackend's, shared
// with CUDA; this class gives them memory (OpenClMemoryPool), transfers, programs (OpenClPrograms), launches
// (clSetKernelArg + clEnqueueNDRangeKernel under one lock, since kernel objects hold their arguments), copies and fills
// by the queue's own calls, and CLBlast's SGEMM on GPUs. Synchronize waits (clFinish); Download reads blocking, after
// the work before it. Float primitives run in Float32; copies, fills and index primitives also move Int32/Int64.
using Standalone.Backends.Gpu;
using Standalone.Backends.OpenCl.Native;

namespace Standalone.Backends.OpenCl;

public sealed unsafe class OpenClBackend : GpuBackend
{
    private readonly nint _context, _queue;
    private readonly object _launchLock = new();

    internal OpenClBackend(OpenClDeviceInfo info)
    {
        Info = info;
        Device = new Device(DeviceKind.OpenCl, info.Index);
        Limits = new GpuLimits(info.Name, info.IsGpu, (int)info.ComputeUnits, (long)info.MaxWorkGroupSize, (long)info.LocalMemory,
            (long)info.MaxAllocation, (long)info.GlobalMemory);
        nint device = info.Handle;
        int status;
        _context = Cl.clCreateContext(null, 1, &device, 0, 0, &status);
        Cl.Check(status, $"clCreateContext({info.Name})");
        _queue = Cl.clCreateCommandQueue(_context, device, 0, &status);
        Cl.Check(status, $"clCreateCommandQueue({info.Name})");
        Pool = new OpenClMemoryPool(_context, $"{Device} ({info.Name})", Limits);
        Programs = new OpenClPrograms(_context, info);
    }

    public OpenClDeviceInfo Info { get; }
    public override Device Device { get; }
    public override GpuLimits Limits { get; }
    public override string Name => $"{Device} ({Info.Name}, {Info.PlatformName})";
    internal OpenClMemoryPool Pool { get; }
    internal OpenClPrograms Programs { get; }

    public override (long Allocated, long Reused) PoolStatistics => (Pool.Allocations, Pool.Reuses);

    public override DeviceBuffer Allocate(DType dtype, long length)
    {
        if (dtype == DType.Float64)
            throw new NotSupportedException($"{Device}: Float64 tensors are not supported on OpenCL (the working type is Float32; Float64 is for CPU gradient checks)");
        long bytes = Math.Max(1, length) * dtype.Size();
        return new GpuBuffer(this, Pool, dtype, length, Pool.Rent(bytes), bytes);
    }

    public override void Upload<T>(ReadOnlySpan<T> source, DeviceBuffer destination, long offset)
    {
        if (source.IsEmpty) return;
        fixed (T* s = source)
            Check(Cl.clEnqueueWriteBuffer(_queue, Mem(destination), 1, (nuint)(offset * sizeof(T)), (nuint)(source.Length * sizeof(T)), s, 0, null, null), "clEnqueueWriteBuffer");
    }

    public override void Download<T>(DeviceBuffer source, long offset, Span<T> destination)
    {
        if (destination.IsEmpty) return;
        fixed (T* d = destination)
            Check(Cl.clEnqueueReadBuffer(_queue, Mem(source), 1, (nuint)(offset * sizeof(T)), (nuint)(destination.Length * sizeof(T)), d, 0, null, null), "clEnqueueReadBuffer");
    }

    public override void Synchronize() => Check(Cl.clFinish(_queue), "clFinish");

    internal static nint Mem(DeviceBuffer buffer) => (nint)((GpuBuffer)buffer).Handle;

    private protected override ulong Handle(DeviceBuffer buffer) => ((GpuBuffer)buffer).Handle;

    private protected override nint KernelHandle(string file, string name) => Programs.Kernel(file, name);

    /// <summary>CL_KERNEL_WORK_GROUP_SIZE: the largest work group this compiled kernel can run with on the device.</summary>
    private protected override long KernelGroupLimit(string file, string name)
    {
        nuint size;
        Cl.Check(Cl.clGetKernelWorkGroupInfo(Programs.Kernel(file, name), Info.Handle, Cl.KernelWorkGroupSize, (nuint)sizeof(nuint), &size, null),
            $"clGetKernelWorkGroupInfo({name})");
        return (long)size;
    }

    private protected override void Enqueue(nint kernel, string name, KernelArguments arguments, ReadOnlySpan<long> global, ReadOnlySpan<long> local)
    {
        var g = stackalloc nuint[3];
        var l = stackalloc nuint[3];
        for (int d = 0; d < global.Length; d++)
        {
            g[d] = (nuint)global[d];
            l[d] = (nuint)local[d];
        }
        lock (_launchLock)
        {
            for (int i = 0; i < arguments.Count; i++)
            {
                int status = Cl.clSetKernelArg(kernel, (uint)i, (nuint)arguments.Size(i), arguments.Address(i));
                if (status != 0) throw new ClException($"clSetKernelArg({name}, argument {i})", status);
            }
            Check(Cl.clEnqueueNDRangeKernel(_queue, kernel, (uint)global.Length, null, g, l, 0, null, null), $"clEnqueueNDRangeKernel({name})");
        }
    }

    protected override bool TryCopyBytes(DeviceBuffer source, long sourceByte, DeviceBuffer destination, long destinationByte, long bytes)
    {
        lock (_launchLock)
            Check(Cl.clEnqueueCopyBuffer(_queue, Mem(source), Mem(destination), (nuint)sourceByte, (nuint)destinationByte, (nuint)bytes, 0, null, null), "clEnqueueCopyBuffer");
        return true;
    }

    protected override bool TryFillBytes(DeviceBuffer destination, long byteOffset, long bytes, ReadOnlySpan<byte> pattern)
    {
        fixed (byte* p = pattern)
            lock (_launchLock)
                Check(Cl.clEnqueueFillBuffer(_queue, Mem(destination), p, (nuint)pattern.Length, (nuint)byteOffset, (nuint)bytes, 0, null, null), "clEnqueueFillBuffer");
        return true;
    }

    internal override string? VendorGemmName => ClBlast.Available ? "CLBlast" : null;

    /// <summary>
    /// CLBlast on GPUs by default. STANDALONE_CLBLAST=off turns it off everywhere, =on turns it on for CPU devices too
    /// (on PoCL its SGEMM measured 3–5× slower than the own single-item kernels, hence the GPU-only default).
    /// </summary>
    protected override bool VendorGemmByDefault => Environment.GetEnvironmentVariable("STANDALONE_CLBLAST")?.ToLowerInvariant() switch
    {
        "off" => false,
        "on" => true,
        _ => Info.IsGpu,
    };

    /// <summary>One CLBlastSgemm per batch item.</summary>
    private protected override (int Done, string? Error) VendorGemm(int batch, int m, int n, int k, float alpha, in GemmMatrix a, bool transA,
        in GemmMatrix b, bool transB, float beta, in GemmMatrix c)
    {
        lock (_launchLock)
            for (int i = 0; i < batch; i++)
            {
                int status = ClBlast.Sgemm(transA, transB, m, n, k, alpha,
                    Mem(a.Buffer), a.Offset + i * a.BatchStride, a.RowStride,
                    Mem(b.Buffer), b.Offset + i * b.BatchStride, b.RowStride,
                    beta, Mem(c.Buffer), c.Offset + i * c.BatchStride, c.RowStride, _queue);
                if (status != 0)
                    return (i, $"CLBlastSgemm(m={m}, n={n}, k={k}, transA={transA}, transB={transB}) returned {ClBlast.StatusName(status)} ({status})");
            }
        return (batch, null);
    }

    /// <summary>
    /// Drivers report errors of enqueued work (often out of memory) at the next blocking call; this names them.
    /// </summary>
    private void Check(int status, string call)
    {
        if (status == 0) return;
        var error = new ClException(call, status);
        if (error.IsOutOfMemory)
            throw new OutOfMemoryException($"{Device} ({Info.Name}): the device ran out of memory or resources ({ClException.StatusName(status)} from {call}); " +
                $"Standalone holds {GpuMemoryPool.Format(Pool.HeldBytes)} of {GpuMemoryPool.Format((long)Info.GlobalMemory)}. Use a smaller batch or another device.", error);
        throw error;
    }

    public override void Dispose()
    {
        Synchronize();
        Pool.Trim();
        Cl.clReleaseCommandQueue(_queue);
        Cl.clReleaseContext(_context);
    }
}
