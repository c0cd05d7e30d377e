// The three conv primitives (forward, backward input, backward weight with and without bias) on every backend and
// GEMM path, against a float64 CPU reference, over the geometries that take different routes: stride 2, padding,
// dilation 2, rectangular kernels and per-axis geometry, groups 2 and depthwise, 1×1 (with and without the no-im2col
// shortcut), stride larger than the kernel (pixels no output reads), batch 1 and 3, a weight gradient long enough to
// be split; then several image chunks per call, and outputs that must be overwritten (pre-filled with NaN).
using Standalone.Backends;
using Standalone.Backends.Gpu;
using Standalone.Tests.Support;

namespace Standalone.Tests.Backends;

[TestFixtureSource(typeof(TestBackends), nameof(TestBackends.All))]
public sealed class ConvBackendTests(string device) : BackendTest(device)
{
    /// <summary>Allowed error relative to Σ|term| (SumAssert); the longest sums here (weight gradients) have ~2,000 terms.</summary>
    private const double Tolerance = 2e-5;

    public sealed record ConvCase(string Name, int Batch, int InC, int OutC, int H, int W, int KH, int KW, Conv2dParams P, bool Bias)
    {
        public override string ToString() => Name;
        public Shape Input => new(Batch, InC, H, W);
        public Shape Weight => new(OutC, InC / P.Groups, KH, KW);
        public Shape Output => Tensor.Conv2dOutputShape(Input, Weight, P);
    }

    private static Conv2dParams Geometry(int stride = 1, int pad = 0, int dilation = 1, int groups = 1) =>
        new(stride, stride, pad, pad, dilation, dilation, groups);

    public static IEnumerable<ConvCase> Cases() =>
    [
        new("3x3 pad 1, batch 1", 1, 3, 4, 7, 7, 3, 3, Geometry(pad: 1), true),
        new("3x3 stride 2 pad 1, batch 3, 9x8", 3, 4, 6, 9, 8, 3, 3, Geometry(stride: 2, pad: 1), true),
        new("3x3 dilation 2 pad 2, no bias", 2, 3, 5, 10, 11, 3, 3, Geometry(pad: 2, dilation: 2), false),
        new("3x3 groups 2", 3, 4, 6, 8, 8, 3, 3, Geometry(pad: 1, groups: 2), true),
        new("3x3 depthwise, no bias", 2, 6, 6, 9, 9, 3, 3, Geometry(pad: 1, groups: 6), false),
        new("1x1 pointwise", 3, 8, 5, 6, 7, 1, 1, Geometry(), true),
        new("1x1 stride 2 groups 2, no bias", 2, 4, 4, 9, 9, 1, 1, Geometry(stride: 2, groups: 2), false),
        new("1x1 stride 2, 16x16, bias (CPU: masked tile)", 2, 5, 9, 16, 16, 1, 1, Geometry(stride: 2), true),
        new("5x3 per-axis stride, pad, dilation", 2, 2, 3, 11, 7, 5, 3, new Conv2dParams(2, 1, 2, 1, 1, 2, 1), true),
        new("2x2 stride 3, unread pixels", 2, 3, 4, 8, 8, 2, 2, Geometry(stride: 3), true),
        new("3x3 stride 2, 16->32 channels", 3, 16, 32, 16, 16, 3, 3, Geometry(stride: 2, pad: 1), false),
        new("3x3 stride 2 pad 1, 11x48 (CPU: column phases, a block and a tail)", 2, 3, 4, 11, 48, 3, 3, Geometry(stride: 2, pad: 1), true),
        new("3x3 stride 2 pad 1, 32x20 (CPU: column phases, a masked row)", 2, 3, 5, 32, 20, 3, 3, Geometry(stride: 2, pad: 1), false),
        new("3x3 stride 2 pad 1, 32x32, 9 outputs (CPU: direct on phase planes, a partial panel)", 2, 5, 9, 32, 32, 3, 3, Geometry(stride: 2, pad: 1), true),
        new("3x3 stride 2 pad 1, 16x8 (CPU: direct on phase planes, 4-wide rows)", 2, 3, 4, 16, 8, 3, 3, Geometry(stride: 2, pad: 1), false),
        new("3x3 long weight gradient (split)", 8, 4, 8, 16, 16, 3, 3, Geometry(pad: 1), true),
        new("3x3 pad 1, 8x8, 13 channels (CPU: direct, a partial panel)", 3, 5, 13, 8, 8, 3, 3, Geometry(pad: 1), false),
        new("3x3 pad 1, 32x32 (CPU: implicit)", 2, 3, 4, 32, 32, 3, 3, Geometry(pad: 1), false),
        new("3x3 pad 1, 32x32, 9 channels, bias (CPU: implicit, masked rows)", 2, 9, 10, 32, 32, 3, 3, Geometry(pad: 1), true),
        new("3x3 pad 1, 8x8, 32 -> 40, 10 images (CPU: Winograd, two image blocks)", 10, 32, 40, 8, 8, 3, 3, Geometry(pad: 1), true),
        new("3x3 pad 1, 16x16, 33 -> 32 (CPU: Winograd, a partial panel backward)", 3, 33, 32, 16, 16, 3, 3, Geometry(pad: 1), false),
        new("3x3 pad 1, 32x32, 32 -> 36 (CPU: Winograd, 16-tile rows)", 2, 32, 36, 32, 32, 3, 3, Geometry(pad: 1), true),
        new("3x3 pad 1, 8x16, 32 -> 32 (CPU: Winograd, rectangular)", 2, 32, 32, 8, 16, 3, 3, Geometry(pad: 1), false),
        new("3x3 pad 1, 14x14, 16 -> 16 (CPU: Winograd, 49 tiles in 4 blocks, 7-pair rows)", 2, 16, 16, 14, 14, 3, 3, Geometry(pad: 1), true),
        new("3x3 pad 1, 10x28, 16 -> 20 (CPU: Winograd, 70 tiles, 14-pair rows)", 2, 16, 20, 10, 28, 3, 3, Geometry(pad: 1), false),
    ];

