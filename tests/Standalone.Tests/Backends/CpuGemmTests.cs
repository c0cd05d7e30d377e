// CpuGemm.Sgemm / Dgemm against a naive double-accumulating reference: odd sizes (edge tiles in every direction,
// several depth/row/column blocks), all four transpose combinations, padded leading dimensions, alpha ≠ 1,
// beta ∈ {0 (C full of NaN), 1, 0.5}, serial and parallel, and every micro-kernel this CPU can run.
using Standalone.Backends.Cpu;

namespace Standalone.Tests.Backends;

[TestFixture]
public unsafe class CpuGemmTests
{
    /// <summary>Allowed |actual − expected| relative to Σ|alpha·a·b| + |beta·c| for the element (float accumulation).</summary>
    private const double FloatTolerance = 1e-5;

    /// <summary>Same bound for Dgemm.</summary>
    private const double DoubleTolerance = 1e-13;

    /// <summary>Floor of the error bound, for elements whose terms are all (nearly) zero.</summary>
    private const double AbsoluteFloor = 1e-30;

    private const int MaxReported = 5;

    private static readonly int[] OddSizes = [1, 3, 17, 33, 65];

    /// <summary>(m, n, k) beyond the odd cube: several KC depth blocks, MC row blocks, NC column blocks, the dot path.</summary>
    private static readonly (int M, int N, int K)[] LargerShapes =
    [
        (100, 257, 7), (257, 31, 100), (64, 64, 257), (7, 100, 257), (31, 33, 800), (1600, 20, 9), (9, 1100, 20),
        (16, 144, 1100), (32, 65, 300), (3, 7, 1030), (144, 300, 16), (65, 257, 64),
    ];

    private static readonly (bool A, bool B)[] Transposes = [(false, false), (true, false), (false, true), (true, true)];
    private static readonly float[] Betas = [0f, 1f, 0.5f];

    /// <summary>Names of the micro-kernels this CPU runs (the enum is internal, so tests take its name).</summary>
    private static IEnumerable<string> Kernels() =>
        Enum.GetValues<CpuGemm.KernelKind>().Where(kind => kind == CpuGemm.KernelKind.Auto || CpuGemm.IsSupported(kind)).Select(kind => kind.ToString());

    [TestCaseSource(nameof(Kernels))]
    public void Sgemm_OddSizes_AllTransposes_MatchReference(string kernelName)
    {
        var kernel = Enum.Parse<CpuGemm.KernelKind>(kernelName);
        int cases = 0;
        foreach (int m in OddSizes)
            foreach (int n in OddSizes)
                foreach (int k in OddSizes)
                    foreach (var (ta, tb) in Transposes)
                    {
                        float beta = Betas[cases % Betas.Length];
                        // Auto also takes the small unpacked path; explicit kernels always go through packing.
                        CheckSgemm(kernel, allowSmall: kernel == CpuGemm.KernelKind.Auto, ta, tb, m, n, k,
                            alpha: 1.5f, beta, parallel: cases % 2 == 0, seed: cases);
                        cases++;
                    }
    }

    [TestCaseSource(nameof(Kernels))]
    public void Sgemm_LargerShapes_AllTransposes_MatchReference(string kernelName)
    {
        // Auto (the production choice) sees every beta; the explicit kernels one beta per case, to bound the runtime.
        var kernel = Enum.Parse<CpuGemm.KernelKind>(kernelName);
        int seed = 100;
        foreach (var (m, n, k) in LargerShapes)
            foreach (var (ta, tb) in Transposes)
                foreach (float beta in kernel == CpuGemm.KernelKind.Auto ? Betas : [Betas[seed % Betas.Length]])
                {
                    bool parallel = seed % 2 == 0;
                    CheckSgemm(kernel, allowSmall: true, ta, tb, m, n, k, alpha: -0.75f, beta, parallel, seed++);
                }
    }

    [Test]
    public void Sgemm_ConvShapes_SerialAndParallel_MatchReference()
    {
        // Forward (W·cols), input gradient (Wᵀ·dY) and weight gradient (dY·colsᵀ) of 3×3 convolutions.
        var shapes = new (bool TA, bool TB, int M, int N, int K)[]
        {
            (false, false, 16, 1024, 144), (false, false, 32, 256, 288), (false, false, 64, 64, 576),
            (true, false, 144, 1024, 16), (true, false, 288, 256, 32), (true, false, 576, 64, 64),
            (false, true, 16, 144, 1024), (false, true, 32, 288, 256), (false, true, 64, 576, 64),
        };
        int seed = 500;
        foreach (var (ta, tb, m, n, k) in shapes)
            foreach (bool parallel in new[] { false, true })
                CheckSgemm(CpuGemm.KernelKind.Auto, allowSmall: true, ta, tb, m, n, k, alpha: 1f, beta: seed % 2 == 0 ? 0f : 1f, parallel, seed++);
    }

