// Pooling, the per-channel batch-norm primitives and the index primitives on every backend against the CPU backend,
// through the Tensor API: max / average pooling forward and backward over strides, paddings, rectangular and
// image-sized windows (with ties and NaN for the argmax); channel statistics, affine maps (with and without the second
// input and its scale, with ReLU gates) and gradient sums (with gates, and the gate recomputed from a fused ReLU's input
// against its output) on odd [N, C, H, W] sizes, large means and sizes that split channels into
// chunks; gather / scatter-add columns with repeated columns and out-of-range indices; index_select on every axis and
// every dtype a device holds.
using Standalone.Backends;
using Standalone.Tests.Support;

namespace Standalone.Tests.Backends;

[TestFixtureSource(typeof(TestBackends), nameof(TestBackends.All))]
public sealed class PoolNormIndexBackendTests(string device) : BackendTest(device)
{
    /// <summary>Allowed |Δ| / max(1, |expected|) where only the order or fusing of Float32 operations differs.</summary>
    private const double Float32Tolerance = 2e-6;
    /// <summary>
    /// Sums over a channel's N·S elements (up to ~10⁵ terms) added in another order: mean and variance relative to
    /// max(1, |expected|); gradient sums relative to Σ|term|.
    /// </summary>
    private const double ChannelSumTolerance = 1e-5;

    private static Tensor Random(Shape shape, int seed, double low = -2, double high = 2) =>
        Tensor.RandomUniform(shape, low, high, new Rng((ulong)seed), backend: Cpu);

    /// <summary>Values k/2 for integers k in [−4, 4]: windows hold ties, so the argmax must take the first maximum.</summary>
    private static Tensor Quantized(Shape shape, int seed)
    {
        var random = new Random(seed);
        var data = new float[shape.Numel];
        for (int i = 0; i < data.Length; i++) data[i] = random.Next(-4, 5) / 2f;
        return Tensor.FromArray<float>(data, shape, Cpu);
    }

    // ---- pooling ----

    /// <summary>(window, input height, input width): strides, paddings up to half the kernel, a rectangular window, a window the size of the image.</summary>
    private static readonly object[] PoolCases =
    [
        new object[] { new Pool2dParams(2, 2, 2, 2, 0, 0), 9, 11 },
        new object[] { new Pool2dParams(3, 3, 2, 2, 1, 1), 9, 11 },
        new object[] { new Pool2dParams(3, 3, 1, 1, 1, 1), 8, 7 },
        new object[] { new Pool2dParams(3, 2, 2, 1, 1, 0), 10, 9 },
        new object[] { new Pool2dParams(2, 2, 1, 1, 1, 1), 5, 6 },
        new object[] { new Pool2dParams(5, 5, 3, 3, 2, 2), 9, 11 },
        new object[] { new Pool2dParams(7, 7, 1, 1, 0, 0), 7, 7 },
    ];

    [TestCaseSource(nameof(PoolCases))]
    public void PoolingForwardAndBackwardMatchTheCpu(Pool2dParams p, int h, int w)
    {
        using var x = Quantized(new Shape(2, 3, h, w), 11);
        using var onDevice = OnDevice(x);
        foreach (var kind in new[] { PoolKind.Max, PoolKind.Average })
        {
            string what = $"{kind} pool {p} on {x.Shape}";
            var (expected, expectedIndices) = Tensor.Pool2d(kind, x, p);
            var (actual, actualIndices) = Tensor.Pool2d(kind, onDevice, p);
            using (expected)
            using (expectedIndices)
            using (actual)
            using (actualIndices)
            {
                BackendAssert.Close(actual, expected, kind == PoolKind.Max ? 0 : Float32Tolerance, what);
                if (kind == PoolKind.Max) BackendAssert.Close(actualIndices!, expectedIndices!, 0, $"{what}: indices");
                else Assert.That(actualIndices, Is.Null);

                using var dy = Random(expected.Shape, 12);
                using var dyOnDevice = OnDevice(dy);
                using var expectedDx = Tensor.Pool2dBackward(kind, dy, expectedIndices, x.Shape, p);
                using var actualDx = Tensor.Pool2dBackward(kind, dyOnDevice, actualIndices, x.Shape, p);
                BackendAssert.Close(actualDx, expectedDx, Float32Tolerance, $"{what}: backward");
            }
        }
    }

