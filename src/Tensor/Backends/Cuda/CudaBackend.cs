// The CUDA backend: the device's primary context and one stream. The primitives are GpuBackend's, shared with OpenCL
// and compiled from the same kernel sources by NVRTC (CudaCompiler, one module per kernel file, loaded on first use);
// this class gives them memory (cuMemAlloc through the shared pool), transfers, launches (cuLaunchKernel with the
// arguments GpuBackend lays out), copies and fills by the driver's own calls, and cuBLAS as the vendor GEMM.
//
// Everything is ordered on the one stream; Download waits for it (cuStreamSynchronize), and errors of enqueued work
// (an illegal address, a launch failure) surface there, named. The driver needs the context current on the calling
// thread, so every entry point makes it so (cheaply: a thread-static remembers the last one set).
using Standalone.Backends.Cuda.Native;
using Standalone.Backends.Gpu;

namespace Standalone.Backends.Cuda;

public sealed unsafe class CudaBackend : GpuBackend
{
    [ThreadStatic] private static nint t_current;

    private readonly nint _context, _stream;
    private readonly Dictionary<string, nint> _modules = new();
    private readonly Dictionary<(string File, string Name), nint> _functions = new();
    private readonly object _modulesLock = new();
    private nint _cublas;
    private bool _cublasTried;

    internal CudaBackend(CudaDeviceInfo info)
    {
        Info = info;
        Device = new Device(DeviceKind.Cuda, info.Index);
        Limits = new GpuLimits(info.Name, IsGpu: true, info.Multiprocessors, info.MaxThreadsPerBlock, info.MaxSharedMemoryPerBlock,
            (long)info.TotalMemory, (long)info.TotalMemory, info.MaxGridY, info.MaxGridZ);
        nint context, stream;
        CudaDriver.Check(CudaDriver.cuDevicePrimaryCtxRetain(&context, info.Handle), $"cuDevicePrimaryCtxRetain({info.Name})");
        _context = context;
        MakeCurrent();
        CudaDriver.Check(CudaDriver.cuStreamCreate(&stream, 0), "cuStreamCreate");
        _stream = stream;
        Pool = new CudaMemoryPool(this, $"{Device} ({info.Name})", Limits);
    }

    public CudaDeviceInfo Info { get; }
    public override Device Device { get; }
    public override GpuLimits Limits { get; }
    public override string Name => $"{Device} ({Info.Name}, compute capability {Info.ComputeCapabilityMajor}.{Info.ComputeCapabilityMinor})";
    internal CudaMemoryPool Pool { get; }

    public override (long Allocated, long Reused) PoolStatistics => (Pool.Allocations, Pool.Reuses);

    /// <summary>Makes this backend's context current on the calling thread (the driver's calls act on the current one).</summary>
    internal void MakeCurrent()
    {
        if (t_current == _context) return;
        CudaDriver.Check(CudaDriver.cuCtxSetCurrent(_context), "cuCtxSetCurrent");
        t_current = _context;
    }

    public override DeviceBuffer Allocate(DType dtype, long length)
    {
        if (dtype == DType.Float64)
            throw new NotSupportedException($"{Device}: Float64 tensors are not supported on CUDA (the working type is Float32; Float64 is for CPU gradient checks)");
        long bytes = Math.Max(1, length) * dtype.Size();
        MakeCurrent();
        return new GpuBuffer(this, Pool, dtype, length, Pool.Rent(bytes), bytes);
    }

    private static ulong Pointer(DeviceBuffer buffer) => ((GpuBuffer)buffer).Handle;

    public override void Upload<T>(ReadOnlySpan<T> source, DeviceBuffer destination, long offset)
    {
        if (source.IsEmpty) return;
        MakeCurrent();
        // From pageable memory the driver stages the data before returning, so the span may change afterwards.
        fixed (T* s = source)
            Check(CudaDriver.cuMemcpyHtoDAsync_v2(Pointer(destination) + (ulong)(offset * sizeof(T)), s, (nuint)(source.Length * sizeof(T)), _stream), "cuMemcpyHtoDAsync");
    }

    public override void Download<T>(DeviceBuffer source, long offset, Span<T> destination)
    {
        if (destination.IsEmpty) return;
        MakeCurrent();
        fixed (T* d = destination)
        {
            Check(CudaDriver.cuMemcpyDtoHAsync_v2(d, Pointer(source) + (ulong)(offset * sizeof(T)), (nuint)(destination.Length * sizeof(T)), _stream), "cuMemcpyDtoHAsync");
            Check(CudaDriver.cuStreamSynchronize(_stream), "cuStreamSynchronize");
        }
    }