    [Test]
    public void Sgemm_AlphaZeroOrDepthZero_OnlyScalesC()
    {
        foreach (var (alpha, k) in new[] { (0f, 5), (2f, 0) })
            foreach (float beta in Betas)
            {
                const int m = 3, n = 5, ldc = 7;
                var a = new float[Math.Max(1, m * k)];
                var b = new float[Math.Max(1, k * n)];
                var c = Filled(m * ldc, beta == 0f ? float.NaN : 2f);
                fixed (float* pa = a, pb = b, pc = c)
                    CpuGemm.Sgemm(false, false, m, n, k, alpha, pa, Math.Max(1, k), pb, n, beta, pc, ldc, parallel: false);
                for (int i = 0; i < m; i++)
                    for (int j = 0; j < ldc; j++)
                    {
                        if (j < n) Assert.That(c[i * ldc + j], Is.EqualTo(beta == 0f ? 0f : 2f * beta), $"alpha={alpha} k={k} beta={beta} ({i},{j})");
                        else Assert.That(c[i * ldc + j], beta == 0f ? Is.NaN : Is.EqualTo(2f), $"padding ({i},{j}) was written");
                    }
            }
    }

    [Test]
    public void Sgemm_RejectsTooSmallLeadingDimensions()
    {
        var buf = new float[64];
        fixed (float* p = buf)
        {
            float* q = p;
            Assert.Throws<ArgumentOutOfRangeException>(() => CpuGemm.Sgemm(false, false, 4, 4, 4, 1f, q, 3, q, 4, 0f, q, 4, false));
            Assert.Throws<ArgumentOutOfRangeException>(() => CpuGemm.Sgemm(true, false, 5, 4, 4, 1f, q, 4, q, 4, 0f, q, 4, false));
            Assert.Throws<ArgumentOutOfRangeException>(() => CpuGemm.Sgemm(false, true, 4, 4, 5, 1f, q, 5, q, 4, 0f, q, 4, false));
            Assert.Throws<ArgumentOutOfRangeException>(() => CpuGemm.Sgemm(false, false, 4, 4, 4, 1f, q, 4, q, 4, 0f, q, 3, false));
        }
    }

    [Test]
    public void Sgemm_WarmSerialCall_AllocatesNothing()
    {
        foreach (var (ta, tb, m, n, k) in new[] { (false, false, 100, 257, 65), (false, true, 16, 144, 300), (true, false, 65, 64, 33), (false, false, 3, 4, 5) })
        {
            var a = Random(m * k, 1); var b = Random(k * n, 2); var c = new float[m * n];
            fixed (float* pa = a, pb = b, pc = c)
            {
                int lda = ta ? m : k, ldb = tb ? k : n;
                for (int warm = 0; warm < 3; warm++) CpuGemm.Sgemm(ta, tb, m, n, k, 1f, pa, lda, pb, ldb, 0f, pc, n, parallel: false);
                long before = GC.GetAllocatedBytesForCurrentThread();
                CpuGemm.Sgemm(ta, tb, m, n, k, 1f, pa, lda, pb, ldb, 0.5f, pc, n, parallel: false);
                long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
                Assert.That(allocated, Is.Zero, $"warm Sgemm {m}x{n}x{k} ta={ta} tb={tb} allocated {allocated} bytes");
            }
        }
    }

    [Test]
    public void Dgemm_OddAndLargerShapes_AllTransposes_MatchReference()
    {
        int seed = 900;
        var shapes = OddSizes.SelectMany(m => OddSizes.Select(n => (m, n, k: OddSizes[(m + n) % OddSizes.Length])))
            .Concat([(100, 257, 7), (31, 33, 300), (7, 600, 65), (65, 64, 257)]);
        foreach (var (m, n, k) in shapes)
            foreach (var (ta, tb) in Transposes)
            {
                float beta = Betas[seed % Betas.Length];
                CheckDgemm(ta, tb, m, n, k, alpha: 1.25, beta, seed++);
            }
    }

    /// <summary>(m, n, k) for the offset-table GEMMs: row and column tails, several KC / DotKC depth blocks, m below one tile.</summary>
    private static readonly (int M, int N, int K)[] OffsetShapes = [(1, 5, 9), (13, 45, 300), (16, 70, 144), (20, 33, 600), (7, 10, 1100)];