    [Test]
    public void MaxPoolingLetsNaNWinItsWindow()
    {
        var shape = new Shape(1, 2, 6, 6);
        using var random = Random(shape, 13);
        var data = random.ToFloatArray();
        data[7] = float.NaN; // one window of the first plane
        data[36 + 14] = data[36 + 15] = float.NaN; // two NaNs in one window of the second plane: the first wins
        using var x = Tensor.FromArray<float>(data, shape, Cpu);
        using var onDevice = OnDevice(x);
        var p = new Pool2dParams(3, 3, 2, 2, 1, 1);
        var (expected, expectedIndices) = Tensor.Pool2d(PoolKind.Max, x, p);
        var (actual, actualIndices) = Tensor.Pool2d(PoolKind.Max, onDevice, p);
        using (expected)
        using (expectedIndices)
        using (actual)
        using (actualIndices)
        {
            Assert.That(expected.ToDoubleArray().Count(double.IsNaN), Is.GreaterThan(0), "the case must put NaN in some window");
            BackendAssert.Close(actual, expected, 0, "max pool with NaN");
            BackendAssert.Close(actualIndices!, expectedIndices!, 0, "max pool with NaN: indices");
        }
    }

    // ---- per-channel statistics, affine maps, gradient sums ----

    private static readonly Shape[] ChannelShapes =
    [
        new(5, 3, 7, 9),
        new(1, 4, 1, 1),
        new(6, 4),
        new(3, 2, 5),
        new(64, 3, 33, 17),
    ];

    [Test]
    public void ChannelMeanVarMatchesTheCpu([ValueSource(nameof(ChannelShapes))] Shape shape, [Values(0, 100)] double mean)
    {
        using var x = Random(shape, 21, mean - 1, mean + 1);
        using var onDevice = OnDevice(x);
        var (expectedMean, expectedVariance) = x.ChannelMeanVar();
        var (actualMean, actualVariance) = onDevice.ChannelMeanVar();
        using (expectedMean)
        using (expectedVariance)
        using (actualMean)
        using (actualVariance)
        {
            BackendAssert.Close(actualMean, expectedMean, ChannelSumTolerance, $"mean of {shape} around {mean}");
            BackendAssert.Close(actualVariance, expectedVariance, ChannelSumTolerance, $"variance of {shape} around {mean}");
        }
    }

    [Test]
    public void ChannelAffineMatchesTheCpu([ValueSource(nameof(ChannelShapes))] Shape shape)
    {
        int channels = shape[1];
        using var x = Random(shape, 22);
        using var x2 = Random(shape, 23);
        using var scale = Random(new Shape(channels), 24);
        using var shift = Random(new Shape(channels), 25);
        using var scale2 = Random(new Shape(channels), 26);
        using var dx = OnDevice(x);
        using var dx2 = OnDevice(x2);
        using var dScale = OnDevice(scale);
        using var dShift = OnDevice(shift);
        using var dScale2 = OnDevice(scale2);
        using (var expected = Tensor.ChannelAffine(x, scale, shift))
        using (var actual = Tensor.ChannelAffine(dx, dScale, dShift))
            BackendAssert.Close(actual, expected, Float32Tolerance, $"affine of {shape}");
        using (var expected = Tensor.ChannelAffine(x, scale, shift, x2, scale2))
        using (var actual = Tensor.ChannelAffine(dx, dScale, dShift, dx2, dScale2))
            BackendAssert.Close(actual, expected, Float32Tolerance, $"affine of {shape} plus a scaled second input");
        using (var expected = Tensor.ChannelAffine(x, scale, shift, x2))
        using (var actual = Tensor.ChannelAffine(dx, dScale, dShift, dx2))
            BackendAssert.Close(actual, expected, Float32Tolerance, $"affine of {shape} plus a second input");
        using (var expected = Tensor.ChannelAffine(x, scale, shift, x2, scale2, gate: new ReluGate(x2)))
        using (var actual = Tensor.ChannelAffine(dx, dScale, dShift, dx2, dScale2, gate: new ReluGate(dx2)))
            BackendAssert.Close(actual, expected, Float32Tolerance, $"affine of {shape} gated where the second input is positive");
        using (var expected = Tensor.ChannelAffine(x, scale, shift, gate: new ReluGate(x2, scale2, shift)))
        using (var actual = Tensor.ChannelAffine(dx, dScale, dShift, gate: new ReluGate(dx2, dScale2, dShift)))
            BackendAssert.Close(actual, expected, Float32Tolerance, $"affine of {shape} gated where an affine map of the second input is positive");
    }

