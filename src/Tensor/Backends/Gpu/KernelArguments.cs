// The arguments of the kernel launch being built on this thread: each a small value (a scalar, a view_t, a device
// handle) at an 8-byte-aligned place in one block of native memory, so that clSetKernelArg and cuLaunchKernel can
// point into it. One block per thread, reused by every launch: a Launch takes it at Kernel(..) and hands it to
// Enqueue at Run(..); a generation number catches a launch begun while another was still being built.
using System.Runtime.InteropServices;

namespace Standalone.Backends.Gpu;

internal sealed unsafe class KernelArguments
{
    public const int MaxArguments = 32, MaxBytes = 2048;

    [ThreadStatic] private static KernelArguments? t_block;

    private readonly byte* _data = (byte*)NativeMemory.AlignedAlloc(MaxBytes, 16);
    private readonly int[] _offsets = new int[MaxArguments], _sizes = new int[MaxArguments];
    private int _used, _generation;

    ~KernelArguments() => NativeMemory.AlignedFree(_data);

    /// <summary>How many arguments have been added.</summary>
    public int Count { get; private set; }

    /// <summary>This thread's block, emptied, and the generation that identifies the launch now using it.</summary>
    public static (KernelArguments Block, int Generation) Begin()
    {
        var block = t_block ??= new KernelArguments();
        block.Count = 0;
        block._used = 0;
        return (block, ++block._generation);
    }

    public void Add(int generation, void* value, int size, string kernel)
    {
        Check(generation, kernel);
        int at = (_used + 7) & ~7;
        if (Count == MaxArguments || at + size > MaxBytes)
            throw new InvalidOperationException($"{kernel}: more kernel arguments than a launch holds ({MaxArguments}, {MaxBytes} bytes)");
        Buffer.MemoryCopy(value, _data + at, size, size);
        _offsets[Count] = at;
        _sizes[Count] = size;
        Count++;
        _used = at + size;
    }

    /// <summary>Throws when another launch began on this thread while this one was being built.</summary>
    public void Check(int generation, string kernel)
    {
        if (generation != _generation)
            throw new InvalidOperationException($"{kernel}: another kernel launch began while this one was being built (an argument expression launched work)");
    }

    /// <summary>The size of argument <paramref name="index"/> in bytes.</summary>
    public int Size(int index) => _sizes[index];

    /// <summary>Where argument <paramref name="index"/> is stored (native memory: it does not move).</summary>
    public void* Address(int index) => _data + _offsets[index];
}
