// What every kernel shares: the strided view an operand may be (shape, element strides, offset of a rank ≤ 8 view,
// passed by value), and the work-item index helpers. Kernels are ILGPU kernels (C# compiled by ILGPU to PTX, OpenCL C,
// or run by its CPU accelerator); launches are explicitly grouped, so a work item's position follows OpenCL's terms:
// global id = group id · group size + local id, along dimensions 0 (X), 1 (Y) and 2 (Z).
using ILGPU;

namespace Standalone.Backends.Gpu.Kernels;

/// <summary>
/// An operand's layout, dims stored innermost first (D0 is the last dim of the tensor). ILGPU passes kernel parameters
/// as plain structs, so the dims are fields rather than an inline array.
/// </summary>
public struct KernelView
{
    public long S0, S1, S2, S3, S4, S5, S6, S7;
    public long T0, T1, T2, T3, T4, T5, T6, T7;
    public long Offset;
    public int Rank;

    /// <summary>The element index of the linear (row-major) position i.</summary>
    public readonly long At(long i)
    {
        long at = Offset;
        at += i % S0 * T0; i /= S0;
        if (Rank > 1) { at += i % S1 * T1; i /= S1; }
        if (Rank > 2) { at += i % S2 * T2; i /= S2; }
        if (Rank > 3) { at += i % S3 * T3; i /= S3; }
        if (Rank > 4) { at += i % S4 * T4; i /= S4; }
        if (Rank > 5) { at += i % S5 * T5; i /= S5; }
        if (Rank > 6) { at += i % S6 * T6; i /= S6; }
        if (Rank > 7) at += i % S7 * T7;
        return at;
    }

    /// <summary>A view of the given dims (outermost first) and offset; no dims is a single element.</summary>
    public static KernelView Of(ReadOnlySpan<long> shape, ReadOnlySpan<long> strides, long offset)
    {
        var v = new KernelView { Offset = offset, Rank = Math.Max(1, shape.Length), S0 = 1 };
        for (int d = 0; d < shape.Length; d++) v.Set(shape.Length - 1 - d, shape[d], strides[d]);
        return v;
    }

    /// <summary>A tensor view's layout (a rank-0 view is one element).</summary>
    public static KernelView Of(in TensorView view)
    {
        Span<long> shape = stackalloc long[Math.Max(1, view.Rank)], strides = stackalloc long[Math.Max(1, view.Rank)];
        for (int d = 0; d < view.Rank; d++) (shape[d], strides[d]) = (view.Shape[d], view.Strides[d]);
        return view.Rank == 0 ? Of([], [], view.Offset) : Of(shape, strides, view.Offset);
    }

    private void Set(int d, long size, long stride)
    {
        switch (d)
        {
            case 0: (S0, T0) = (size, stride); break;
            case 1: (S1, T1) = (size, stride); break;
            case 2: (S2, T2) = (size, stride); break;
            case 3: (S3, T3) = (size, stride); break;
            case 4: (S4, T4) = (size, stride); break;
            case 5: (S5, T5) = (size, stride); break;
            case 6: (S6, T6) = (size, stride); break;
            default: (S7, T7) = (size, stride); break;
        }
    }
}

/// <summary>Work-item positions in OpenCL's terms, for explicitly grouped ILGPU kernels.</summary>
internal static class Item
{
    public static long Global0 => (long)Grid.IdxX * Group.DimX + Group.IdxX;
    public static long Global1 => (long)Grid.IdxY * Group.DimY + Group.IdxY;
    public static int Local0 => Group.IdxX;
    public static int Local1 => Group.IdxY;
    public static int LocalSize0 => Group.DimX;
    public static int Group0 => Grid.IdxX;
    public static int Group1 => Grid.IdxY;
    public static int Group2 => Grid.IdxZ;

    public static bool IsNaN(float x) => float.IsNaN(x);
}
