// CPU backend primitives (reduce, argmax, matmul, conv, pool, channel norm ops, index ops) against naive
// double-precision loops written out below, in Float32 and Float64. The references read the inputs back from the
// backend, so Float32 rounding of the inputs is shared and the tolerances only cover the arithmetic.
// Sizes are odd and small, with a few cases large enough to take the multi-threaded paths.
using NUnit.Framework;
using Standalone.Backends;
using Standalone.Backends.Cpu;

namespace Standalone.Tests.Backends;

[TestFixture]
public class CpuPrimitiveTests
{
    /// <summary>Allowed |actual − expected| / max(1, |expected|): Float32 sums of up to a few thousand terms.</summary>
    private const double Float32Tolerance = 2e-4;
    private const double Float64Tolerance = 1e-10;

    private static readonly CpuBackend Backend = CpuBackend.Instance;
    private static readonly DType[] FloatTypes = [DType.Float32, DType.Float64];

    private static double Tolerance(DType dtype) => dtype == DType.Float32 ? Float32Tolerance : Float64Tolerance;

    // ---- reductions ----

    [TestCaseSource(nameof(FloatTypes))]
    public void Reduce_EveryAxisSubsetOfRank4_MatchesReference(DType dtype)
    {
        foreach (var dims in new[] { new[] { 3, 4, 5, 6 }, new[] { 2, 1, 5, 3 } })
        {
            var x = Random(dtype, dims, seed: 1);
            var xs = Read(x);
            for (int mask = 0; mask < 16; mask++)
                foreach (var op in new[] { ReduceOp.Sum, ReduceOp.Max, ReduceOp.Min })
                {
                    var y = Empty(dtype, ReducedDims(dims, mask));
                    Backend.Reduce(op, x, mask, y);
                    AssertClose(ReduceReference(op, xs, dims, mask), Read(y), Tolerance(dtype), $"{op} of {Fmt(dims)} over mask {mask:b4}");
                }
        }
    }

    [TestCaseSource(nameof(FloatTypes))]
    public void Reduce_LargeTensors_MatchReferenceOnParallelPaths(DType dtype)
    {
        // NCHW over (0, 2, 3); sum over the batch of [N, F] with few and with many rows; a full reduction.
        (int[] Dims, int Mask)[] cases = [([8, 16, 24, 24], 0b1101), ([300, 257], 0b01), ([5, 300, 70], 0b010), ([200, 400], 0b11)];
        foreach (var (dims, mask) in cases)
        {
            var x = Random(dtype, dims, seed: 2);
            var xs = Read(x);
            foreach (var op in new[] { ReduceOp.Sum, ReduceOp.Max })
            {
                var y = Empty(dtype, ReducedDims(dims, mask));
                Backend.Reduce(op, x, mask, y);
                AssertClose(ReduceReference(op, xs, dims, mask), Read(y), Tolerance(dtype), $"{op} of {Fmt(dims)} over mask {mask:b}");
            }
        }
    }

    [TestCaseSource(nameof(FloatTypes))]
    public void ArgMax_ReturnsFirstMaximumOfEachRow(DType dtype)
    {
        int rows = 37, cols = 11;
        var rng = new Random(3);
        var data = new double[rows * cols];
        for (int i = 0; i < data.Length; i++) data[i] = rng.Next(-3, 4); // small integers: many ties
        var x = Upload(dtype, data, rows, cols);
        var y = Empty(DType.Int64, rows);
        Backend.ArgMax(x, y);
        var actual = new long[rows];
        Backend.Download<long>(y.Buffer, 0, actual);
        for (int r = 0; r < rows; r++)
        {
            int best = 0;
            for (int c = 1; c < cols; c++) if (data[r * cols + c] > data[r * cols + best]) best = c;
            Assert.That(actual[r], Is.EqualTo(best), $"row {r}");
        }
    }

    // ---- matmul ----

    [TestCaseSource(nameof(FloatTypes))]
    public void MatMul_TransposesBroadcastAlphaBeta_MatchReference(DType dtype)
    {
        (int Batch, int M, int K, int N, bool BroadcastA, bool BroadcastB)[] cases =
            [(3, 7, 13, 9, false, false), (4, 5, 6, 11, true, false), (5, 9, 4, 3, false, true), (1, 67, 129, 65, false, false)];
        foreach (var (batch, m, k, n, broadcastA, broadcastB) in cases)
            foreach (bool transA in new[] { false, true })
                foreach (bool transB in new[] { false, true })
                    foreach (var (alpha, beta) in new[] { (1.0, 0.0), (0.5, 2.0) })
                    {
                        int[] aDims = transA ? [broadcastA ? 1 : batch, k, m] : [broadcastA ? 1 : batch, m, k];
                        int[] bDims = transB ? [broadcastB ? 1 : batch, n, k] : [broadcastB ? 1 : batch, k, n];
                        var a = Random(dtype, aDims, seed: 4);
                        var b = Random(dtype, bDims, seed: 5);
                        var c = Random(dtype, [batch, m, n], seed: 6);
                        double[] av = Read(a), bv = Read(b), expected = Read(c);
                        var aView = Broadcast(a, batch);
                        var bView = Broadcast(b, batch);
                        Backend.MatMul(aView, transA, bView, transB, c, alpha, beta);
                        for (int t = 0; t < batch; t++)
                            for (int i = 0; i < m; i++)
                                for (int j = 0; j < n; j++)
                                {
                                    double sum = 0;
                                    for (int p = 0; p < k; p++)
                                    {
                                        long ai = (broadcastA ? 0 : t) * (long)m * k + (transA ? p * m + i : i * k + p);
                                        long bi = (broadcastB ? 0 : t) * (long)k * n + (transB ? j * k + p : p * n + j);
                                        sum += av[ai] * bv[bi];
                                    }
                                    long ci = ((long)t * m + i) * n + j;
                                    expected[ci] = alpha * sum + (beta == 0 ? 0 : beta * expected[ci]);
                                }
                        AssertClose(expected, Read(c), Tolerance(dtype),
                            $"matmul batch {batch} M {m} K {k} N {n} transA {transA} transB {transB} broadcast {broadcastA}/{broadcastB} alpha {alpha} beta {beta}");
                    }
    }

