// Views share the buffer and never copy: reshape (of a contiguous tensor), permute/transpose, slice, expand,
// unsqueeze/squeeze. Contiguous() and Clone() are the explicit copies.
namespace Standalone;

public sealed partial class Tensor
{
    /// <summary>Reshapes (one dimension may be -1). A view when contiguous, otherwise a contiguous copy.</summary>
    public Tensor Reshape(params ReadOnlySpan<int> dims)
    {
        Span<int> d = stackalloc int[dims.Length];
        dims.CopyTo(d);
        int infer = -1;
        long known = 1;
        for (int i = 0; i < d.Length; i++)
        {
            if (d[i] == -1)
            {
                if (infer >= 0) throw new ArgumentException($"reshape: {Shape} to [{string.Join(", ", dims.ToArray())}]: only one dimension may be -1");
                infer = i;
            }
            else known *= d[i];
        }
        if (infer >= 0)
        {
            if (known == 0 || Numel % known != 0)
                throw new ArgumentException($"reshape: cannot reshape {Shape} ({Numel} elements) to [{string.Join(", ", dims.ToArray())}]");
            d[infer] = (int)(Numel / known);
        }
        var shape = new Shape(d);
        return Reshape(shape);
    }

    public Tensor Reshape(Shape shape)
    {
        if (shape.Numel != Numel)
            throw new ArgumentException($"reshape: cannot reshape {Shape} ({Numel} elements) to {shape} ({shape.Numel} elements)");
        if (!IsContiguous)
        {
            using var c = Contiguous();
            return c.Reshape(shape);
        }
        return NewView(shape, shape.ContiguousStrides(), Offset);
    }

    /// <summary>Flattens dimensions startAxis..end into one.</summary>
    public Tensor Flatten(int startAxis = 1)
    {
        int start = Shape.Normalize(startAxis);
        Span<int> d = stackalloc int[start + 1];
        for (int i = 0; i < start; i++) d[i] = Shape[i];
        long rest = 1;
        for (int i = start; i < Rank; i++) rest *= Shape[i];
        d[start] = (int)rest;
        return Reshape(new Shape(d));
    }

    public Tensor Permute(params ReadOnlySpan<int> order)
    {
        if (order.Length != Rank) throw new ArgumentException($"permute: order [{string.Join(", ", order.ToArray())}] has {order.Length} axes, tensor {Shape} has {Rank}");
        Span<int> d = stackalloc int[Rank];
        var strides = new Strides8();
        int seen = 0;
        for (int i = 0; i < Rank; i++)
        {
            int a = Shape.Normalize(order[i]);
            if ((seen & (1 << a)) != 0) throw new ArgumentException($"permute: axis {a} repeated in [{string.Join(", ", order.ToArray())}]");
            seen |= 1 << a;
            d[i] = Shape[a];
            strides[i] = _strides[a];
        }
        return NewView(new Shape(d), strides, Offset);
    }

    public Tensor Transpose(int axis0, int axis1)
    {
        Span<int> order = stackalloc int[Rank];
        for (int i = 0; i < Rank; i++) order[i] = i;
        int a = Shape.Normalize(axis0), b = Shape.Normalize(axis1);
        (order[a], order[b]) = (order[b], order[a]);
        return Permute(order);
    }

    /// <summary>Elements start, start+step, ... (length of them) along an axis.</summary>
    public Tensor Slice(int axis, int start, int length, int step = 1)
    {
        int a = Shape.Normalize(axis);
        if (step < 1 || start < 0 || length < 0 || (length > 0 && start + (long)(length - 1) * step >= Shape[a]))
            throw new ArgumentOutOfRangeException(nameof(start), $"slice: axis {a} of {Shape}: start {start}, length {length}, step {step} is out of range (size {Shape[a]})");
        var strides = _strides;
        strides[a] *= step;
        return NewView(Shape.With(a, length), strides, Offset + start * _strides[a]);
    }

