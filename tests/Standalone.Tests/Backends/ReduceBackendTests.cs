// Reduce and ArgMax on every backend against the CPU backend, through the Tensor API: every axis subset of rank-4
// tensors with odd sizes, reductions long enough to be split into chunks and folded twice (batch statistics over
// [0, 2, 3], a full sum, a sum over a long batch), NaN and infinities in Max / Min, and ArgMax on every axis with ties,
// NaNs, −∞ rows and rows longer than a work group.
using Standalone.Backends;
using Standalone.Tests.Support;

namespace Standalone.Tests.Backends;

[TestFixtureSource(typeof(TestBackends), nameof(TestBackends.All))]
public sealed class ReduceBackendTests(string device) : BackendTest(device)
{
    /// <summary>
    /// Float32 sums differ from the CPU's only in the order of the additions: allowed |Δ| = SumTolerance·Σ|x| over the
    /// same elements (a few hundred ulps of the largest partial sum for reductions of 10⁵ elements).
    /// </summary>
    private const double SumTolerance = 1e-5;

    private static Tensor Random(Shape shape, int seed) => Tensor.RandomUniform(shape, -2, 2, new Rng((ulong)seed), backend: Cpu);

    /// <summary>Values k/2 for integers k in [−4, 4]: every element ties with many others.</summary>
    private static Tensor Quantized(Shape shape, int seed)
    {
        var random = new Random(seed);
        var data = new float[shape.Numel];
        for (int i = 0; i < data.Length; i++) data[i] = random.Next(-4, 5) / 2f;
        return Tensor.FromArray<float>(data, shape, Cpu);
    }

    private static int[] Axes(int mask, int rank) => [.. Enumerable.Range(0, rank).Where(i => (mask >> i & 1) != 0)];

    private static Tensor Reduce(Tensor x, ReduceOp op, int[] axes) => op switch
    {
        ReduceOp.Sum => x.Sum(axes, keepDims: true),
        ReduceOp.Max => x.Max(axes, keepDims: true),
        _ => x.Min(axes, keepDims: true),
    };

    /// <summary>Reduces x over axes on the CPU and on the backend under test and compares them.</summary>
    private void AssertReduceMatches(Tensor x, ReduceOp op, int[] axes)
    {
        string what = $"{op} of {x.Shape} over [{string.Join(", ", axes)}]";
        using var expected = Reduce(x, op, axes);
        using var onDevice = OnDevice(x);
        using var actual = Reduce(onDevice, op, axes);
        Assert.That(actual.Device, Is.EqualTo(Backend.Device), what);
        if (op != ReduceOp.Sum)
        {
            BackendAssert.Close(actual, expected, 0, what); // Max and Min are exact whatever the order
            return;
        }
        using var magnitude = x.Apply(UnaryOp.Abs);
        using var scale = magnitude.Sum(axes, keepDims: true);
        BackendAssert.Close(actual, expected, Array.ConvertAll(scale.ToDoubleArray(), s => SumTolerance * s + 1e-30), what);
    }

    [Test]
    public void EveryAxisSubsetOfRank4MatchesTheCpu([Values] ReduceOp op)
    {
        foreach (var shape in new[] { new Shape(3, 4, 5, 6), new Shape(2, 1, 5, 3), new Shape(7, 3, 1, 13) })
        {
            using var x = Random(shape, 1);
            for (int mask = 1; mask < 16; mask++) AssertReduceMatches(x, op, Axes(mask, 4));
        }
    }

    [Test]
    public void LongReductionsSplitIntoChunksMatchTheCpu([Values] ReduceOp op)
    {
        using var images = Random(new Shape(64, 3, 33, 31), 2);
        AssertReduceMatches(images, op, [0, 2, 3]); // batch statistics: 3 outputs of 65,472
        AssertReduceMatches(images, op, [0, 1, 2, 3]); // everything
        AssertReduceMatches(images, op, [1, 2, 3]); // per image
        AssertReduceMatches(images, op, [0]); // over the batch, innermost dim kept
        AssertReduceMatches(images, op, [0, 2]); // reduced and kept dims alternating
        using var batch = Random(new Shape(40_001, 3), 3);
        AssertReduceMatches(batch, op, [0]); // few outputs, long strided reduction
        using var rows = Random(new Shape(3, 100_003), 4);
        AssertReduceMatches(rows, op, [1]);
    }

    [Test]
    public void MaxAndMinPropagateNaNAndKeepInfinities([Values(ReduceOp.Max, ReduceOp.Min)] ReduceOp op)
    {
        var shape = new Shape(4, 5, 6, 7);
        using var random = Random(shape, 5);
        var data = random.ToFloatArray();
        data[17] = float.NaN;
        data[400] = float.NaN;
        data[401] = float.PositiveInfinity;
        data[803] = float.NegativeInfinity;
        using var x = Tensor.FromArray<float>(data, shape, Cpu);
        for (int mask = 1; mask < 16; mask++) AssertReduceMatches(x, op, Axes(mask, 4));
        using var nan = Tensor.FromArray<float>(Enumerable.Repeat(float.NaN, 300).ToArray(), new Shape(300), Cpu);
        AssertReduceMatches(nan, op, [0]);
    }

    [Test]
    public void ArgMaxMatchesTheCpuOnEveryAxisWithTies()
    {
        using var x = Quantized(new Shape(5, 7, 9), 6);
        using var onDevice = OnDevice(x);
        foreach (int axis in new[] { 0, 1, 2, -1 })
        {
            using var expected = x.ArgMax(axis);
            using var actual = onDevice.ArgMax(axis);
            BackendAssert.Close(actual, expected, 0, $"argmax over axis {axis}");
        }
    }

    [Test]
    public void ArgMaxTakesTheFirstNaNOrElseTheFirstMaximum()
    {
        const float nan = float.NaN, inf = float.PositiveInfinity;
        float[] data =
        [
            1, 3, 3, 2, // first of a tie → 1
            0, nan, 5, nan, // first NaN → 1
            -inf, -inf, -inf, -inf, // all −∞ → 0
            -0f, 0, -1, -2, // −0 == 0, first → 0
            2, 1, inf, inf, // first +∞ → 2
        ];
        using var x = Tensor.FromArray<float>(data, new Shape(5, 4), Cpu);
        using var onDevice = OnDevice(x);
        using var actual = onDevice.ArgMax(1);
        Assert.That(actual.ToArray<long>(), Is.EqualTo(new long[] { 1, 1, 0, 0, 2 }));
        using var expected = x.ArgMax(1);
        Assert.That(expected.ToArray<long>(), Is.EqualTo(new long[] { 1, 1, 0, 0, 2 }), "the CPU oracle itself");
    }

    [Test]
    public void ArgMaxOfRowsLongerThanAWorkGroupFindsTheFirstMaximum()
    {
        var shape = new Shape(4, 1000);
        using var random = Random(shape, 7);
        var data = random.ToFloatArray();
        // Row 0: a tie at 300 and 700 (items far apart in a group); row 1: the maximum at the last element; row 2: NaN
        // at 999 and 513; row 3: the plain random row.
        data[300] = data[700] = 10;
        data[1000 + 999] = 10;
        data[2000 + 999] = data[2000 + 513] = float.NaN;
        using var x = Tensor.FromArray<float>(data, shape, Cpu);
        using var onDevice = OnDevice(x);
        using var actual = onDevice.ArgMax(1);
        using var expected = x.ArgMax(1);
        BackendAssert.Close(actual, expected, 0, "argmax of long rows");
        Assert.That(actual.ToArray<long>()[..3], Is.EqualTo(new long[] { 300, 999, 513 }));
    }
}
