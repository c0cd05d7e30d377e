// Shape: up to MaxRank dimensions stored inline, so creating tensors and views allocates no arrays.
using System.Runtime.CompilerServices;
using System.Text;

namespace Standalone;

[InlineArray(Shape.MaxRank)]
public struct Dims8 { private int _element; }

[InlineArray(Shape.MaxRank)]
public struct Strides8 { private long _element; }

public readonly struct Shape : IEquatable<Shape>
{
    public const int MaxRank = 8;
    private readonly Dims8 _dims;
    public int Rank { get; }

    public Shape(params ReadOnlySpan<int> dims)
    {
        if (dims.Length > MaxRank) throw new ArgumentException($"rank {dims.Length} exceeds the maximum of {MaxRank}");
        Rank = dims.Length;
        for (int i = 0; i < dims.Length; i++)
        {
            if (dims[i] < 0) throw new ArgumentException($"shape {Format(dims)} has a negative dimension");
            _dims[i] = dims[i];
        }
    }

    public int this[int axis] => _dims[Normalize(axis)];

    /// <summary>Number of elements (1 for a scalar).</summary>
    public long Numel
    {
        get { long n = 1; for (int i = 0; i < Rank; i++) n *= _dims[i]; return n; }
    }

    public int Normalize(int axis)
    {
        int a = axis < 0 ? axis + Rank : axis;
        if (a < 0 || a >= Rank) throw new ArgumentOutOfRangeException(nameof(axis), $"axis {axis} is out of range for shape {this}");
        return a;
    }

    public int[] ToArray()
    {
        var a = new int[Rank];
        for (int i = 0; i < Rank; i++) a[i] = _dims[i];
        return a;
    }

    /// <summary>Copies the dimensions into a span (no allocation).</summary>
    public void CopyTo(Span<int> dst) { for (int i = 0; i < Rank; i++) dst[i] = _dims[i]; }

    public Shape With(int axis, int size)
    {
        Span<int> d = stackalloc int[Rank];
        CopyTo(d);
        d[Normalize(axis)] = size;
        return new Shape(d);
    }

    /// <summary>Row-major (C-order) strides for this shape.</summary>
    public Strides8 ContiguousStrides()
    {
        var s = new Strides8();
        long acc = 1;
        for (int i = Rank - 1; i >= 0; i--) { s[i] = acc; acc *= _dims[i]; }
        return s;
    }

    public bool Equals(Shape other)
    {
        if (Rank != other.Rank) return false;
        for (int i = 0; i < Rank; i++) if (_dims[i] != other._dims[i]) return false;
        return true;
    }

    public override bool Equals(object? obj) => obj is Shape s && Equals(s);
    public override int GetHashCode()
    {
        var h = new HashCode();
        for (int i = 0; i < Rank; i++) h.Add(_dims[i]);
        return h.ToHashCode();
    }
    public static bool operator ==(Shape a, Shape b) => a.Equals(b);
    public static bool operator !=(Shape a, Shape b) => !a.Equals(b);

    public override string ToString()
    {
        Span<int> d = stackalloc int[Rank];
        CopyTo(d);
        return Format(d);
    }

    private static string Format(ReadOnlySpan<int> dims)
    {
        var sb = new StringBuilder("[");
        for (int i = 0; i < dims.Length; i++) { if (i > 0) sb.Append(", "); sb.Append(dims[i]); }
        return sb.Append(']').ToString();
    }

    public static implicit operator Shape(int[] dims) => new(dims);

    /// <summary>NumPy broadcasting of two shapes; throws naming the op and both shapes when they don't broadcast.</summary>
    public static Shape Broadcast(Shape a, Shape b, string op)
    {
        int rank = Math.Max(a.Rank, b.Rank);
        Span<int> d = stackalloc int[rank];
        for (int i = 0; i < rank; i++)
        {
            int da = i - (rank - a.Rank) >= 0 ? a[i - (rank - a.Rank)] : 1;
            int db = i - (rank - b.Rank) >= 0 ? b[i - (rank - b.Rank)] : 1;
            if (da != db && da != 1 && db != 1)
                throw new ArgumentException($"{op}: shapes {a} and {b} do not broadcast (dimension {i}: {da} vs {db}; expected equal sizes or 1)");
            d[i] = Math.Max(da, db);
        }
        return new Shape(d);
    }
}