    /// <summary>
    /// The batch-norm backward recomputes a fused ReLU's gate from its input (ReluGate(x, scale, shift)) instead of
    /// keeping its output: on the device's own arithmetic, that gate must open exactly where the output is positive,
    /// including for inputs whose affine value rounds to within an ulp of zero.
    /// </summary>
    [Test]
    public void AffineGateOpensExactlyWhereTheFusedReluOutputIsPositive()
    {
        var shape = new Shape(4, 3, 11, 13);
        int channels = shape[1], s = 11 * 13;
        var scale = new float[] { 0.37f, -1.3f, 3.1e-3f };
        var shift = new float[] { 0.11f, 0.7f, -2.9e-2f };
        var random = new Random(47);
        var data = new float[shape.Numel];
        for (int i = 0; i < data.Length; i++)
        {
            int c = i / s % channels;
            float root = -shift[c] / scale[c];
            // Half the elements within a few ulps of the root of x·scale + shift, the rest anywhere near it.
            data[i] = i % 2 == 0 ? root * (1 + random.Next(-4, 5) * 1.2e-7f) : root + (float)(random.NextDouble() - 0.5);
        }
        using var cpuX = Tensor.FromArray<float>(data, shape, Cpu);
        using var cpuScale = Tensor.FromArray<float>(scale, new Shape(channels), Cpu);
        using var cpuShift = Tensor.FromArray<float>(shift, new Shape(channels), Cpu);
        using var cpuDy = Random(shape, 48);
        using var cpuCenter = Random(new Shape(channels), 49);
        using var x = OnDevice(cpuX);
        using var dScale = OnDevice(cpuScale);
        using var dShift = OnDevice(cpuShift);
        using var dy = OnDevice(cpuDy);
        using var center = OnDevice(cpuCenter);
        using var z = Tensor.ChannelAffine(x, dScale, dShift, relu: true);
        var (sumFromOutput, productFromOutput, fromOutput) = Tensor.ChannelGradSums(dy, x, center, new ReluGate(z), writeGated: true);
        var (sumFromInput, productFromInput, fromInput) = Tensor.ChannelGradSums(dy, x, center, new ReluGate(x, dScale, dShift), writeGated: true);
        using (sumFromOutput)
        using (productFromOutput)
        using (fromOutput)
        using (sumFromInput)
        using (productFromInput)
        using (fromInput)
        using (var dxFromOutput = Tensor.ChannelAffine(dy, dScale, dShift, gate: new ReluGate(z)))
        using (var dxFromInput = Tensor.ChannelAffine(dy, dScale, dShift, gate: new ReluGate(x, dScale, dShift)))
        {
            float[] zs = z.ToArray<float>(), a = fromOutput!.ToArray<float>(), b = fromInput!.ToArray<float>();
            int open = zs.Count(v => v > 0), closed = zs.Length - open;
            Assert.That(open, Is.GreaterThan(zs.Length / 5), "the inputs straddle the gate's threshold");
            Assert.That(closed, Is.GreaterThan(zs.Length / 5), "the inputs straddle the gate's threshold");
            Assert.That(b, Is.EqualTo(a), "gated dy: gate recomputed from the input against the ReLU's output");
            Assert.That(sumFromInput.ToArray<float>(), Is.EqualTo(sumFromOutput.ToArray<float>()), "Σ gated dy");
            Assert.That(dxFromInput.ToArray<float>(), Is.EqualTo(dxFromOutput.ToArray<float>()), "affine of the gated dy");
        }
    }

    [Test]
    public void ChannelGradSumsMatchTheCpu([ValueSource(nameof(ChannelShapes))] Shape shape)
    {
        int channels = shape[1];
        using var dy = Random(shape, 27);
        using var x = Random(shape, 28, 99, 101);
        using var values = Random(shape, 43);
        using var scale = Random(new Shape(channels), 45);
        using var shift = Random(new Shape(channels), 46);
        var (mean, variance) = x.ChannelMeanVar();
        variance.Dispose();
        using (mean)
        using (var dDy = OnDevice(dy))
        using (var dx = OnDevice(x))
        using (var dMean = OnDevice(mean))
        using (var dValues = OnDevice(values))
        using (var dScale = OnDevice(scale))
        using (var dShift = OnDevice(shift))
        {
            foreach (var (gate, dGate, what) in new (ReluGate?, ReluGate?, string)[]
                     {
                         (null, null, "no gate"),
                         (new ReluGate(values), new ReluGate(dValues), "gate values > 0"),
                         (new ReluGate(values, scale, shift), new ReluGate(dValues, dScale, dShift), "gate values·scale + shift > 0"),
                     })
            {
                var (expectedSum, expectedProduct, expectedGated) = Tensor.ChannelGradSums(dy, x, mean, gate, writeGated: gate != null);
                var (actualSum, actualProduct, actualGated) = Tensor.ChannelGradSums(dDy, dx, dMean, dGate, writeGated: gate != null);
                using (expectedSum)
                using (expectedProduct)
                using (expectedGated)
                using (actualSum)
                using (actualProduct)
                using (actualGated)
                {
                    if (gate != null) BackendAssert.Close(actualGated!, expectedGated!, 0, $"gated dy of {shape}, {what}");
                    // Sums of terms of either sign: the allowed error follows Σ|term| per channel, not the (small) result.
                    var (absDy, absProduct) = ChannelMagnitudes(expectedGated ?? dy, x, mean);
                    BackendAssert.Close(actualSum, expectedSum, Array.ConvertAll(absDy, m => ChannelSumTolerance * m), $"Σ dy of {shape}, {what}");
                    BackendAssert.Close(actualProduct, expectedProduct, Array.ConvertAll(absProduct, m => ChannelSumTolerance * m),
                        $"Σ dy·(x − mean) of {shape}, {what}");
                }
            }
        }
    }