    [Test]
    public void SgemmOffsetRows_RandomOffsets_MatchReference()
    {
        // B[p, j] = b[offsets[p] + j] with offsets anywhere in the buffer (overlapping rows, as convolution taps are).
        int seed = 1200;
        foreach (var (m, n, k) in OffsetShapes)
        {
            int tile = CpuGemm.OffsetColumnTile, columns = (n + tile - 1) / tile * tile, ldc = columns + 3;
            var b = Random(4 * k + columns, seed);
            var offsets = RandomOffsets(k, 4 * k, seed + 1);
            var a = Random(m * k, seed + 2);
            var packed = new float[CpuGemm.PackedPanelsLength(m, k)];
            var c = Filled(m * ldc, float.NaN);
            var c0 = (float[])c.Clone();
            fixed (float* pa = a, pp = packed, pb = b, pc = c)
            fixed (int* po = offsets)
            {
                CpuGemm.PackAPanels(pa, k, m, k, pp);
                CpuGemm.SgemmOffsetRows(m, n, k, pp, pb, po, pc, ldc);
            }
            var bRows = Gathered(b, offsets, k, n);
            Compare($"SgemmOffsetRows m={m} n={n} k={k}", m, n, n, Leading(c, m, ldc, n), Leading(c0, m, ldc, n), FloatTolerance,
                (i, j) => Reference(a, k, false, bRows, n, false, i, j, k, 1f, 0f, 0f));
            seed += 10;
        }
    }

    [Test]
    public void SgemmOffsetRowsT_RandomOffsets_MatchReference()
    {
        // C = A·Bᵀ with B[j, p] = b[offsets[j] + p], beta 0 (C full of NaN) and 0.5.
        if (!CpuGemm.HasOffsetRowsT) Assert.Ignore("SgemmOffsetRowsT needs AVX-512");
        int seed = 1300;
        foreach (var (m, n, k) in OffsetShapes)
            foreach (float beta in new[] { 0f, 0.5f })
            {
                int lda = k + 3, ldc = n + 2;
                var a = Random(m * lda, seed);
                var b = Random(3 * n + k, seed + 1);
                var offsets = RandomOffsets(n, 3 * n, seed + 2);
                var c = beta == 0f ? Filled(m * ldc, float.NaN) : Random(m * ldc, seed + 3);
                var c0 = (float[])c.Clone();
                fixed (float* pa = a, pb = b, pc = c)
                fixed (int* po = offsets)
                    CpuGemm.SgemmOffsetRowsT(m, n, k, pa, lda, pb, po, beta, pc, ldc);
                var bRows = Gathered(b, offsets, n, k);
                Compare($"SgemmOffsetRowsT m={m} n={n} k={k} beta={beta}", m, n, ldc, c, c0, FloatTolerance,
                    (i, j) => Reference(a, lda, false, bRows, k, true, i, j, k, 1f, beta, c0[i * ldc + j]));
                seed += 10;
            }
    }

    // ---- helpers ----

    private static int[] RandomOffsets(int count, int range, int seed)
    {
        var rng = new Random(seed);
        return Enumerable.Range(0, count).Select(_ => rng.Next(range)).ToArray();
    }

    /// <summary>The dense rows×length matrix whose row r is b[offsets[r] .. offsets[r] + length).</summary>
    private static float[] Gathered(float[] b, int[] offsets, int rows, int length)
    {
        var dense = new float[rows * length];
        for (int r = 0; r < rows; r++) Array.Copy(b, offsets[r], dense, r * length, length);
        return dense;
    }

    /// <summary>The first `columns` of each of m rows, ldc apart, as a dense matrix.</summary>
    private static float[] Leading(float[] c, int m, int ldc, int columns)
    {
        var dense = new float[m * columns];
        for (int i = 0; i < m; i++) Array.Copy(c, i * ldc, dense, i * columns, columns);
        return dense;
    }

    private static void CheckSgemm(CpuGemm.KernelKind kernel, bool allowSmall, bool ta, bool tb, int m, int n, int k,
        float alpha, float beta, bool parallel, int seed)
    {
        // Leading dimensions larger than the minimum, with odd padding, so stride handling is exercised.
        int lda = (ta ? m : k) + 3, ldb = (tb ? k : n) + 5, ldc = n + 2;
        var a = Random((ta ? k : m) * lda, seed);
        var b = Random((tb ? n : k) * ldb, seed + 7919);
        var c = beta == 0f ? Filled(m * ldc, float.NaN) : Random(m * ldc, seed + 104729);
        var c0 = (float[])c.Clone();
        fixed (float* pa = a, pb = b, pc = c)
            CpuGemm.SgemmWith(kernel, allowSmall, ta, tb, m, n, k, alpha, pa, lda, pb, ldb, beta, pc, ldc, parallel);

        string what = $"Sgemm[{kernel}] m={m} n={n} k={k} ta={ta} tb={tb} alpha={alpha} beta={beta} parallel={parallel}";
        Compare(what, m, n, ldc, c, c0, FloatTolerance, (i, j) => Reference(a, lda, ta, b, ldb, tb, i, j, k, alpha, beta, c0[i * ldc + j]));
    }