    public override void Synchronize()
    {
        MakeCurrent();
        Check(CudaDriver.cuStreamSynchronize(_stream), "cuStreamSynchronize");
    }

    private protected override ulong Handle(DeviceBuffer buffer) => Pointer(buffer);

    private protected override nint KernelHandle(string file, string name)
    {
        lock (_modulesLock)
        {
            if (_functions.TryGetValue((file, name), out var function)) return function;
            MakeCurrent();
            if (!_modules.TryGetValue(file, out var module)) _modules[file] = module = LoadModule(file);
            var utf8 = System.Text.Encoding.UTF8.GetBytes(name + "\0");
            fixed (byte* n = utf8) CudaDriver.Check(CudaDriver.cuModuleGetFunction(&function, module, n), $"cuModuleGetFunction({file}: {name})");
            return _functions[(file, name)] = function;
        }
    }

    /// <summary>Compiles (or reads from the cache) a kernel file's PTX for this device and loads it; the driver JITs it.</summary>
    private nint LoadModule(string file)
    {
        byte[] ptx = CudaCompiler.Compile(file, Info.ComputeCapabilityMajor, Info.ComputeCapabilityMinor); // NUL-terminated
        nint module;
        fixed (byte* p = ptx) CudaDriver.Check(CudaDriver.cuModuleLoadData(&module, p), $"cuModuleLoadData({file})");
        return module;
    }

    private protected override long KernelGroupLimit(string file, string name)
    {
        nint function = KernelHandle(file, name);
        int threads;
        CudaDriver.Check(CudaDriver.cuFuncGetAttribute(&threads, CudaDriver.FuncAttributeMaxThreadsPerBlock, function), $"cuFuncGetAttribute({name})");
        return threads;
    }

    private protected override void Enqueue(nint kernel, string name, KernelArguments arguments, ReadOnlySpan<long> global, ReadOnlySpan<long> local)
    {
        Span<uint> grid = [1, 1, 1], block = [1, 1, 1];
        for (int d = 0; d < global.Length; d++)
        {
            long groups = global[d] / local[d];
            if (groups > int.MaxValue)
                throw new NotSupportedException($"{Device}: {name} needs {groups} blocks along dimension {d}, more than CUDA launches");
            (grid[d], block[d]) = ((uint)groups, (uint)local[d]);
        }
        var parameters = stackalloc void*[arguments.Count];
        for (int i = 0; i < arguments.Count; i++) parameters[i] = arguments.Address(i);
        MakeCurrent();
        Check(CudaDriver.cuLaunchKernel(kernel, grid[0], grid[1], grid[2], block[0], block[1], block[2], 0, _stream, parameters, null), $"cuLaunchKernel({name})");
    }

    protected override bool TryCopyBytes(DeviceBuffer source, long sourceByte, DeviceBuffer destination, long destinationByte, long bytes)
    {
        MakeCurrent();
        Check(CudaDriver.cuMemcpyDtoDAsync_v2(Pointer(destination) + (ulong)destinationByte, Pointer(source) + (ulong)sourceByte, (nuint)bytes, _stream), "cuMemcpyDtoDAsync");
        return true;
    }

    /// <summary>4-byte patterns (Float32, Int32) by cuMemsetD32Async; 8-byte ones take the fill kernel.</summary>
    protected override bool TryFillBytes(DeviceBuffer destination, long byteOffset, long bytes, ReadOnlySpan<byte> pattern)
    {
        if (pattern.Length != 4 || byteOffset % 4 != 0 || bytes % 4 != 0) return false;
        MakeCurrent();
        uint value = System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(pattern);
        Check(CudaDriver.cuMemsetD32Async(Pointer(destination) + (ulong)byteOffset, value, (nuint)(bytes / 4), _stream), "cuMemsetD32Async");
        return true;
    }

    internal override string? VendorGemmName => CuBlas.Available ? "cuBLAS" : null;

    /// <summary>cuBLAS unless STANDALONE_CUBLAS=off.</summary>
    protected override bool VendorGemmByDefault =>
        !string.Equals(Environment.GetEnvironmentVariable("STANDALONE_CUBLAS"), "off", StringComparison.OrdinalIgnoreCase);

