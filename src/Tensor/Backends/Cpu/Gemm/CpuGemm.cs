// CPU GEMM entry points. Sgemm: argument checks, then the cheap unpacked path for tiny problems, or the packed
// blocked driver (CpuGemm.Driver.cs) with the best micro-kernel for this CPU, split over threads when asked.
// Dgemm (double, for gradient checks) lives in CpuGemm.Double.cs.
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Standalone.Backends.Cpu;

internal static unsafe partial class CpuGemm
{
    /// <summary>Micro-kernel choice; Auto picks the best one the CPU supports. The others exist for tests and tuning.</summary>
    internal enum KernelKind { Auto, Avx512x12, Avx512x8, Avx2, Vector128 }

    /// <summary>At or below this m·n·k the unpacked loop beats packing.</summary>
    private const long SmallWork = 256;

    /// <summary>Minimum m·n·k per thread before a parallel call is split (~2 MFLOP).</summary>
    private const long ParallelMinWork = 1L << 20;

    /// <summary>8×32 measured as fast as 12×32 on large squares (Zen 5, ~200 GFLOP/s per core) and wastes no rows
    /// when M is a multiple of 8 (conv channel counts 16/32/64), so it is the AVX-512 default.</summary>
    private static readonly KernelKind BestKernel =
        Avx512F.IsSupported ? KernelKind.Avx512x8 :
        Avx2.IsSupported && Fma.IsSupported ? KernelKind.Avx2 : KernelKind.Vector128;

    // Row-major: C[m,n] = alpha * op(A)[m,k] * op(B)[k,n] + beta * C.
    // op(A) = A (A is m×k, element (i,p) at a[i*lda+p]) or Aᵀ when transA (A stored k×m, element (i,p) at a[p*lda+i]).
    // Same for B (k×n, or n×k stored when transB). beta == 0 means C is overwritten (NaNs in C must not leak).
    public static void Sgemm(bool transA, bool transB, int m, int n, int k, float alpha, float* a, int lda,
        float* b, int ldb, float beta, float* c, int ldc, bool parallel)
        => SgemmWith(KernelKind.Auto, allowSmall: true, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, parallel);