    private static void CheckDgemm(bool ta, bool tb, int m, int n, int k, double alpha, double beta, int seed)
    {
        int lda = (ta ? m : k) + 2, ldb = (tb ? k : n) + 1, ldc = n + 3;
        var a = Random((ta ? k : m) * lda, seed).Select(x => (double)x).ToArray();
        var b = Random((tb ? n : k) * ldb, seed + 31).Select(x => (double)x).ToArray();
        var c = beta == 0 ? Enumerable.Repeat(double.NaN, m * ldc).ToArray() : Random(m * ldc, seed + 62).Select(x => (double)x).ToArray();
        var c0 = (double[])c.Clone();
        fixed (double* pa = a, pb = b, pc = c)
            CpuGemm.Dgemm(ta, tb, m, n, k, alpha, pa, lda, pb, ldb, beta, pc, ldc);

        string what = $"Dgemm m={m} n={n} k={k} ta={ta} tb={tb} alpha={alpha} beta={beta}";
        Compare(what, m, n, ldc, c, c0, DoubleTolerance, (i, j) =>
        {
            double sum = 0, mag = 0;
            for (int p = 0; p < k; p++)
            {
                double t = (ta ? a[p * lda + i] : a[i * lda + p]) * (tb ? b[j * ldb + p] : b[p * ldb + j]);
                sum += t;
                mag += Math.Abs(t);
            }
            double cOld = beta == 0 ? 0 : beta * c0[i * ldc + j];
            return (alpha * sum + cOld, Math.Abs(alpha) * mag + Math.Abs(cOld));
        });
    }

    /// <summary>Reference value of element (i, j) and the magnitude the error bound scales with.</summary>
    private static (double Value, double Magnitude) Reference(float[] a, int lda, bool ta, float[] b, int ldb, bool tb,
        int i, int j, int k, float alpha, float beta, float cOld)
    {
        double sum = 0, mag = 0;
        for (int p = 0; p < k; p++)
        {
            double t = (double)(ta ? a[p * lda + i] : a[i * lda + p]) * (tb ? b[j * ldb + p] : b[p * ldb + j]);
            sum += t;
            mag += Math.Abs(t);
        }
        double cTerm = beta == 0f ? 0 : (double)beta * cOld;
        return (alpha * sum + cTerm, Math.Abs(alpha) * mag + Math.Abs(cTerm));
    }

    /// <summary>Checks the m×n result and that the ldc padding columns kept their old values; reports the first mismatches.</summary>
    private static void Compare<T>(string what, int m, int n, int ldc, T[] actual, T[] before, double tolerance,
        Func<int, int, (double Value, double Magnitude)> reference) where T : unmanaged, IConvertible
    {
        var report = new List<string>();
        int mismatches = 0;
        double maxDiff = 0;
        for (int i = 0; i < m; i++)
        {
            for (int j = 0; j < n; j++)
            {
                var (expected, magnitude) = reference(i, j);
                double got = actual[i * ldc + j].ToDouble(null);
                double diff = Math.Abs(got - expected);
                if (double.IsNaN(got)) diff = double.PositiveInfinity;
                maxDiff = Math.Max(maxDiff, diff);
                if (diff > tolerance * magnitude + AbsoluteFloor)
                {
                    if (mismatches++ < MaxReported) report.Add($"  ({i},{j}): got {got:R}, expected {expected:R}, diff {diff:E3}, bound {tolerance * magnitude:E3}");
                }
            }
            for (int j = n; j < ldc && i * ldc + j < actual.Length; j++)
            {
                double got = actual[i * ldc + j].ToDouble(null), old = before[i * ldc + j].ToDouble(null);
                if (!(got == old || (double.IsNaN(got) && double.IsNaN(old))) && mismatches++ < MaxReported)
                    report.Add($"  padding ({i},{j}) changed from {old:R} to {got:R}");
            }
        }
        if (mismatches > 0)
            Assert.Fail($"{what}: {mismatches} mismatches, max |diff| {maxDiff:E3}\n{string.Join('\n', report)}");
    }

    private static float[] Random(int length, int seed)
    {
        var rng = new Random(seed);
        var x = new float[length];
        for (int i = 0; i < length; i++) x[i] = (float)(rng.NextDouble() * 2 - 1);
        return x;
    }

    private static float[] Filled(int length, float value)
    {
        var x = new float[length];
        Array.Fill(x, value);
        return x;
    }
}
