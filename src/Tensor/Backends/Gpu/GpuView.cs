// The host side of the kernels' view_t (Kernels/common.h): an operand's shape, element strides and offset, passed to
// a kernel by value so that a primitive can read any view (strided, broadcast) without a copy.
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Standalone.Backends.Gpu;

[StructLayout(LayoutKind.Sequential)]
internal struct GpuView
{
    public Long8 Shape;
    public Long8 Strides;
    public long Offset;
    public int Rank;
    public int Unused;

    [InlineArray(8)]
    public struct Long8 { private long _element; }

    public static GpuView Of(in TensorView v)
    {
        var view = new GpuView { Offset = v.Offset, Rank = Math.Max(1, v.Rank) };
        if (v.Rank == 0) { view.Shape[0] = 1; view.Strides[0] = 0; return view; }
        for (int d = 0; d < v.Rank; d++)
        {
            view.Shape[d] = v.Shape[d];
            view.Strides[d] = v.Strides[d];
        }
        return view;
    }
}