    /// <summary>Sgemm with an explicit micro-kernel and the small-problem shortcut optionally disabled (tests, tuning).</summary>
    internal static void SgemmWith(KernelKind kernel, bool allowSmall, bool transA, bool transB, int m, int n, int k,
        float alpha, float* a, int lda, float* b, int ldb, float beta, float* c, int ldc, bool parallel)
    {
        CheckArgs(transA, transB, m, n, k, lda, ldb, ldc);
        if (m == 0 || n == 0) return;
        if (k == 0 || alpha == 0f)
        {
            for (int i = 0; i < m; i++) ScaleRow(c + (nint)i * ldc, n, beta);
            return;
        }
        if (kernel == KernelKind.Auto)
        {
            kernel = BestKernel;
        }
        else if (!IsSupported(kernel))
        {
            throw new PlatformNotSupportedException($"GEMM kernel {kernel} is not supported on this CPU");
        }

        long work = (long)m * n * k;
        if (allowSmall && work <= SmallWork)
        {
            SmallSgemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
            return;
        }

        int threads = parallel ? (int)Math.Min(CpuParallel.ThreadCount, Math.Max(1, work / ParallelMinWork)) : 1;
        (int mr, int nr) = TileOf(kernel);
        int mPanels = (m + mr - 1) / mr, nPanels = (n + nr - 1) / nr;
        bool splitN = nPanels >= mPanels;
        threads = Math.Min(threads, splitN ? nPanels : mPanels);
        if (threads <= 1)
        {
            RunBlocked(kernel, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
            return;
        }

        RunParallel(kernel, threads, splitN, splitN ? nPanels : mPanels, mr, nr, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
    }

    /// <summary>Each thread runs the whole blocked algorithm on a contiguous slab of C (whole micro-panels) with its own
    /// packing buffers: no barriers, and A (or B) packing is duplicated only once per thread. A separate method so
    /// that the closure is allocated only on this path.</summary>
    private static void RunParallel(KernelKind kernel, int threads, bool splitN, int panels, int mr, int nr, bool transA, bool transB,
        int m, int n, int k, float alpha, float* a, int lda, float* b, int ldb, float beta, float* c, int ldc)
    {
        CpuParallel.For(threads, t =>
        {
            int first = (int)((long)panels * t / threads), last = (int)((long)panels * (t + 1) / threads);
            if (splitN)
            {
                int j0 = first * nr, j1 = Math.Min(n, last * nr);
                float* bt = transB ? b + (nint)j0 * ldb : b + j0;
                RunBlocked(kernel, transA, transB, m, j1 - j0, k, alpha, a, lda, bt, ldb, beta, c + j0, ldc);
            }
            else
            {
                int i0 = first * mr, i1 = Math.Min(m, last * mr);
                float* at = transA ? a + i0 : a + (nint)i0 * lda;
                RunBlocked(kernel, transA, transB, i1 - i0, n, k, alpha, at, lda, b, ldb, beta, c + (nint)i0 * ldc, ldc);
            }
        });
    }

    internal static bool IsSupported(KernelKind kernel) => kernel switch
    {
        KernelKind.Avx512x12 or KernelKind.Avx512x8 => Avx512F.IsSupported,
        KernelKind.Avx2 => Avx2.IsSupported && Fma.IsSupported,
        _ => true,
    };

    private static (int Mr, int Nr) TileOf(KernelKind kernel) => kernel switch
    {
        KernelKind.Avx512x12 => (Kernel12x32.MR, Kernel12x32.NR),
        KernelKind.Avx512x8 => (Kernel8x32.MR, Kernel8x32.NR),
        KernelKind.Avx2 => (Kernel6x16.MR, Kernel6x16.NR),
        _ => (Kernel4x8.MR, Kernel4x8.NR),
    };

    private static void RunBlocked(KernelKind kernel, bool transA, bool transB, int m, int n, int k, float alpha,
        float* a, nint lda, float* b, nint ldb, float beta, float* c, nint ldc)
    {
        if (UseDot(transA, transB, m, k) && kernel is KernelKind.Avx512x12 or KernelKind.Avx512x8)
        {
            DotGemm(m, n, k, alpha, a, lda, new StridedRows(b, ldb), beta, c, ldc);
            return;
        }
        switch (kernel)
        {
            case KernelKind.Avx512x12: Blocked<Kernel12x32>(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc); break;
            case KernelKind.Avx512x8: Blocked<Kernel8x32>(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc); break;
            case KernelKind.Avx2: Blocked<Kernel6x16>(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc); break;
            default: Blocked<Kernel4x8>(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc); break;
        }
    }

    private static void CheckArgs(bool transA, bool transB, int m, int n, int k, int lda, int ldb, int ldc)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(m);
        ArgumentOutOfRangeException.ThrowIfNegative(n);
        ArgumentOutOfRangeException.ThrowIfNegative(k);
        ArgumentOutOfRangeException.ThrowIfLessThan(lda, Math.Max(1, transA ? m : k));
        ArgumentOutOfRangeException.ThrowIfLessThan(ldb, Math.Max(1, transB ? k : n));
        ArgumentOutOfRangeException.ThrowIfLessThan(ldc, Math.Max(1, n));
    }

    /// <summary>c[0..n) *= beta, where beta == 0 stores zeros (so NaN/Inf already in C do not survive).</summary>
    private static void ScaleRow(float* c, int n, float beta)
    {
        if (beta == 1f) return;
        if (beta == 0f)
        {
            new Span<float>(c, n).Clear();
            return;
        }
        int j = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            Vector256<float> vb = Vector256.Create(beta);
            for (; j <= n - 8; j += 8) Vector256.Store(Vector256.Load(c + j) * vb, c + j);
        }
        for (; j < n; j++) c[j] *= beta;
    }

    /// <summary>Unpacked path for tiny problems: row axpys (B not transposed) or dot products (B transposed).</summary>
    private static void SmallSgemm(bool transA, bool transB, int m, int n, int k, float alpha, float* a, nint lda,
        float* b, nint ldb, float beta, float* c, nint ldc)
    {
        nint aRow = transA ? 1 : lda, aCol = transA ? lda : 1; // op(A)(i,p) = a[i*aRow + p*aCol]
        for (int i = 0; i < m; i++)
        {
            float* ci = c + i * ldc;
            float* ai = a + i * aRow;
            ScaleRow(ci, n, beta);
            if (!transB)
            {
                for (int p = 0; p < k; p++) Axpy(ci, b + p * ldb, n, alpha * ai[p * aCol]);
            }
            else
            {
                for (int j = 0; j < n; j++)
                {
                    float* bj = b + j * ldb;
                    float sum = 0f;
                    if (aCol == 1) sum = Dot(ai, bj, k);
                    else for (int p = 0; p < k; p++) sum += ai[p * aCol] * bj[p];
                    ci[j] += alpha * sum;
                }
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Axpy(float* y, float* x, int n, float s)
    {
        int j = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            Vector256<float> vs = Vector256.Create(s);
            for (; j <= n - 8; j += 8) Vector256.Store(Vector256.MultiplyAddEstimate(Vector256.Load(x + j), vs, Vector256.Load(y + j)), y + j);
        }
        for (; j < n; j++) y[j] += s * x[j];
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float Dot(float* x, float* y, int k)
    {
        int p = 0;
        float sum = 0f;
        if (Vector256.IsHardwareAccelerated && k >= 8)
        {
            Vector256<float> acc = Vector256<float>.Zero;
            for (; p <= k - 8; p += 8) acc = Vector256.MultiplyAddEstimate(Vector256.Load(x + p), Vector256.Load(y + p), acc);
            sum = Vector256.Sum(acc);
        }
        for (; p < k; p++) sum += x[p] * y[p];
        return sum;
    }
}