    /// <summary>A [1, r, c] view expanded to [batch, r, c] with batch stride 0.</summary>
    private static TensorView Broadcast(TensorView v, int batch)
    {
        if (v.Shape[0] == batch) return v;
        var strides = v.Strides;
        strides[0] = 0;
        return new TensorView(v.Buffer, new Shape(batch, v.Shape[1], v.Shape[2]), strides, v.Offset);
    }

    // ---- convolution ----

    public readonly record struct ConvCase(int N, int Cin, int H, int W, int Cout, int KH, int KW, Conv2dParams P, bool Bias)
    {
        public int OH => P.OutputH(H, KH);
        public int OW => P.OutputW(W, KW);
        public override string ToString() =>
            $"x [{N},{Cin},{H},{W}] w [{Cout},{Cin / P.Groups},{KH},{KW}] stride {P.StrideH}x{P.StrideW} pad {P.PadH}x{P.PadW} dilation {P.DilationH}x{P.DilationW} groups {P.Groups} bias {Bias}";
    }

    private static readonly ConvCase[] ConvCases =
    [
        new(2, 3, 7, 9, 4, 3, 3, new(1, 1, 1, 1, 1, 1, 1), true),      // 3×3 "same": shifted-plane im2col
        new(3, 3, 8, 7, 5, 3, 3, new(2, 2, 1, 1, 1, 1, 1), false),     // stride 2
        new(2, 2, 5, 37, 3, 3, 3, new(2, 2, 1, 1, 1, 1, 1), true),     // stride 2, rows long enough for the vector gather
        new(1, 2, 9, 8, 3, 3, 3, new(1, 1, 2, 2, 2, 2, 1), true),      // dilation 2, still "same"
        new(2, 2, 9, 10, 3, 3, 3, new(1, 1, 1, 1, 2, 2, 1), false),    // dilation 2, shrinking
        new(2, 2, 7, 6, 3, 3, 3, new(1, 1, 0, 1, 1, 1, 1), true),      // padded in width only: shifted planes, OH < H
        new(2, 4, 6, 7, 6, 3, 3, new(1, 1, 1, 1, 1, 1, 2), true),      // groups 2
        new(3, 4, 7, 6, 4, 3, 3, new(2, 1, 1, 1, 1, 1, 4), false),     // depthwise
        new(4, 5, 5, 6, 3, 1, 1, new(1, 1, 0, 0, 1, 1, 1), true),      // 1×1 pointwise: no im2col
        new(2, 4, 9, 7, 6, 1, 1, new(2, 2, 0, 0, 1, 1, 1), false),     // 1×1 stride 2 (shortcut)
        new(2, 3, 4, 34, 5, 1, 1, new(2, 2, 0, 0, 1, 1, 1), false),    // 1×1 stride 2, 17 outputs per row
        new(2, 3, 11, 6, 2, 5, 3, new(2, 1, 2, 0, 1, 1, 1), true),     // asymmetric kernel, stride and padding
        new(1, 3, 5, 5, 2, 3, 3, new(3, 3, 0, 0, 1, 1, 1), false),     // stride 3, no padding
        // Stride 1 in float32 takes the implicit-GEMM path (CpuBackend.ConvImplicit.cs) unless the padding exceeds (K−1)·D.
        new(1, 5, 6, 9, 20, 3, 3, new(1, 1, 1, 1, 1, 1, 1), true),     // one image: output row blocks shared by threads; 20 = 2·8 + 4 rows
        new(3, 32, 6, 11, 12, 3, 3, new(1, 1, 1, 1, 1, 1, 1), false),  // depth 288: two GEMM depth blocks
        new(20, 16, 32, 32, 16, 3, 3, new(1, 1, 1, 1, 1, 1, 1), false), // ResNet stage 1: several stacked weight-gradient chunks
        new(2, 3, 7, 6, 4, 5, 5, new(1, 1, 2, 2, 1, 1, 1), true),      // 5×5 "same"
        new(2, 1, 9, 9, 3, 3, 3, new(1, 1, 0, 0, 1, 1, 1), true),      // unpadded, one input channel
        new(3, 2, 6, 7, 3, 5, 3, new(1, 1, 1, 2, 1, 1, 1), false),     // padding 1 < 4 rows, 2 > 0 columns: unequal shared gaps
        new(11, 4, 8, 8, 5, 3, 3, new(1, 1, 1, 1, 1, 1, 1), true),     // 8×8: forward stacks of several images, the last one partial
        new(3, 13, 9, 9, 9, 3, 3, new(1, 1, 1, 1, 1, 1, 1), true),     // pruned widths: 9 outputs fill one 12-row panel
        new(2, 9, 7, 8, 35, 3, 3, new(1, 1, 1, 1, 1, 1, 1), false),    // 35 outputs: three 12-row panels, the last partial
        // Direct convolution (CpuBackend.ConvDirect.cs) for stride-1 "same" kernels on 16² and 8²-like planes.
        new(1, 3, 16, 16, 13, 3, 3, new(1, 1, 1, 1, 1, 1, 1), true),   // direct: one image (tiles shared by threads), 13 outputs: a full and a partial panel
        new(2, 80, 8, 8, 9, 3, 3, new(1, 1, 1, 1, 1, 1, 1), false),    // direct: depth 720, two depth blocks of 360, the partial panel accumulating across them
        new(3, 2, 16, 4, 6, 5, 5, new(1, 1, 2, 2, 1, 1, 1), true),     // direct: 5×5 "same", a 32-pixel tile spanning 8 rows of 4
        new(2, 3, 32, 32, 4, 3, 3, new(1, 1, 1, 1, 1, 1, 1), false),   // 32×32: planes of 1024 pixels stay implicit, rows written in place
        new(2, 4, 6, 64, 6, 3, 3, new(1, 1, 1, 1, 1, 1, 2), false),    // implicit, rows of two column tiles written in place, two groups
        // Weight gradients of 32 or 64 output channels as outer-product tiles (CpuGemm.Outer.cs).
        new(3, 4, 6, 7, 32, 3, 3, new(1, 1, 1, 1, 1, 1, 1), false),    // 12 taps × 32 channels, 36 taps in three tiles
        new(2, 2, 8, 8, 64, 3, 3, new(1, 1, 1, 1, 1, 1, 1), true),     // 6 taps × 64 channels
        new(3, 4, 9, 10, 32, 3, 3, new(2, 2, 1, 1, 1, 1, 1), false),   // stride 2: output points on the phase grid
        new(2, 3, 6, 6, 32, 3, 3, new(1, 1, 1, 1, 1, 1, 1), false),    // 27 taps, not a multiple of 12: dot products
        new(2, 3, 7, 8, 4, 3, 3, new(1, 1, 3, 3, 1, 1, 1), false),     // padding 3 > K − 1: falls back to im2col
        new(2, 3, 5, 6, 4, 1, 1, new(1, 1, 1, 1, 1, 1, 1), false),     // padded 1×1: falls back to im2col
        // Strides above 1 in float32 run the forward and weight gradient on phase planes, except 1×1 kernels; the
        // backward input of 3×3 stride 2 pad 1 runs phase by phase (CpuBackend.ConvPhases.cs), other strides on col2im.
        new(5, 6, 15, 13, 7, 3, 3, new(2, 2, 1, 1, 1, 1, 1), true),    // 3×3 stride 2 pad 1, odd sizes, stacked images
        new(6, 16, 32, 32, 32, 3, 3, new(2, 2, 1, 1, 1, 1, 1), false), // ResNet 16→32 downsampling
        new(6, 16, 32, 32, 32, 1, 1, new(2, 2, 0, 0, 1, 1, 1), false), // ResNet 1×1 stride 2 shortcut: stays on im2col
        new(3, 3, 9, 15, 4, 1, 3, new(2, 2, 0, 1, 1, 1, 1), true),     // 1×3 stride 2: one row phase, two column phases
        new(1, 4, 11, 9, 5, 3, 3, new(2, 2, 1, 1, 1, 1, 1), true),     // one image: rows shared by threads
        new(4, 13, 14, 14, 10, 3, 3, new(2, 2, 1, 1, 1, 1, 1), true),  // pruned stride-2 conv: 10 outputs on a 12-row panel
        new(3, 4, 9, 20, 6, 3, 3, new(2, 2, 1, 1, 1, 1, 2), false),    // stride 2 pad 1, groups 2: 10 column pairs (8 + 2 interleaved)
        new(19, 3, 6, 6, 5, 3, 3, new(2, 2, 1, 1, 1, 1, 1), true),     // stride 2 pad 1 on 19 images: a last, partial stack
        new(3, 3, 13, 14, 4, 3, 3, new(3, 3, 1, 1, 1, 1, 1), false),   // stride 3, 3×3 pad 1
        new(2, 3, 10, 11, 2, 1, 1, new(3, 3, 0, 0, 1, 1, 1), true),    // 1×1 stride 3: stays on im2col
        new(3, 2, 14, 13, 3, 3, 3, new(2, 2, 2, 2, 2, 2, 1), false),   // stride 2, dilation 2: every tap in phase (0, 0)
        new(2, 3, 13, 12, 4, 3, 2, new(2, 3, 1, 1, 3, 1, 1), true),    // stride 2×3, dilation 3×1, 3×2 kernel
        new(2, 3, 9, 10, 4, 3, 3, new(2, 1, 1, 1, 1, 1, 1), false),    // stride 2 rows, stride 1 columns
        new(2, 4, 9, 11, 6, 3, 3, new(2, 2, 1, 0, 1, 1, 2), true),     // stride 2, groups 2, unpadded columns
        new(2, 3, 9, 9, 4, 3, 3, new(2, 2, 3, 3, 1, 1, 1), false),     // stride 2, padding 3 > K − 1: falls back to im2col
        new(2, 3, 8, 9, 4, 1, 1, new(2, 2, 1, 1, 1, 1, 1), false),     // padded 1×1 stride 2: falls back to im2col
    ];

