// Comparing a float32 result of a sum of products (GEMM, convolution) with a float64 reference. Rounding error of such
// a sum grows with the sum of the magnitudes of its terms, not with the result (terms may cancel), so each element is
// allowed tolerance × Σ|term|, where Σ|term| is the same operation applied to the operands' absolute values.
namespace Standalone.Tests.Support;

public static class SumAssert
{
    private const int MaxReported = 5;

    /// <summary>Floor of the allowed error, for elements whose terms are all zero.</summary>
    private const double AbsoluteFloor = 1e-30;

    /// <summary>
    /// Asserts |actual − expected| ≤ tolerance·magnitude + floor element-wise (NaN/∞ in expected must match exactly);
    /// a failure lists the first mismatches and the largest error relative to the magnitude.
    /// </summary>
    public static void Within(Tensor actual, Tensor expected, Tensor magnitude, double tolerance, string what)
    {
        Assert.That(actual.Shape, Is.EqualTo(expected.Shape), $"{what}: shape");
        var a = actual.ToDoubleArray();
        var e = expected.ToDoubleArray();
        var scale = magnitude.ToDoubleArray();
        var mismatches = new List<string>();
        int failures = 0;
        double worst = 0;
        for (int i = 0; i < a.Length; i++)
        {
            bool ok;
            if (double.IsNaN(e[i]) || double.IsInfinity(e[i])) ok = a[i].Equals(e[i]);
            else
            {
                double error = Math.Abs(a[i] - e[i]);
                worst = Math.Max(worst, error / Math.Max(scale[i], AbsoluteFloor));
                ok = error <= tolerance * scale[i] + AbsoluteFloor;
            }
            if (ok) continue;
            if (failures++ < MaxReported) mismatches.Add($"  [{i}] actual {a[i]:G9}, expected {e[i]:G9} (Σ|term| {scale[i]:G4})");
        }
        if (failures > 0)
            Assert.Fail($"{what}: {failures} of {a.Length} elements differ by more than {tolerance:G2}·Σ|term| (largest {worst:G3}·Σ|term|); first mismatches:\n{string.Join("\n", mismatches)}");
    }
}