    /// <summary>
    /// TF32 tensor-core math for cuBLAS SGEMMs: off by default (results then match the other backends to float32
    /// rounding); STANDALONE_TF32=on allows it, trading ~10 mantissa bits of the products for speed on Ampere and later.
    /// </summary>
    public static bool AllowTf32 => string.Equals(Environment.GetEnvironmentVariable("STANDALONE_TF32"), "on", StringComparison.OrdinalIgnoreCase);

    /// <summary>
    /// One cublasSgemmStridedBatched over the batch. cuBLAS is column-major: a row-major C = op(A)·op(B) is the
    /// column-major Cᵀ = op(B)ᵀ·op(A)ᵀ, and a row-major matrix read column-major is its transpose — so B goes first
    /// with its own transpose flag, then A, and M and N swap.
    /// </summary>
    private protected override (int Done, string? Error) VendorGemm(int batch, int m, int n, int k, float alpha, in GemmMatrix a, bool transA,
        in GemmMatrix b, bool transB, float beta, in GemmMatrix c)
    {
        MakeCurrent();
        if (CublasHandle() is not { } handle) return (0, CublasError);
        try
        {
            CuBlas.SgemmStridedBatched(handle, transB ? CuBlas.OpT : CuBlas.OpN, transA ? CuBlas.OpT : CuBlas.OpN, n, m, k, alpha,
                Pointer(b.Buffer) + (ulong)(b.Offset * sizeof(float)), b.RowStride, b.BatchStride,
                Pointer(a.Buffer) + (ulong)(a.Offset * sizeof(float)), a.RowStride, a.BatchStride, beta,
                Pointer(c.Buffer) + (ulong)(c.Offset * sizeof(float)), c.RowStride, c.BatchStride, batch);
            return (batch, null);
        }
        catch (CudaException e)
        {
            return (0, $"m={m}, n={n}, k={k}, transA={transA}, transB={transB}, batch={batch}: {e.Message}");
        }
    }

    private string? CublasError { get; set; }

    /// <summary>This backend's cuBLAS handle on its stream, created on first use; null (and CublasError) when that fails.</summary>
    private nint? CublasHandle()
    {
        if (_cublasTried) return _cublas == 0 ? null : _cublas;
        _cublasTried = true;
        nint handle;
        try
        {
            handle = CuBlas.Create();
            CuBlas.SetStream(handle, _stream);
            CuBlas.SetMathMode(handle, AllowTf32 ? CuBlas.Tf32TensorOpMath : CuBlas.DefaultMath);
        }
        catch (Exception e) when (e is CudaException or InvalidOperationException)
        {
            CublasError = e.Message;
            return null;
        }
        return _cublas = handle;
    }

    /// <summary>
    /// Errors of enqueued work surface at the next call that waits; out of memory becomes OutOfMemoryException naming
    /// what Standalone holds.
    /// </summary>
    private void Check(int status, string call)
    {
        if (status == 0) return;
        var error = new CudaException(call, status);
        if (error.IsOutOfMemory)
            throw new OutOfMemoryException($"{Device} ({Info.Name}): the device ran out of memory ({CudaException.StatusName(status)} from {call}); " +
                $"Standalone holds {GpuMemoryPool.Format(Pool.HeldBytes)} of {GpuMemoryPool.Format((long)Info.TotalMemory)}. Use a smaller batch or another device.", error);
        throw error;
    }

    public override void Dispose()
    {
        Synchronize();
        Pool.Trim();
        if (_cublas != 0) CuBlas.Destroy(_cublas);
        foreach (var module in _modules.Values) CudaDriver.cuModuleUnload(module);
        CudaDriver.cuStreamDestroy_v2(_stream);
        CudaDriver.cuDevicePrimaryCtxRelease_v2(Info.Handle);
    }
}

/// <summary>CUDA memory: cuMemAlloc / cuMemFree behind the shared pool (with the context made current, also on the finalizer thread).</summary>
internal sealed unsafe class CudaMemoryPool(CudaBackend backend, string device, GpuLimits limits) : GpuMemoryPool(device, limits)
{
    protected override (ulong Handle, Exception? Error, bool OutOfMemory) Create(long bytes)
    {
        backend.MakeCurrent();
        ulong pointer;
        int status = CudaDriver.cuMemAlloc_v2(&pointer, (nuint)bytes);
        if (status == 0) return (pointer, null, false);
        var error = new CudaException("cuMemAlloc", status);
        return (0, error, error.IsOutOfMemory);
    }

    protected override void Destroy(ulong handle)
    {
        backend.MakeCurrent();
        CudaDriver.cuMemFree_v2(handle);
    }
}