    private static IEnumerable<TestCaseData> ConvTestCases() =>
        from c in ConvCases from d in FloatTypes select new TestCaseData(c, d).SetArgDisplayNames(c.ToString(), d.ToString());

    [TestCaseSource(nameof(ConvTestCases))]
    public void Conv2d_ForwardAndBackward_MatchReference(ConvCase c, DType dtype)
    {
        var p = c.P;
        int cinG = c.Cin / p.Groups, coutG = c.Cout / p.Groups;
        var x = Random(dtype, [c.N, c.Cin, c.H, c.W], seed: 7);
        var w = Random(dtype, [c.Cout, cinG, c.KH, c.KW], seed: 8);
        var bias = Random(dtype, [c.Cout], seed: 9);
        var dy = Random(dtype, [c.N, c.Cout, c.OH, c.OW], seed: 10);
        double[] xs = Read(x), ws = Read(w), bs = Read(bias), dys = Read(dy);

        var yRef = new double[c.N * c.Cout * c.OH * c.OW];
        var dxRef = new double[xs.Length];
        var dwRef = new double[ws.Length];
        var dbRef = new double[c.Cout];
        for (int n = 0; n < c.N; n++)
            for (int co = 0; co < c.Cout; co++)
                for (int oh = 0; oh < c.OH; oh++)
                    for (int ow = 0; ow < c.OW; ow++)
                    {
                        int yi = ((n * c.Cout + co) * c.OH + oh) * c.OW + ow;
                        double sum = c.Bias ? bs[co] : 0;
                        dbRef[co] += dys[yi];
                        for (int ci = 0; ci < cinG; ci++)
                            for (int ki = 0; ki < c.KH; ki++)
                                for (int kj = 0; kj < c.KW; kj++)
                                {
                                    int ih = oh * p.StrideH - p.PadH + ki * p.DilationH, iw = ow * p.StrideW - p.PadW + kj * p.DilationW;
                                    if (ih < 0 || ih >= c.H || iw < 0 || iw >= c.W) continue;
                                    int xi = ((n * c.Cin + co / coutG * cinG + ci) * c.H + ih) * c.W + iw;
                                    int wi = ((co * cinG + ci) * c.KH + ki) * c.KW + kj;
                                    sum += xs[xi] * ws[wi];
                                    dxRef[xi] += dys[yi] * ws[wi];
                                    dwRef[wi] += dys[yi] * xs[xi];
                                }
                        yRef[yi] = sum;
                    }

        var y = Empty(dtype, c.N, c.Cout, c.OH, c.OW);
        Backend.Conv2dForward(x, w, c.Bias ? bias : null, y, p);
        AssertClose(yRef, Read(y), Tolerance(dtype), $"conv forward {c}");

        var dx = Random(dtype, [c.N, c.Cin, c.H, c.W], seed: 11); // garbage that must be overwritten
        Backend.Conv2dBackwardInput(dy, w, dx, p);
        AssertClose(dxRef, Read(dx), Tolerance(dtype), $"conv backward input {c}");

        var dw = Random(dtype, [c.Cout, cinG, c.KH, c.KW], seed: 12);
        var db = Random(dtype, [c.Cout], seed: 13);
        Backend.Conv2dBackwardWeight(dy, x, dw, c.Bias ? db : null, p);
        AssertClose(dwRef, Read(dw), Tolerance(dtype), $"conv backward weight {c}");
        if (c.Bias) AssertClose(dbRef, Read(db), Tolerance(dtype), $"conv backward bias {c}");
    }

