// What a backend primitive sees of a tensor: its buffer and the layout (shape, element strides, element offset).
namespace Standalone.Backends;

public readonly struct TensorView
{
    public readonly DeviceBuffer Buffer;
    public readonly Shape Shape;
    public readonly Strides8 Strides;
    public readonly long Offset;

    public TensorView(DeviceBuffer buffer, Shape shape, Strides8 strides, long offset)
    {
        Buffer = buffer;
        Shape = shape;
        Strides = strides;
        Offset = offset;
    }

    public DType DType => Buffer.DType;
    public int Rank => Shape.Rank;
    public long Numel => Shape.Numel;

    /// <summary>True when the elements are laid out in row-major order with no gaps (size-1 dims are ignored).</summary>
    public bool IsContiguous
    {
        get
        {
            long expected = 1;
            for (int i = Rank - 1; i >= 0; i--)
            {
                if (Shape[i] == 1) continue;
                if (Strides[i] != expected) return false;
                expected *= Shape[i];
            }
            return true;
        }
    }
}