    /// <summary>Broadcasts size-1 dimensions (and new leading ones) to the target shape without copying.</summary>
    public Tensor Expand(Shape target)
    {
        if (target.Rank < Rank) throw new ArgumentException($"expand: cannot expand {Shape} to lower-rank {target}");
        var strides = new Strides8();
        int lead = target.Rank - Rank;
        for (int i = 0; i < target.Rank; i++)
        {
            if (i < lead) { strides[i] = 0; continue; }
            int size = Shape[i - lead];
            if (size == target[i]) strides[i] = _strides[i - lead];
            else if (size == 1) strides[i] = 0;
            else throw new ArgumentException($"expand: cannot expand {Shape} to {target} (dimension {i}: {size} is neither {target[i]} nor 1)");
        }
        return NewView(target, strides, Offset);
    }

    public Tensor Unsqueeze(int axis)
    {
        int a = axis < 0 ? axis + Rank + 1 : axis;
        if (a < 0 || a > Rank) throw new ArgumentOutOfRangeException(nameof(axis), $"unsqueeze: axis {axis} out of range for {Shape}");
        Span<int> d = stackalloc int[Rank + 1];
        var strides = new Strides8();
        for (int i = 0, j = 0; i <= Rank; i++)
        {
            if (i == a) { d[i] = 1; strides[i] = 0; continue; }
            d[i] = Shape[j]; strides[i] = _strides[j]; j++;
        }
        return NewView(new Shape(d), strides, Offset);
    }

    public Tensor Squeeze(int axis)
    {
        int a = Shape.Normalize(axis);
        if (Shape[a] != 1) throw new ArgumentException($"squeeze: axis {a} of {Shape} has size {Shape[a]} (expected 1)");
        Span<int> d = stackalloc int[Rank - 1];
        var strides = new Strides8();
        for (int i = 0, j = 0; i < Rank; i++)
        {
            if (i == a) continue;
            d[j] = Shape[i]; strides[j] = _strides[i]; j++;
        }
        return NewView(new Shape(d), strides, Offset);
    }

    /// <summary>This tensor when already contiguous (as a new handle), else a contiguous copy.</summary>
    public Tensor Contiguous() => IsContiguous ? Share() : Clone();

    /// <summary>A contiguous copy.</summary>
    public Tensor Clone()
    {
        var t = Empty(Shape, DType, Backend);
        using (Diagnostics.OpProfiler.Measure("copy", Backend)) Backend.Copy(View, t.View);
        return t;
    }

    /// <summary>A copy of this tensor on <paramref name="backend"/> (through the host when it is another device).</summary>
    public Tensor To(Backends.IBackend backend)
    {
        if (backend == Backend) return Clone();
        return DType switch
        {
            DType.Float32 => FromArray<float>(ToArray<float>(), Shape, backend),
            DType.Float64 => FromArray<double>(ToArray<double>(), Shape, backend),
            DType.Int32 => FromArray<int>(ToArray<int>(), Shape, backend),
            _ => FromArray<long>(ToArray<long>(), Shape, backend),
        };
    }

    /// <summary>A copy of this tensor on <paramref name="device"/> (see <see cref="Devices.Open(Device)"/>).</summary>
    public Tensor To(Device device) => To(Devices.Open(device));

    /// <summary>Copies src (broadcast to this shape) into this tensor in place.</summary>
    public Tensor CopyFrom(Tensor src)
    {
        CheckSameDevice(src, "copy_from");
        if (src.DType != DType) throw new ArgumentException($"copy_from: dtype {src.DType} into {DType}");
        using var b = src.Shape == Shape ? src.Share() : src.Expand(Shape);
        Backend.Copy(b.View, View);
        return this;
    }

    private void CheckSameDevice(Tensor other, string op)
    {
        if (other.Backend != Backend)
            throw new ArgumentException($"{op}: tensors are on different devices ({Device} and {other.Device}); move one with To(device) first");
    }
}