    [TestCaseSource(nameof(FloatTypes))]
    public void Conv2d_BatchLargerThanThreads_MatchesImageByImage(DType dtype)
    {
        // The images-in-parallel path (per-worker scratch and weight-gradient partials) against the same conv run
        // one image at a time, which takes the serial path.
        int n = Math.Max(5, Environment.ProcessorCount + 3);
        var p = new Conv2dParams(1, 1, 1, 1, 1, 1, 1);
        var x = Random(dtype, [n, 4, 10, 10], seed: 14);
        var w = Random(dtype, [5, 4, 3, 3], seed: 15);
        var dy = Random(dtype, [n, 5, 10, 10], seed: 16);
        var y = Empty(dtype, n, 5, 10, 10);
        var dx = Empty(dtype, n, 4, 10, 10);
        var dw = Empty(dtype, 5, 4, 3, 3);
        Backend.Conv2dForward(x, w, null, y, p);
        Backend.Conv2dBackwardInput(dy, w, dx, p);
        Backend.Conv2dBackwardWeight(dy, x, dw, null, p);

        var dwSum = new double[5 * 4 * 9];
        for (int i = 0; i < n; i++)
        {
            var xi = Slice(x, i);
            var dyi = Slice(dy, i);
            var yi = Empty(dtype, 1, 5, 10, 10);
            var dxi = Empty(dtype, 1, 4, 10, 10);
            var dwi = Empty(dtype, 5, 4, 3, 3);
            Backend.Conv2dForward(xi, w, null, yi, p);
            Backend.Conv2dBackwardInput(dyi, w, dxi, p);
            Backend.Conv2dBackwardWeight(dyi, xi, dwi, null, p);
            AssertClose(Read(yi), Read(Slice(y, i)), Tolerance(dtype), $"forward image {i}");
            AssertClose(Read(dxi), Read(Slice(dx, i)), Tolerance(dtype), $"backward input image {i}");
            var part = Read(dwi);
            for (int j = 0; j < part.Length; j++) dwSum[j] += part[j];
        }
        AssertClose(dwSum, Read(dw), Tolerance(dtype), "backward weight summed over images");
    }

    /// <summary>Image i of a contiguous [N, ...] tensor as a [1, ...] view.</summary>
    private static TensorView Slice(TensorView v, int i)
    {
        var dims = v.Shape.ToArray();
        dims[0] = 1;
        var shape = new Shape(dims);
        return new TensorView(v.Buffer, shape, shape.ContiguousStrides(), v.Offset + i * shape.Numel);
    }

    // ---- pooling ----

    private static readonly (int N, int C, int H, int W, Pool2dParams P)[] PoolCases =
    [
        (2, 3, 7, 9, new(3, 3, 2, 2, 1, 1)),
        (1, 2, 8, 8, new(2, 2, 2, 2, 0, 0)),
        (2, 2, 5, 6, new(3, 3, 1, 1, 1, 1)),
        (1, 3, 6, 9, new(2, 3, 1, 2, 1, 1)),
        (3, 2, 8, 8, new(8, 8, 8, 8, 0, 0)),
        // Rows wide enough for the vectorized max-pool interior (8 Float32 / 4 Float64 outputs at a time).
        (2, 3, 9, 37, new(3, 3, 2, 2, 1, 1)),
        (1, 2, 6, 40, new(2, 2, 2, 2, 0, 0)),
        (1, 2, 5, 23, new(3, 3, 1, 1, 1, 1)),
    ];