    private static Tensor Random(Shape shape, int seed) => Tensor.RandomUniform(shape, -1, 1, new Rng((ulong)seed + 1), backend: Cpu);

    [TestCaseSource(nameof(Cases))]
    public void ForwardMatchesTheReference(ConvCase c) => GemmPaths.ForEach(Backend, path => CheckForward(c, path));

    [TestCaseSource(nameof(Cases))]
    public void BackwardInputMatchesTheReference(ConvCase c) => GemmPaths.ForEach(Backend, path => CheckBackwardInput(c, path));

    [TestCaseSource(nameof(Cases))]
    public void BackwardWeightMatchesTheReference(ConvCase c) => GemmPaths.ForEach(Backend, path => CheckBackwardWeight(c, path));

    [Test]
    public void SeveralImageChunksGiveTheSameResult()
    {
        var c = new ConvCase("3x3 stride 2 pad 1, 5 images", 5, 3, 4, 9, 9, 3, 3, Geometry(stride: 2, pad: 1), true);
        var gpu = Backend as GpuBackend;
        long saved = gpu?.ConvScratchBytes ?? 0;
        try
        {
            // Room for two images' scratch per chunk: chunks of 2, 2 and 1 images.
            if (gpu != null) gpu.ConvScratchBytes = 2L * (3 * 9 + 4) * 5 * 5 * sizeof(float);
            GemmPaths.ForEach(Backend, path =>
            {
                CheckForward(c, $"{path}, chunked");
                CheckBackwardInput(c, $"{path}, chunked");
                CheckBackwardWeight(c, $"{path}, chunked");
            });
        }
        finally
        {
            if (gpu != null) gpu.ConvScratchBytes = saved;
        }
    }

    [Test]
    public void OutputsAreOverwrittenNotAccumulated()
    {
        var c = new ConvCase("3x3 stride 2 groups 2", 2, 4, 6, 7, 7, 3, 3, Geometry(stride: 2, pad: 1, groups: 2), true);
        using var x = Random(c.Input, 11);
        using var w = Random(c.Weight, 12);
        using var bias = Random(new Shape(c.OutC), 13);
        using var dy = Random(c.Output, 14);
        using var expectedY = Tensor.Conv2d(x, w, bias, c.P);
        using var expectedDx = Tensor.Conv2dBackwardInput(dy, w, c.Input, c.P);
        using var expectedDw = WeightGradient(dy, x, c, bias: false);
        using var expectedDb = WeightGradient(dy, x, c, bias: true);

        GemmPaths.ForEach(Backend, path =>
        {
            using var dxIn = OnDevice(x);
            using var dw = OnDevice(w);
            using var db = OnDevice(bias);
            using var ddy = OnDevice(dy);
            using var y = NaNs(c.Output);
            using var dx = NaNs(c.Input);
            using var dWeight = NaNs(c.Weight);
            using var dBias = NaNs(new Shape(c.OutC));
            Backend.Conv2dForward(dxIn.View, dw.View, db.View, y.View, c.P);
            Backend.Conv2dBackwardInput(ddy.View, dw.View, dx.View, c.P);
            Backend.Conv2dBackwardWeight(ddy.View, dxIn.View, dWeight.View, dBias.View, c.P);
            Assert.That(y.ToFloatArray(), Is.EqualTo(expectedY.ToFloatArray()).Within(1e-4), $"{path}: y");
            Assert.That(dx.ToFloatArray(), Is.EqualTo(expectedDx.ToFloatArray()).Within(1e-4), $"{path}: dx");
            Assert.That(dWeight.ToFloatArray(), Is.EqualTo(expectedDw.ToFloatArray()).Within(1e-4), $"{path}: dWeight");
            Assert.That(dBias.ToFloatArray(), Is.EqualTo(expectedDb.ToFloatArray()).Within(1e-4), $"{path}: dBias");
        });
    }

