// What the OpenCL and CUDA backends share: every primitive of the contract, written once over the kernel sources of
// Kernels/ (partial files by family, like the CPU backend's: Elementwise, Reduce, MatMul, Conv, Pool, Norm, Index).
// A derived backend supplies memory, transfers, kernel handles and the launch itself (Enqueue), the device's limits,
// and optionally a vendor GEMM (CLBlast, cuBLAS) and faster contiguous copies and fills.
//
// Launches are built by Kernel(file, name).Arg(..).Buffer(..).View(..).Run(global, local): the arguments are laid out
// in the thread's KernelArguments block (values as the kernel declares them, buffers as their device handles), so the
// same call site serves clSetKernelArg and cuLaunchKernel. Sizes follow OpenCL: global counts work items, and must be a multiple of
// local in every dimension (Run1D rounds up; the kernels check their range).

namespace Standalone.Backends.Gpu;

/// <summary>The limits of a device that the shared primitives plan with.</summary>
public sealed record GpuLimits(
    string Name, bool IsGpu, int ComputeUnits, long MaxWorkGroupSize, long LocalMemory, long MaxAllocation, long GlobalMemory,
    long MaxGroupsY = long.MaxValue, long MaxGroupsZ = long.MaxValue);

public abstract unsafe partial class GpuBackend : IBackend, IDisposable
{
    public abstract Device Device { get; }
    public abstract string Name { get; }
    public abstract GpuLimits Limits { get; }

    public abstract DeviceBuffer Allocate(DType dtype, long length);
    public abstract void Upload<T>(ReadOnlySpan<T> source, DeviceBuffer destination, long offset) where T : unmanaged;
    public abstract void Download<T>(DeviceBuffer source, long offset, Span<T> destination) where T : unmanaged;
    public abstract void Synchronize();
    public abstract void Dispose();

    /// <summary>Buffers created / reused by the memory pool so far (the benchmark reports them).</summary>
    public abstract (long Allocated, long Reused) PoolStatistics { get; }

    /// <summary>The device handle of a buffer as a kernel argument (a cl_mem, a CUdeviceptr).</summary>
    private protected abstract ulong Handle(DeviceBuffer buffer);

    /// <summary>The compiled kernel <paramref name="name"/> of kernel file <paramref name="file"/> (built on first use).</summary>
    private protected abstract nint KernelHandle(string file, string name);

    /// <summary>The largest work group this compiled kernel can run with (registers and local memory limit it).</summary>
    private protected abstract long KernelGroupLimit(string file, string name);

    /// <summary>Enqueues a kernel with its arguments over global work items in groups of local (1 to 3 dimensions).</summary>
    private protected abstract void Enqueue(nint kernel, string name, KernelArguments arguments, ReadOnlySpan<long> global, ReadOnlySpan<long> local);

    /// <summary>Copies bytes between buffers without a kernel, when the backend has such a call; false falls back to one.</summary>
    protected virtual bool TryCopyBytes(DeviceBuffer source, long sourceByte, DeviceBuffer destination, long destinationByte, long bytes) => false;

    /// <summary>Fills a contiguous range with a repeated 4- or 8-byte pattern without a kernel; false falls back to one.</summary>
    protected virtual bool TryFillBytes(DeviceBuffer destination, long byteOffset, long bytes, ReadOnlySpan<byte> pattern) => false;

    /// <summary>Starts a launch of kernel <paramref name="name"/> from kernel file <paramref name="file"/>.</summary>
    internal Launch Kernel(string file, string name) => new(this, KernelHandle(file, name), name);

    /// <summary>Collects a kernel's arguments in order (in the calling thread's KernelArguments), then enqueues it.</summary>
    internal readonly ref struct Launch
    {
        private readonly GpuBackend _backend;
        private readonly nint _kernel;
        private readonly string _name;
        private readonly KernelArguments _arguments;
        private readonly int _generation;

        public Launch(GpuBackend backend, nint kernel, string name)
        {
            _backend = backend;
            _kernel = kernel;
            _name = name;
            (_arguments, _generation) = KernelArguments.Begin();
        }

        public Launch Arg<T>(T value) where T : unmanaged
        {
            _arguments.Add(_generation, &value, sizeof(T), _name);
            return this;
        }

        public Launch Buffer(in TensorView view) => Buffer(view.Buffer);

        public Launch Buffer(DeviceBuffer buffer)
        {
            ulong handle = _backend.Handle(buffer);
            _arguments.Add(_generation, &handle, sizeof(ulong), _name);
            return this;
        }

        /// <summary>The buffer and its view_t (shape, strides, offset).</summary>
        public Launch View(in TensorView view)
        {
            Buffer(view);
            var layout = GpuView.Of(view);
            _arguments.Add(_generation, &layout, sizeof(GpuView), _name);
            return this;
        }

        /// <summary>One work item per element of a 1-D range of <paramref name="count"/> (rounded up to the group size).</summary>
        public void Run1D(long count, int local = 256)
        {
            if (count <= 0) return;
            Run([RoundUp(count, local)], [local]);
        }

        public void Run(scoped ReadOnlySpan<long> global, scoped ReadOnlySpan<long> local)
        {
            var limits = _backend.Limits;
            for (int d = 1; d < global.Length; d++)
            {
                long groups = global[d] / local[d], most = d == 1 ? limits.MaxGroupsY : limits.MaxGroupsZ;
                if (groups > most)
                    throw new NotSupportedException($"{_backend.Device} ({limits.Name}): {_name} needs {groups} work groups along dimension {d}, more than the device launches ({most}); use a smaller batch");
            }
            _arguments.Check(_generation, _name);
            _backend.Enqueue(_kernel, _name, _arguments, global, local);
        }
    }

    internal static long RoundUp(long value, long multiple) => (value + multiple - 1) / multiple * multiple;

    private void RequireFloat32(string op, DType dtype)
    {
        if (dtype != DType.Float32) throw new NotSupportedException($"{Device}: {op} is not implemented for {dtype} (expected Float32)");
    }
}
