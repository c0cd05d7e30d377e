// Element types a tensor can hold. Float32 is the working type; Float64 exists on the CPU backend for
// double-precision gradient checks; Int32/Int64 hold labels and indices.
namespace Standalone;

public enum DType { Float32, Float64, Int32, Int64 }

public static class DTypeExtensions
{
    public static int Size(this DType dtype) => dtype switch
    {
        DType.Float32 or DType.Int32 => 4,
        DType.Float64 or DType.Int64 => 8,
        _ => throw new ArgumentOutOfRangeException(nameof(dtype), dtype, "unknown dtype"),
    };

    public static bool IsFloat(this DType dtype) => dtype is DType.Float32 or DType.Float64;

    public static DType Of<T>() where T : unmanaged
    {
        if (typeof(T) == typeof(float)) return DType.Float32;
        if (typeof(T) == typeof(double)) return DType.Float64;
        if (typeof(T) == typeof(int)) return DType.Int32;
        if (typeof(T) == typeof(long)) return DType.Int64;
        throw new NotSupportedException($"{typeof(T).Name} is not a tensor element type (expected float, double, int or long)");
    }
}