    [TestCaseSource(nameof(FloatTypes))]
    public void MaxPool2d_ValuesIndicesAndGradient_MatchReference(DType dtype)
    {
        foreach (var (n, ch, h, w, p) in PoolCases)
        foreach (bool ties in new[] { false, true })
        {
            int oh = p.OutputH(h), ow = p.OutputW(w), planes = n * ch;
            // With ties (values in {-2, …, 2}) the first maximum in row-major window order must win.
            var x = ties ? Upload(dtype, [.. Read(Random(DType.Float64, [n, ch, h, w], seed: 17)).Select(v => Math.Round(2 * v))], n, ch, h, w)
                : Random(dtype, [n, ch, h, w], seed: 17);
            var dy = Random(dtype, [n, ch, oh, ow], seed: 18);
            double[] xs = Read(x), dys = Read(dy);
            var yRef = new double[planes * oh * ow];
            var idxRef = new int[yRef.Length];
            var dxRef = new double[xs.Length];
            for (int pl = 0; pl < planes; pl++)
                for (int i = 0; i < oh; i++)
                    for (int j = 0; j < ow; j++)
                    {
                        double best = double.NegativeInfinity;
                        int bestIndex = -1;
                        for (int ki = 0; ki < p.KernelH; ki++)
                            for (int kj = 0; kj < p.KernelW; kj++)
                            {
                                int ih = i * p.StrideH - p.PadH + ki, iw = j * p.StrideW - p.PadW + kj;
                                if (ih < 0 || ih >= h || iw < 0 || iw >= w) continue;
                                double v = xs[pl * h * w + ih * w + iw];
                                if (v > best) { best = v; bestIndex = ih * w + iw; }
                            }
                        int o = (pl * oh + i) * ow + j;
                        yRef[o] = best;
                        idxRef[o] = bestIndex;
                        dxRef[pl * h * w + bestIndex] += dys[o];
                    }
            string what = $"max pool x [{n},{ch},{h},{w}] {p}{(ties ? " with ties" : "")}";
            var y = Empty(dtype, n, ch, oh, ow);
            var indices = Empty(DType.Int32, n, ch, oh, ow);
            Backend.Pool2dForward(PoolKind.Max, x, y, indices, p);
            AssertClose(yRef, Read(y), 0, what);
            var idx = new int[idxRef.Length];
            Backend.Download<int>(indices.Buffer, 0, idx);
            Assert.That(idx, Is.EqualTo(idxRef), what + " indices");
            var dx = Random(dtype, [n, ch, h, w], seed: 19);
            Backend.Pool2dBackward(PoolKind.Max, dy, indices, dx, p);
            AssertClose(dxRef, Read(dx), Tolerance(dtype), what + " backward");
        }
    }

    [TestCaseSource(nameof(FloatTypes))]
    public void AveragePool2d_CountsPaddingAndMatchesReference(DType dtype)
    {
        foreach (var (n, ch, h, w, p) in PoolCases)
        {
            int oh = p.OutputH(h), ow = p.OutputW(w), planes = n * ch, area = p.KernelH * p.KernelW;
            var x = Random(dtype, [n, ch, h, w], seed: 20);
            var dy = Random(dtype, [n, ch, oh, ow], seed: 21);
            double[] xs = Read(x), dys = Read(dy);
            var yRef = new double[planes * oh * ow];
            var dxRef = new double[xs.Length];
            for (int pl = 0; pl < planes; pl++)
                for (int i = 0; i < oh; i++)
                    for (int j = 0; j < ow; j++)
                    {
                        int o = (pl * oh + i) * ow + j;
                        for (int ki = 0; ki < p.KernelH; ki++)
                            for (int kj = 0; kj < p.KernelW; kj++)
                            {
                                int ih = i * p.StrideH - p.PadH + ki, iw = j * p.StrideW - p.PadW + kj;
                                if (ih < 0 || ih >= h || iw < 0 || iw >= w) continue;
                                yRef[o] += xs[pl * h * w + ih * w + iw] / area;
                                dxRef[pl * h * w + ih * w + iw] += dys[o] / area;
                            }
                    }
            string what = $"average pool x [{n},{ch},{h},{w}] {p}";
            var y = Empty(dtype, n, ch, oh, ow);
            Backend.Pool2dForward(PoolKind.Average, x, y, null, p);
            AssertClose(yRef, Read(y), Tolerance(dtype), what);
            var dx = Random(dtype, [n, ch, h, w], seed: 22);
            Backend.Pool2dBackward(PoolKind.Average, dy, null, dx, p);
            AssertClose(dxRef, Read(dx), Tolerance(dtype), what + " backward");
        }
    }

    // ---- channel (batch-norm) ops ----

    [TestCaseSource(nameof(FloatTypes))]
    public void ChannelMeanVar_MatchesTwoPassDefinition_EvenFarFromZero(DType dtype)
    {
        // [4,3,37]: odd rows; [9,1,1000]: one channel, split over the batch; offset 1000 breaks naive Σx² − (Σx)²/n;
        // [2,2,2061]: rows longer than the float-lane block (1024), with a ragged end.
        foreach (var (dims, offset) in new[] { (new[] { 4, 3, 37 }, 0.0), (new[] { 9, 1, 1000 }, 0.0), (new[] { 6, 5, 129 }, 1000.0), (new[] { 2, 2, 2061 }, 3.0) })
        {
            var x = Random(dtype, dims, seed: 23, offset: offset);
            var xs = Read(x);
            int n = dims[0], c = dims[1], s = dims[2];
            var meanRef = new double[c];
            var varRef = new double[c];
            for (int ch = 0; ch < c; ch++)
            {
                for (int i = 0; i < n; i++) for (int j = 0; j < s; j++) meanRef[ch] += xs[(i * c + ch) * s + j];
                meanRef[ch] /= n * s;
                for (int i = 0; i < n; i++) for (int j = 0; j < s; j++) varRef[ch] += Math.Pow(xs[(i * c + ch) * s + j] - meanRef[ch], 2);
                varRef[ch] /= n * s;
            }
            var mean = Empty(dtype, c);
            var variance = Empty(dtype, c);
            Backend.ChannelMeanVar(x, mean, variance);
            AssertClose(meanRef, Read(mean), Tolerance(dtype), $"mean of {Fmt(dims)} + {offset}");
            // Variance ~1/3 of values ~offset: Float32 keeps it to its own rounding of the result.
            AssertClose(varRef, Read(variance), Tolerance(dtype), $"variance of {Fmt(dims)} + {offset}");
        }
    }

