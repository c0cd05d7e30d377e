// Double-precision GEMM for gradient checks: simple, correct and blocked over k and n so the B block stays in
// cache, with vectorized row axpys (B not transposed) or dot products (B transposed). Not tuned for speed.
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Standalone.Backends.Cpu;

internal static unsafe partial class CpuGemm
{
    private const int DoubleKC = 128;
    private const int DoubleNC = 512;

    [ThreadStatic] private static double[]? t_doubleRow;

    // Same contract as Sgemm, in double precision and always on the calling thread.
    public static void Dgemm(bool transA, bool transB, int m, int n, int k, double alpha, double* a, int lda,
        double* b, int ldb, double beta, double* c, int ldc)
    {
        CheckArgs(transA, transB, m, n, k, lda, ldb, ldc);
        if (m == 0 || n == 0) return;
        for (int i = 0; i < m; i++) ScaleRowD(c + (nint)i * ldc, n, beta);
        if (k == 0 || alpha == 0d) return;

        nint aRow = transA ? 1 : lda, aCol = transA ? lda : 1; // op(A)(i,p) = a[i*aRow + p*aCol]
        if (!transB)
        {
            for (int j0 = 0; j0 < n; j0 += DoubleNC)
            {
                int nb = Math.Min(DoubleNC, n - j0);
                for (int p0 = 0; p0 < k; p0 += DoubleKC)
                {
                    int kc = Math.Min(DoubleKC, k - p0);
                    for (int i = 0; i < m; i++)
                    {
                        double* ci = c + (nint)i * ldc + j0;
                        double* ai = a + i * aRow + p0 * aCol;
                        double* bp = b + (nint)p0 * ldb + j0;
                        for (int p = 0; p < kc; p++, bp += ldb) AxpyD(ci, bp, nb, alpha * ai[p * aCol]);
                    }
                }
            }
            return;
        }

        // B stored n×k: C[i,j] += alpha * dot(op(A) row i, B row j); A rows are made contiguous first when transposed.
        double[] rowBuf = t_doubleRow is { } buf && buf.Length >= k ? buf : (t_doubleRow = new double[Math.Max(k, 256)]);
        fixed (double* row = rowBuf)
        {
            const int JB = 64; // rows of B per block: JB×DoubleKC doubles = 64 KiB
            for (int p0 = 0; p0 < k; p0 += DoubleKC)
            {
                int kc = Math.Min(DoubleKC, k - p0);
                for (int j0 = 0; j0 < n; j0 += JB)
                {
                    int j1 = Math.Min(n, j0 + JB);
                    for (int i = 0; i < m; i++)
                    {
                        double* ai = a + i * aRow + p0 * aCol;
                        if (aCol != 1)
                        {
                            for (int p = 0; p < kc; p++) row[p] = ai[p * aCol];
                            ai = row;
                        }
                        double* ci = c + (nint)i * ldc;
                        for (int j = j0; j < j1; j++) ci[j] += alpha * DotD(ai, b + (nint)j * ldb + p0, kc);
                    }
                }
            }
        }
    }

    private static void ScaleRowD(double* c, int n, double beta)
    {
        if (beta == 1d) return;
        if (beta == 0d)
        {
            new Span<double>(c, n).Clear();
            return;
        }
        for (int j = 0; j < n; j++) c[j] *= beta;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void AxpyD(double* y, double* x, int n, double s)
    {
        int j = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            Vector256<double> vs = Vector256.Create(s);
            for (; j <= n - 4; j += 4) Vector256.Store(Vector256.Load(y + j) + Vector256.Load(x + j) * vs, y + j);
        }
        for (; j < n; j++) y[j] += s * x[j];
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static double DotD(double* x, double* y, int k)
    {
        int p = 0;
        double sum = 0d;
        if (Vector256.IsHardwareAccelerated && k >= 4)
        {
            Vector256<double> acc = Vector256<double>.Zero;
            for (; p <= k - 4; p += 4) acc += Vector256.Load(x + p) * Vector256.Load(y + p);
            sum = Vector256.Sum(acc);
        }
        for (; p < k; p++) sum += x[p] * y[p];
        return sum;
    }
}
