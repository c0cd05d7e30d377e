// Tensor: a device buffer (shared, reference-counted) plus a layout — shape, element strides, element offset —
// and a dtype. Views (Tensor.Views.cs) share the buffer and never copy. Ops are grouped by family in partial files
// and all reach the device through the narrow IBackend contract, after validating their arguments here.
using Standalone.Backends;
using Standalone.Backends.Cpu;

namespace Standalone;

public sealed partial class Tensor : IDisposable
{
    private readonly Storage _storage;
    private readonly Strides8 _strides;
    private bool _disposed;

    /// <summary>The backend new tensors are created on when none is given (the CPU unless changed).</summary>
    public static IBackend DefaultBackend { get; set; } = CpuBackend.Instance;

    private Tensor(Storage storage, Shape shape, Strides8 strides, long offset)
    {
        _storage = storage;
        Shape = shape;
        _strides = strides;
        Offset = offset;
        TensorScope.Register(this);
    }

    public Shape Shape { get; }
    public long Offset { get; }
    public DType DType => _storage.Buffer.DType;
    public IBackend Backend => _storage.Buffer.Backend;
    public Device Device => Backend.Device;
    public int Rank => Shape.Rank;
    public long Numel => Shape.Numel;
    public long Stride(int axis) => _strides[Shape.Normalize(axis)];

    /// <summary>What the backend sees: the buffer and this tensor's layout.</summary>
    public TensorView View
    {
        get
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            return new TensorView(_storage.Buffer, Shape, _strides, Offset);
        }
    }

    public bool IsContiguous => View.IsContiguous;

    // ---- creation -------------------------------------------------------------------------------------------

    /// <summary>An uninitialised contiguous tensor.</summary>
    public static Tensor Empty(Shape shape, DType dtype = DType.Float32, IBackend? backend = null)
    {
        backend ??= DefaultBackend;
        var buffer = backend.Allocate(dtype, Math.Max(1, shape.Numel));
        return new Tensor(new Storage(buffer), shape, shape.ContiguousStrides(), 0);
    }

    public static Tensor Full(Shape shape, double value, DType dtype = DType.Float32, IBackend? backend = null)
    {
        var t = Empty(shape, dtype, backend);
        t.Backend.Fill(t.View, value);
        return t;
    }

    public static Tensor Zeros(Shape shape, DType dtype = DType.Float32, IBackend? backend = null) => Full(shape, 0, dtype, backend);
    public static Tensor Ones(Shape shape, DType dtype = DType.Float32, IBackend? backend = null) => Full(shape, 1, dtype, backend);
    public static Tensor ZerosLike(Tensor t) => Zeros(t.Shape, t.DType, t.Backend);
    public static Tensor EmptyLike(Tensor t) => Empty(t.Shape, t.DType, t.Backend);

    public static Tensor Scalar(double value, DType dtype = DType.Float32, IBackend? backend = null) => Full(new Shape(), value, dtype, backend);

    /// <summary>Copies host data into a new tensor of the given shape (row-major).</summary>
    public static Tensor FromArray<T>(ReadOnlySpan<T> data, Shape shape, IBackend? backend = null) where T : unmanaged
    {
        if (data.Length != shape.Numel)
            throw new ArgumentException($"from_array: {data.Length} values cannot fill shape {shape} (expected {shape.Numel})");
        var t = Empty(shape, DTypeExtensions.Of<T>(), backend);
        t.Backend.Upload(data, t._storage.Buffer, 0);
        return t;
    }

    public static Tensor FromArray<T>(T[] data, params int[] shape) where T : unmanaged =>
        FromArray<T>(data, shape.Length == 0 && data.Length != 1 ? new Shape(data.Length) : new Shape(shape));

    // ---- data out -------------------------------------------------------------------------------------------

    /// <summary>Copies the elements to a new host array in row-major order (synchronizes).</summary>
    public T[] ToArray<T>() where T : unmanaged
    {
        if (DTypeExtensions.Of<T>() != DType)
            throw new InvalidOperationException($"to_array: tensor holds {DType}, requested {typeof(T).Name}");
        var result = new T[Numel];
        CopyTo<T>(result);
        return result;
    }

    /// <summary>Copies the elements into a host span in row-major order (synchronizes).</summary>
    public void CopyTo<T>(Span<T> destination) where T : unmanaged
    {
        if (destination.Length != Numel) throw new ArgumentException($"copy_to: destination holds {destination.Length} values, tensor {Shape} has {Numel}");
        if (IsContiguous) { Backend.Download(_storage.Buffer, Offset, destination); return; }
        using var c = Contiguous();
        Backend.Download(c._storage.Buffer, c.Offset, destination);
    }

    public float[] ToFloatArray() => DType == DType.Float32 ? ToArray<float>() : Array.ConvertAll(ToDoubleArray(), x => (float)x);

    public double[] ToDoubleArray() => DType switch
    {
        DType.Float64 => ToArray<double>(),
        DType.Float32 => Array.ConvertAll(ToArray<float>(), x => (double)x),
        DType.Int32 => Array.ConvertAll(ToArray<int>(), x => (double)x),
        _ => Array.ConvertAll(ToArray<long>(), x => (double)x),
    };

    /// <summary>The value of a one-element tensor.</summary>
    public double Item()
    {
        if (Numel != 1) throw new InvalidOperationException($"item: tensor of shape {Shape} has {Numel} elements (expected 1)");
        return ToDoubleArray()[0];
    }

    /// <summary>Converts to another dtype (a copy; through the host — for tests, checkpoints and labels).</summary>
    public Tensor To(DType dtype)
    {
        if (dtype == DType) return Clone();
        var values = ToDoubleArray();
        return dtype switch
        {
            DType.Float32 => FromArray<float>(Array.ConvertAll(values, x => (float)x), Shape, Backend),
            DType.Float64 => FromArray<double>(values, Shape, Backend),
            DType.Int32 => FromArray<int>(Array.ConvertAll(values, x => checked((int)x)), Shape, Backend),
            _ => FromArray<long>(Array.ConvertAll(values, x => checked((long)x)), Shape, Backend),
        };
    }

    // ---- lifetime -------------------------------------------------------------------------------------------

    /// <summary>Another handle on the same storage and layout (one more reference to the buffer).</summary>
    public Tensor Share() => NewView(Shape, _strides, Offset);

    private Tensor NewView(Shape shape, Strides8 strides, long offset)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        _storage.AddReference();
        return new Tensor(_storage, shape, strides, offset);
    }

    public bool IsDisposed => _disposed;

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        _storage.RemoveReference();
    }

    public override string ToString() => $"Tensor{Shape} {DType} on {Device}";
}
