// The OpenCL backend: one context and one in-order command queue per device. Primitives enqueue kernels and return;
// Synchronize waits (clFinish); Download reads blocking, after the work before it. Primitives are grouped by family
// in partial files like the CPU backend's: Elementwise, Reduce, MatMul, Conv, Pool, Norm, Index. Float primitives
// run in Float32 (the contract's requirement); copies, fills and index primitives also move Int32/Int64.
using Standalone.Backends.OpenCl.Native;

namespace Standalone.Backends.OpenCl;

public sealed unsafe partial class OpenClBackend : IBackend, IDisposable
{
    private readonly nint _context, _queue;
    private readonly object _launchLock = new();

    internal OpenClBackend(OpenClDeviceInfo info)
    {
        Info = info;
        Device = new Device(DeviceKind.OpenCl, info.Index);
        nint device = info.Handle;
        int status;
        _context = Cl.clCreateContext(null, 1, &device, 0, 0, &status);
        Cl.Check(status, $"clCreateContext({info.Name})");
        _queue = Cl.clCreateCommandQueue(_context, device, 0, &status);
        Cl.Check(status, $"clCreateCommandQueue({info.Name})");
        Pool = new OpenClMemoryPool(_context, info);
        Programs = new OpenClPrograms(_context, info);
    }

    public OpenClDeviceInfo Info { get; }
    public Device Device { get; }
    public string Name => $"{Device} ({Info.Name}, {Info.PlatformName})";
    internal OpenClMemoryPool Pool { get; }
    internal OpenClPrograms Programs { get; }

    /// <summary>Buffers created / reused by the memory pool so far (the benchmark reports them).</summary>
    public (long Allocated, long Reused) PoolStatistics => (Pool.Allocations, Pool.Reuses);

    public DeviceBuffer Allocate(DType dtype, long length)
    {
        if (dtype == DType.Float64)
            throw new NotSupportedException($"{Device}: Float64 tensors are not supported on OpenCL (the working type is Float32; Float64 is for CPU gradient checks)");
        long bytes = Math.Max(1, length) * dtype.Size();
        return new OpenClBuffer(this, dtype, length, Pool.Rent(bytes), bytes);
    }

    public void Upload<T>(ReadOnlySpan<T> source, DeviceBuffer destination, long offset) where T : unmanaged
    {
        if (source.IsEmpty) return;
        fixed (T* s = source)
            Cl.Check(Cl.clEnqueueWriteBuffer(_queue, Mem(destination), 1, (nuint)(offset * sizeof(T)), (nuint)(source.Length * sizeof(T)), s, 0, null, null), "clEnqueueWriteBuffer");
    }

    public void Download<T>(DeviceBuffer source, long offset, Span<T> destination) where T : unmanaged
    {
        if (destination.IsEmpty) return;
        fixed (T* d = destination)
            Check(Cl.clEnqueueReadBuffer(_queue, Mem(source), 1, (nuint)(offset * sizeof(T)), (nuint)(destination.Length * sizeof(T)), d, 0, null, null), "clEnqueueReadBuffer");
    }

    public void Synchronize() => Check(Cl.clFinish(_queue), "clFinish");

    internal static nint Mem(DeviceBuffer buffer) => ((OpenClBuffer)buffer).Memory;

    /// <summary>
    /// Drivers report errors of enqueued work (often out of memory) at the next blocking call; this names them.
    /// </summary>
    private void Check(int status, string call)
    {
        if (status == 0) return;
        var error = new ClException(call, status);
        if (error.IsOutOfMemory)
            throw new OutOfMemoryException($"{Device} ({Info.Name}): the device ran out of memory or resources ({ClException.StatusName(status)} from {call}); " +
                $"Standalone holds {OpenClMemoryPool.Format(Pool.HeldBytes)} of {OpenClMemoryPool.Format((long)Info.GlobalMemory)}. Use a smaller batch or another device.", error);
        throw error;
    }

    /// <summary>Starts a launch of kernel <paramref name="name"/> from kernel file <paramref name="file"/>.</summary>
    internal Launch Kernel(string file, string name) => new(this, Programs.Kernel(file, name), name);

    /// <summary>Sets a kernel's arguments in order, then enqueues it; the backend's launch lock is held throughout.</summary>
    internal ref struct Launch
    {
        private readonly OpenClBackend _backend;
        private readonly nint _kernel;
        private readonly string _name;
        private uint _index;
        private bool _locked;

        public Launch(OpenClBackend backend, nint kernel, string name)
        {
            _backend = backend;
            _kernel = kernel;
            _name = name;
            Monitor.Enter(backend._launchLock);
            _locked = true;
        }

        public Launch Arg<T>(T value) where T : unmanaged
        {
            Set(&value, sizeof(T));
            return this;
        }

        public Launch Buffer(in TensorView view)
        {
            nint memory = Mem(view.Buffer);
            Set(&memory, sizeof(nint));
            return this;
        }

        public Launch Buffer(DeviceBuffer buffer)
        {
            nint memory = Mem(buffer);
            Set(&memory, sizeof(nint));
            return this;
        }

        /// <summary>The buffer and its view_t (shape, strides, offset).</summary>
        public Launch View(in TensorView view)
        {
            Buffer(view);
            var layout = ClView.Of(view);
            Set(&layout, sizeof(ClView));
            return this;
        }

        /// <summary>Local memory of <paramref name="bytes"/> for a __local pointer argument.</summary>
        public Launch Local(long bytes)
        {
            Set(null, (int)bytes);
            return this;
        }

        private void Set(void* value, int size)
        {
            int status = Cl.clSetKernelArg(_kernel, _index, (nuint)size, value);
            if (status != 0)
            {
                Release();
                throw new ClException($"clSetKernelArg({_name}, argument {_index})", status);
            }
            _index++;
        }

        /// <summary>One work item per element of a 1-D range of <paramref name="count"/> (rounded up to the group size).</summary>
        public void Run1D(long count, int local = 256)
        {
            if (count <= 0) { Release(); return; }
            Run([RoundUp(count, local)], [local]);
        }

        public void Run(scoped ReadOnlySpan<long> global, scoped ReadOnlySpan<long> local)
        {
            try
            {
                var g = stackalloc nuint[3];
                var l = stackalloc nuint[3];
                for (int d = 0; d < global.Length; d++)
                {
                    g[d] = (nuint)global[d];
                    l[d] = (nuint)local[d];
                }
                int status = Cl.clEnqueueNDRangeKernel(_backend._queue, _kernel, (uint)global.Length, null, g, local.IsEmpty ? null : l, 0, null, null);
                _backend.Check(status, $"clEnqueueNDRangeKernel({_name})");
            }
            finally { Release(); }
        }

        private void Release()
        {
            if (!_locked) return;
            _locked = false;
            Monitor.Exit(_backend._launchLock);
        }
    }

    internal static long RoundUp(long value, long multiple) => (value + multiple - 1) / multiple * multiple;

    public void Dispose()
    {
        Synchronize();
        Pool.Trim();
        Cl.clReleaseCommandQueue(_queue);
        Cl.clReleaseContext(_context);
    }
}
