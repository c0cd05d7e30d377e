// Seeded random fills. Values are drawn on the host by Rng and uploaded, so a seed gives the same tensor on
// every backend.
using Standalone.Backends;

namespace Standalone;

public sealed partial class Tensor
{
    public static Tensor RandomUniform(Shape shape, double low, double high, Rng rng, DType dtype = DType.Float32, IBackend? backend = null) =>
        FromHost(shape, dtype, backend, _ => low + (high - low) * rng.NextDouble());

    public static Tensor RandomNormal(Shape shape, double mean, double std, Rng rng, DType dtype = DType.Float32, IBackend? backend = null) =>
        FromHost(shape, dtype, backend, _ => mean + std * rng.NextNormal());

    /// <summary>1 with probability p, else 0.</summary>
    public static Tensor Bernoulli(Shape shape, double p, Rng rng, DType dtype = DType.Float32, IBackend? backend = null) =>
        FromHost(shape, dtype, backend, _ => rng.NextDouble() < p ? 1.0 : 0.0);

    private static Tensor FromHost(Shape shape, DType dtype, IBackend? backend, Func<long, double> value)
    {
        long n = shape.Numel;
        if (dtype == DType.Float64)
        {
            var d = new double[n];
            for (long i = 0; i < n; i++) d[i] = value(i);
            return FromArray<double>(d, shape, backend);
        }
        if (dtype != DType.Float32) throw new ArgumentException($"random fills produce Float32 or Float64, not {dtype}");
        var f = new float[n];
        for (long i = 0; i < n; i++) f[i] = (float)value(i);
        return FromArray<float>(f, shape, backend);
    }
}