    private Tensor NaNs(Shape shape) => Tensor.Full(shape, double.NaN, backend: Backend);

    private void CheckForward(ConvCase c, string path)
    {
        using var x = Random(c.Input, 1);
        using var w = Random(c.Weight, 2);
        using var bias = c.Bias ? Random(new Shape(c.OutC), 3) : null;
        using var expected = Reference((x64, w64, b64) => Tensor.Conv2d(x64, w64, b64, c.P), x, w, bias);
        using var dx = OnDevice(x);
        using var dw = OnDevice(w);
        using var db = bias == null ? null : OnDevice(bias);
        using var y = Tensor.Conv2d(dx, dw, db, c.P);
        Assert.That(y.Device, Is.EqualTo(Backend.Device));
        SumAssert.Within(y, expected.Value, expected.Magnitude, Tolerance, $"{path}, {c.Name}: forward");
    }

    private void CheckBackwardInput(ConvCase c, string path)
    {
        using var dy = Random(c.Output, 4);
        using var w = Random(c.Weight, 5);
        using var expected = Reference((dy64, w64, _) => Tensor.Conv2dBackwardInput(dy64, w64, c.Input, c.P), dy, w, null);
        using var ddy = OnDevice(dy);
        using var dw = OnDevice(w);
        using var dx = Tensor.Conv2dBackwardInput(ddy, dw, c.Input, c.P);
        SumAssert.Within(dx, expected.Value, expected.Magnitude, Tolerance, $"{path}, {c.Name}: backward input");

    }

    private void CheckBackwardWeight(ConvCase c, string path)
    {
        using var dy = Random(c.Output, 6);
        using var x = Random(c.Input, 7);
        using var expectedDw = Reference((dy64, x64, _) => WeightGradient(dy64, x64, c, bias: false), dy, x, null);
        using var ddy = OnDevice(dy);
        using var dx = OnDevice(x);
        var (dWeight, dBias) = Tensor.Conv2dBackwardWeight(ddy, dx, c.Weight, c.Bias, c.P);
        using (dWeight)
        using (dBias)
        {
            SumAssert.Within(dWeight, expectedDw.Value, expectedDw.Magnitude, Tolerance, $"{path}, {c.Name}: dWeight");
            Assert.That(dBias == null, Is.EqualTo(!c.Bias), "dBias is returned exactly when asked for");
            if (dBias == null) return;
            using var expectedDb = Reference((dy64, x64, _) => WeightGradient(dy64, x64, c, bias: true), dy, x, null);
            SumAssert.Within(dBias, expectedDb.Value, expectedDb.Magnitude, Tolerance, $"{path}, {c.Name}: dBias");
        }
    }

    /// <summary>dWeight of dy and x, or dBias when <paramref name="bias"/> (the other result is disposed).</summary>
    private static Tensor WeightGradient(Tensor dy, Tensor x, ConvCase c, bool bias)
    {
        var (dWeight, dBias) = Tensor.Conv2dBackwardWeight(dy, x, c.Weight, bias, c.P);
        if (!bias) return dWeight;
        dWeight.Dispose();
        return dBias!;
    }

    /// <summary>A float64 reference value and Σ|term| per element (the op over the operands' absolute values).</summary>
    private sealed record Expectation(Tensor Value, Tensor Magnitude) : IDisposable
    {
        public void Dispose()
        {
            Value.Dispose();
            Magnitude.Dispose();
        }
    }

    private static Expectation Reference(Func<Tensor, Tensor, Tensor?, Tensor> op, Tensor first, Tensor second, Tensor? third)
    {
        using var a = first.To(DType.Float64);
        using var b = second.To(DType.Float64);
        using var c = third?.To(DType.Float64);
        using var absA = a.Apply(UnaryOp.Abs);
        using var absB = b.Apply(UnaryOp.Abs);
        using var absC = c?.Apply(UnaryOp.Abs);
        return new Expectation(op(a, b, c), op(absA, absB, absC));
    }
}