    [TestCaseSource(nameof(FloatTypes))]
    public void ChannelAffine_WithAndWithoutSecondInput_MatchesDefinition(DType dtype)
    {
        int n = 3, c = 4, s = 19;
        var x = Random(dtype, [n, c, s], seed: 24);
        var x2 = Random(dtype, [n, c, s], seed: 25);
        var scale = Random(dtype, [c], seed: 26);
        var shift = Random(dtype, [c], seed: 27);
        var scale2 = Random(dtype, [c], seed: 28);
        double[] xs = Read(x), x2s = Read(x2), a = Read(scale), b = Read(shift), a2 = Read(scale2);
        var plain = new double[xs.Length];
        var fused = new double[xs.Length];
        for (int i = 0; i < xs.Length; i++)
        {
            int ch = i / s % c;
            plain[i] = xs[i] * a[ch] + b[ch];
            fused[i] = plain[i] + x2s[i] * a2[ch];
        }
        var y = Empty(dtype, n, c, s);
        Backend.ChannelAffine(x, scale, shift, y);
        AssertClose(plain, Read(y), Tolerance(dtype), "x·scale + shift");
        Backend.ChannelAffine(x, scale, shift, y, x2, scale2);
        AssertClose(fused, Read(y), Tolerance(dtype), "x·scale + shift + x2·scale2");
    }

    [TestCaseSource(nameof(FloatTypes))]
    public void ChannelGradSums_MatchDefinition(DType dtype)
    {
        foreach (var dims in new[] { new[] { 4, 3, 37 }, new[] { 9, 1, 1000 }, new[] { 2, 2, 2061 } })
        {
            int n = dims[0], c = dims[1], s = dims[2];
            var dy = Random(dtype, dims, seed: 29);
            var x = Random(dtype, dims, seed: 30, offset: 5);
            var center = Random(dtype, [c], seed: 31, offset: 5);
            double[] dys = Read(dy), xs = Read(x), centers = Read(center);
            var sumRef = new double[c];
            var productRef = new double[c];
            for (int i = 0; i < dys.Length; i++)
            {
                int ch = i / s % c;
                sumRef[ch] += dys[i];
                productRef[ch] += dys[i] * (xs[i] - centers[ch]);
            }
            var sumDy = Empty(dtype, c);
            var sumDyX = Empty(dtype, c);
            Backend.ChannelGradSums(dy, x, center, sumDy, sumDyX);
            AssertClose(sumRef, Read(sumDy), Tolerance(dtype), $"Σ dy of {Fmt(dims)}");
            AssertClose(productRef, Read(sumDyX), Tolerance(dtype), $"Σ dy·(x − center) of {Fmt(dims)}");
        }
    }

    [TestCaseSource(nameof(FloatTypes))]
    public void ReluGates_ZeroTheGradientWhereClosed_InSumsAndAffine(DType dtype)
    {
        // s = 37 and 1000 leave vector tails; the gate values straddle 0 in both forms.
        foreach (var dims in new[] { new[] { 4, 3, 37 }, new[] { 3, 2, 1000 } })
        {
            int c = dims[1], s = dims[2];
            var dy = Random(dtype, dims, seed: 50);
            var x = Random(dtype, dims, seed: 51, offset: 2);
            var values = Random(dtype, dims, seed: 52);
            var center = Random(dtype, [c], seed: 53, offset: 2);
            var scale = Random(dtype, [c], seed: 54);
            var shift = Random(dtype, [c], seed: 55);
            double[] dys = Read(dy), xs = Read(x), vs = Read(values), centers = Read(center), a = Read(scale), b = Read(shift);
            foreach (bool affine in new[] { false, true })
            {
                var gate = affine ? new ReluGateView(values, scale, shift) : new ReluGateView(values);
                var gatedRef = new double[dys.Length];
                var sumRef = new double[c];
                var productRef = new double[c];
                var affineRef = new double[dys.Length];
                for (int i = 0; i < dys.Length; i++)
                {
                    int ch = i / s % c;
                    double v = affine ? vs[i] * a[ch] + b[ch] : vs[i];
                    if (dtype == DType.Float32) v = affine ? (float)((float)vs[i] * (float)a[ch]) + (float)b[ch] : v;
                    gatedRef[i] = v > 0 ? dys[i] : 0;
                    sumRef[ch] += gatedRef[i];
                    productRef[ch] += gatedRef[i] * (xs[i] - centers[ch]);
                    affineRef[i] = gatedRef[i] * a[ch] + b[ch];
                }
                var sumDy = Empty(dtype, c);
                var sumDyX = Empty(dtype, c);
                var gated = Empty(dtype, dims);
                Backend.ChannelGradSums(dy, x, center, sumDy, sumDyX, gate, gated);
                string what = $"{Fmt(dims)}, {(affine ? "affine" : "plain")} gate";
                AssertClose(gatedRef, Read(gated), 0, $"gated dy of {what}");
                AssertClose(sumRef, Read(sumDy), Tolerance(dtype), $"Σ gated dy of {what}");
                AssertClose(productRef, Read(sumDyX), Tolerance(dtype), $"Σ gated dy·(x − center) of {what}");
                var y = Empty(dtype, dims);
                Backend.ChannelAffine(dy, scale, shift, y, gate: gate);
                AssertClose(affineRef, Read(y), Tolerance(dtype), $"gated dy·scale + shift of {what}");
                Assert.That(gatedRef.Count(g => g == 0), Is.InRange(dys.Length / 5, dys.Length * 4 / 5), $"{what}: the gate opens and closes");
            }
        }
    }