    /// <summary>Per channel c of [N, C, ...]: Σ|dy| and Σ|dy·(x − center[c])|.</summary>
    private static (double[] AbsDy, double[] AbsProduct) ChannelMagnitudes(Tensor dy, Tensor x, Tensor center)
    {
        int n = dy.Shape[0], channels = dy.Shape[1];
        int s = (int)(dy.Numel / ((long)n * channels));
        double[] g = dy.ToDoubleArray(), v = x.ToDoubleArray(), k = center.ToDoubleArray();
        double[] absDy = new double[channels], absProduct = new double[channels];
        for (int i = 0; i < g.Length; i++)
        {
            int c = i / s % channels;
            absDy[c] += Math.Abs(g[i]);
            absProduct[c] += Math.Abs(g[i] * (v[i] - k[c]));
        }
        return (absDy, absProduct);
    }

    // ---- index primitives ----

    [Test]
    public void GatherAndScatterAddColumnsMatchTheCpu()
    {
        const int rows = 37, cols = 11;
        using var x = Random(new Shape(rows, cols), 31);
        var columns = new long[rows];
        for (int r = 0; r < rows; r++) columns[r] = r * 7 % 5; // columns 0..4 only, each picked by many rows
        columns[rows - 1] = cols - 1;
        using var index = Tensor.FromArray<long>(columns, new Shape(rows), Cpu);
        using var values = Random(new Shape(rows), 32);
        using var dx = OnDevice(x);
        using var dIndex = OnDevice(index);
        using var dValues = OnDevice(values);

        using (var expected = x.GatherColumns(index))
        using (var actual = dx.GatherColumns(dIndex))
            BackendAssert.Close(actual, expected, 0, "gather columns");

        x.ScatterAddColumns(index, values);
        dx.ScatterAddColumns(dIndex, dValues);
        BackendAssert.Close(dx, x, 0, "scatter-add columns");
    }

    [Test]
    public void OutOfRangeColumnsThrowNamingRowAndIndexAndLeaveXUnchanged()
    {
        using var x = OnDevice(Random(new Shape(3, 4), 33));
        using var tooLarge = OnDevice(Tensor.FromArray<long>([1, 4, 0], new Shape(3), Cpu));
        var gather = Assert.Throws<ArgumentException>(() => x.GatherColumns(tooLarge).Dispose())!;
        Assert.That(gather.Message, Does.Contain("row 1").And.Contain("index 4").And.Contain("4 columns"));

        using var negative = OnDevice(Tensor.FromArray<long>([-1, 0, 0], new Shape(3), Cpu));
        using var values = OnDevice(Random(new Shape(3), 34));
        var before = x.ToDoubleArray();
        var scatter = Assert.Throws<ArgumentException>(() => x.ScatterAddColumns(negative, values))!;
        Assert.That(scatter.Message, Does.Contain("row 0").And.Contain("index -1"));
        Assert.That(x.ToDoubleArray(), Is.EqualTo(before), "a rejected scatter-add must leave x unchanged");
    }

    [Test]
    public void IndexSelectMatchesTheCpuOnEveryAxis([Values(DType.Float32, DType.Int32, DType.Int64)] DType dtype)
    {
        var shape = new Shape(3, 4, 5, 3);
        using var values = Tensor.FromArray<float>(Enumerable.Range(0, (int)shape.Numel).Select(i => (float)(i * 7 % 61)).ToArray(), shape, Cpu);
        using var x = values.To(dtype);
        using var onDevice = OnDevice(x);
        using var index = Tensor.FromArray<long>([2, 0, 2, 1, 1], new Shape(5), Cpu);
        using var dIndex = OnDevice(index);
        for (int axis = 0; axis < shape.Rank; axis++)
        {
            using var expected = x.IndexSelect(axis, index);
            using var actual = onDevice.IndexSelect(axis, dIndex);
            Assert.That(actual.DType, Is.EqualTo(dtype));
            BackendAssert.Close(actual, expected, 0, $"index select {dtype} over axis {axis}");
        }
        using var outOfRange = OnDevice(Tensor.FromArray<long>([0, 3, 1, 0], new Shape(4), Cpu));
        var error = Assert.Throws<ArgumentException>(() => onDevice.IndexSelect(0, outOfRange).Dispose())!;
        Assert.That(error.Message, Does.Contain("position 1").And.Contain("index 3").And.Contain("size 3"));
    }
}
