// Element-wise comparison of a backend's result with the CPU oracle's, for the backend fixtures: NaN must meet NaN and
// an infinity the same infinity; finite values may differ by an allowed amount per element. A failure lists the first
// mismatches and the largest difference, so one run shows whether an error is a tail, an index or a tolerance.
using System.Text;

namespace Standalone.Tests.Backends;

public static class BackendAssert
{
    private const int MismatchesShown = 8;

    /// <summary>|actual − expected| ≤ relative·max(1, |expected|) for every element.</summary>
    public static void Close(Tensor actual, Tensor expected, double relative, string what)
    {
        var e = expected.ToDoubleArray();
        Close(actual, expected, Array.ConvertAll(e, v => relative * Math.Max(1, Math.Abs(v))), what);
    }

    /// <summary>|actual − expected| ≤ allowed[i] for every element i.</summary>
    public static void Close(Tensor actual, Tensor expected, double[] allowed, string what)
    {
        Assert.That(actual.Shape, Is.EqualTo(expected.Shape), $"{what}: shape");
        Assert.That(actual.DType, Is.EqualTo(expected.DType), $"{what}: dtype");
        var a = actual.ToDoubleArray();
        var e = expected.ToDoubleArray();
        var report = new StringBuilder();
        int mismatches = 0;
        double maxDifference = 0;
        for (int i = 0; i < a.Length; i++)
        {
            bool same = double.IsNaN(e[i]) || double.IsInfinity(e[i]) ? a[i].Equals(e[i]) : Math.Abs(a[i] - e[i]) <= allowed[i];
            if (double.IsFinite(e[i]) && double.IsFinite(a[i])) maxDifference = Math.Max(maxDifference, Math.Abs(a[i] - e[i]));
            if (same) continue;
            if (mismatches++ < MismatchesShown) report.Append($"\n  [{i}] {a[i]:R}, expected {e[i]:R} (allowed ±{allowed[i]:G3})");
        }
        if (mismatches > 0)
            Assert.Fail($"{what}: {mismatches} of {a.Length} elements differ, the largest finite difference {maxDifference:G3}:{report}");
    }
}