    // ---- index ops ----

    [TestCaseSource(nameof(FloatTypes))]
    public void GatherAndScatterAddColumns_PickAndAccumulate(DType dtype)
    {
        int rows = 6, cols = 5;
        var x = Random(dtype, [rows, cols], seed: 32);
        var xs = Read(x);
        long[] columns = [4, 0, 2, 2, 1, 3];
        var index = Empty(DType.Int64, rows);
        Backend.Upload<long>(columns, index.Buffer, 0);
        var y = Empty(dtype, rows);
        Backend.GatherColumns(x, index, y);
        AssertClose([.. Enumerable.Range(0, rows).Select(r => xs[r * cols + columns[r]])], Read(y), 0, "gather columns");

        var values = Random(dtype, [rows], seed: 33);
        var vs = Read(values);
        for (int r = 0; r < rows; r++) xs[r * cols + columns[r]] += vs[r];
        Backend.ScatterAddColumns(x, index, values);
        AssertClose(xs, Read(x), Tolerance(dtype), "scatter-add columns");
    }

    [Test]
    public void GatherAndScatterAddColumns_OutOfRangeIndex_ThrowsNamingRowAndIndex()
    {
        var x = Random(DType.Float32, [3, 4], seed: 34);
        var index = Empty(DType.Int64, 3);
        Backend.Upload<long>([1, 4, 0], index.Buffer, 0);
        var gather = Assert.Throws<ArgumentException>(() => Backend.GatherColumns(x, index, Empty(DType.Float32, 3)))!;
        Assert.That(gather.Message, Does.Contain("row 1").And.Contain("index 4").And.Contain("4 columns"));
        Backend.Upload<long>([-1, 0, 0], index.Buffer, 0);
        var before = Read(x);
        var scatter = Assert.Throws<ArgumentException>(() => Backend.ScatterAddColumns(x, index, Empty(DType.Float32, 3)))!;
        Assert.That(scatter.Message, Does.Contain("row 0").And.Contain("index -1"));
        Assert.That(Read(x), Is.EqualTo(before), "a rejected scatter-add must leave x unchanged");
    }

    [TestCase(DType.Float32)]
    [TestCase(DType.Float64)]
    [TestCase(DType.Int32)]
    [TestCase(DType.Int64)]
    public void IndexSelect_EveryAxis_MatchesReference(DType dtype)
    {
        int[] dims = [3, 4, 5];
        var data = Enumerable.Range(0, 60).Select(i => (double)(i * 7 % 61)).ToArray();
        var x = Upload(dtype, data, dims);
        long[] picks = [2, 0, 2, 1];
        var index = Empty(DType.Int64, picks.Length);
        Backend.Upload<long>(picks, index.Buffer, 0);
        for (int axis = 0; axis < 3; axis++)
        {
            var yDims = (int[])dims.Clone();
            yDims[axis] = picks.Length;
            var expected = new double[yDims[0] * yDims[1] * yDims[2]];
            for (int i = 0; i < yDims[0]; i++)
                for (int j = 0; j < yDims[1]; j++)
                    for (int k = 0; k < yDims[2]; k++)
                    {
                        int[] src = [i, j, k];
                        src[axis] = (int)picks[src[axis]];
                        expected[(i * yDims[1] + j) * yDims[2] + k] = data[(src[0] * dims[1] + src[1]) * dims[2] + src[2]];
                    }
            var y = Empty(dtype, yDims);
            Backend.IndexSelect(x, axis, index, y);
            AssertClose(expected, Read(y), 0, $"index select {dtype} axis {axis}");
        }
        Backend.Upload<long>([0, 3, 1, 0], index.Buffer, 0);
        var error = Assert.Throws<ArgumentException>(() => Backend.IndexSelect(x, 0, index, Empty(dtype, 4, 4, 5)))!;
        Assert.That(error.Message, Does.Contain("index 3").And.Contain("size 3"));
    }

    // ---- helpers ----

    private static int[] ReducedDims(int[] dims, int mask) => [.. dims.Select((d, i) => (mask >> i & 1) != 0 ? 1 : d)];

    private static double[] ReduceReference(ReduceOp op, double[] x, int[] dims, int mask)
    {
        var yDims = ReducedDims(dims, mask);
        int yCount = yDims.Aggregate(1, (a, b) => a * b);
        double identity = op switch { ReduceOp.Sum => 0, ReduceOp.Max => double.NegativeInfinity, _ => double.PositiveInfinity };
        var y = Enumerable.Repeat(identity, yCount).ToArray();
        var index = new int[dims.Length];
        for (int i = 0; i < x.Length; i++)
        {
            int rem = i;
            for (int d = dims.Length - 1; d >= 0; d--) { index[d] = rem % dims[d]; rem /= dims[d]; }
            int yi = 0;
            for (int d = 0; d < dims.Length; d++) yi = yi * yDims[d] + ((mask >> d & 1) != 0 ? 0 : index[d]);
            y[yi] = op switch { ReduceOp.Sum => y[yi] + x[i], ReduceOp.Max => Math.Max(y[yi], x[i]), _ => Math.Min(y[yi], x[i]) };
        }
        return y;
    }

    [TestCaseSource(nameof(FloatTypes))]
    public void Sign_EveryLengthWithZerosAndNaN_MatchesMathSign(DType dtype)
    {
        // Lengths 0..40 cover the vector body and every tail; the values include ±0 (sign 0) and NaN (kept).
        double[] pattern = [-2.5, -0.0, 0.0, 1e-30, -1e-30, 3, double.NaN, -7];
        for (int n = 0; n <= 40; n++)
        {
            var values = Enumerable.Range(0, n).Select(i => pattern[i % pattern.Length] * (1 + i)).ToArray();
            using var x = Tensor.FromArray<double>(values, new Shape(n)).To(dtype);
            using var y = x.Sign();
            var actual = y.ToDoubleArray();
            for (int i = 0; i < n; i++)
            {
                double v = dtype == DType.Float32 ? (float)values[i] : values[i];
                double expected = double.IsNaN(v) ? double.NaN : Math.Sign(v);
                Assert.That(actual[i], Is.EqualTo(expected), $"sign({values[i]}) at {i} of {n}, {dtype}");
            }
        }
    }

    [TestCaseSource(nameof(FloatTypes))]
    public void Stabilize_EveryLength_ShiftsAwayFromZeroAndSendsZeroToInfinity(DType dtype)
    {
        const double epsilon = 0.25;
        double[] pattern = [-2.5, -0.0, 0.0, 1e-30, -1e-30, 3, double.NaN, -7];
        for (int n = 0; n <= 40; n++)
        {
            var values = Enumerable.Range(0, n).Select(i => pattern[i % pattern.Length] * (1 + i)).ToArray();
            using var x = Tensor.FromArray<double>(values, new Shape(n)).To(dtype);
            using var y = x.Apply(UnaryOp.Stabilize, epsilon);
            var actual = y.ToDoubleArray();
            for (int i = 0; i < n; i++)
            {
                double v = dtype == DType.Float32 ? (float)values[i] : values[i];
                double expected = double.IsNaN(v) ? double.NaN : v == 0 ? double.PositiveInfinity : v + epsilon * Math.Sign(v);
                if (dtype == DType.Float32) expected = (float)expected;
                Assert.That(actual[i], Is.EqualTo(expected), $"stabilize({values[i]}) at {i} of {n}, {dtype}");
            }
        }
    }

    private static TensorView Empty(DType dtype, params int[] dims)
    {
        var shape = new Shape(dims);
        return new TensorView(Backend.Allocate(dtype, shape.Numel), shape, shape.ContiguousStrides(), 0);
    }

    /// <summary>Uniform values in [offset − 1, offset + 1), deterministic per seed.</summary>
    private static TensorView Random(DType dtype, int[] dims, int seed, double offset = 0)
    {
        var rng = new Random(seed);
        var data = new double[dims.Aggregate(1, (a, b) => a * b)];
        for (int i = 0; i < data.Length; i++) data[i] = offset + 2 * rng.NextDouble() - 1;
        return Upload(dtype, data, dims);
    }

    private static TensorView Upload(DType dtype, double[] data, params int[] dims)
    {
        var view = Empty(dtype, dims);
        switch (dtype)
        {
            case DType.Float32: Backend.Upload<float>([.. data.Select(v => (float)v)], view.Buffer, 0); break;
            case DType.Float64: Backend.Upload<double>(data, view.Buffer, 0); break;
            case DType.Int32: Backend.Upload<int>([.. data.Select(v => (int)v)], view.Buffer, 0); break;
            case DType.Int64: Backend.Upload<long>([.. data.Select(v => (long)v)], view.Buffer, 0); break;
        }
        return view;
    }

    /// <summary>The view's elements (contiguous views only) as doubles.</summary>
    private static double[] Read(TensorView v)
    {
        int n = (int)v.Numel;
        switch (v.DType)
        {
            case DType.Float32: { var a = new float[n]; Backend.Download<float>(v.Buffer, v.Offset, a); return [.. a.Select(x => (double)x)]; }
            case DType.Float64: { var a = new double[n]; Backend.Download<double>(v.Buffer, v.Offset, a); return a; }
            case DType.Int32: { var a = new int[n]; Backend.Download<int>(v.Buffer, v.Offset, a); return [.. a.Select(x => (double)x)]; }
            default: { var a = new long[n]; Backend.Download<long>(v.Buffer, v.Offset, a); return [.. a.Select(x => (double)x)]; }
        }
    }

    /// <summary>|actual − expected| ≤ tolerance·max(1, |expected|) everywhere; on failure lists the first mismatches.</summary>
    private static void AssertClose(double[] expected, double[] actual, double tolerance, string what)
    {
        Assert.That(actual, Has.Length.EqualTo(expected.Length), what + ": length");
        var mismatches = new List<string>();
        double maxDiff = 0;
        int bad = 0;
        for (int i = 0; i < expected.Length; i++)
        {
            double diff = Math.Abs(actual[i] - expected[i]);
            bool equalSpecial = actual[i].Equals(expected[i]); // infinities and NaN
            if (!equalSpecial) maxDiff = Math.Max(maxDiff, double.IsNaN(diff) ? double.PositiveInfinity : diff);
            if (equalSpecial || diff <= tolerance * Math.Max(1, Math.Abs(expected[i]))) continue;
            bad++;
            if (mismatches.Count < 8) mismatches.Add($"[{i}] expected {expected[i]:R}, got {actual[i]:R}");
        }
        if (bad > 0)
            Assert.Fail($"{what}: {bad} of {expected.Length} elements differ by more than {tolerance:G3} (max difference {maxDiff:G3}); first: {string.Join("; ", mismatches)}");
    }

    private static string Fmt(int[] dims) => "[" + string.Join(", ", dims) + "]";
}
