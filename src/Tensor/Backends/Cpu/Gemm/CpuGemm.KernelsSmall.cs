// Fallback single-precision micro-kernels for the packed GEMM: AVX2+FMA 6×16 (12 ymm accumulators, fits the
// 16 ymm registers) for CPUs without AVX-512, and a portable Vector128 4×8 kernel for everything else.
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Standalone.Backends.Cpu;

internal static unsafe partial class CpuGemm
{
    /// <summary>6 rows × 16 columns (2 ymm per row), AVX2 + FMA.</summary>
    private readonly struct Kernel6x16 : IMicroKernel
    {
        public static int MR => 6;
        public static int NR => 16;

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public static void Run<TRows>(int kc, float* a, TRows b, float* c, nint ldc, float alpha, float beta) where TRows : struct, IBRows
        {
            Vector256<float> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default;
            Vector256<float> c30 = default, c31 = default, c40 = default, c41 = default, c50 = default, c51 = default;
            for (int p = 0; p < kc; p++)
            {
                float* bp = b.Row(p);
                Vector256<float> b0 = Vector256.Load(bp), b1 = Vector256.Load(bp + 8), x;
                x = Vector256.Create(a[0]); c00 = Fma.MultiplyAdd(x, b0, c00); c01 = Fma.MultiplyAdd(x, b1, c01);
                x = Vector256.Create(a[1]); c10 = Fma.MultiplyAdd(x, b0, c10); c11 = Fma.MultiplyAdd(x, b1, c11);
                x = Vector256.Create(a[2]); c20 = Fma.MultiplyAdd(x, b0, c20); c21 = Fma.MultiplyAdd(x, b1, c21);
                x = Vector256.Create(a[3]); c30 = Fma.MultiplyAdd(x, b0, c30); c31 = Fma.MultiplyAdd(x, b1, c31);
                x = Vector256.Create(a[4]); c40 = Fma.MultiplyAdd(x, b0, c40); c41 = Fma.MultiplyAdd(x, b1, c41);
                x = Vector256.Create(a[5]); c50 = Fma.MultiplyAdd(x, b0, c50); c51 = Fma.MultiplyAdd(x, b1, c51);
                a += 6;
            }
            Vector256<float> va = Vector256.Create(alpha), vb = Vector256.Create(beta);
            bool beta0 = beta == 0f;
            Row256(c, c00, c01, va, vb, beta0); c += ldc;
            Row256(c, c10, c11, va, vb, beta0); c += ldc;
            Row256(c, c20, c21, va, vb, beta0); c += ldc;
            Row256(c, c30, c31, va, vb, beta0); c += ldc;
            Row256(c, c40, c41, va, vb, beta0); c += ldc;
            Row256(c, c50, c51, va, vb, beta0);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Row256(float* c, Vector256<float> x0, Vector256<float> x1, Vector256<float> va, Vector256<float> vb, bool beta0)
    {
        if (beta0)
        {
            Vector256.Store(x0 * va, c);
            Vector256.Store(x1 * va, c + 8);
        }
        else
        {
            Vector256.Store(Fma.MultiplyAdd(x0, va, Vector256.Load(c) * vb), c);
            Vector256.Store(Fma.MultiplyAdd(x1, va, Vector256.Load(c + 8) * vb), c + 8);
        }
    }

    /// <summary>4 rows × 8 columns (2 Vector128 per row); portable (SSE, AdvSimd, or software).</summary>
    private readonly struct Kernel4x8 : IMicroKernel
    {
        public static int MR => 4;
        public static int NR => 8;

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public static void Run<TRows>(int kc, float* a, TRows b, float* c, nint ldc, float alpha, float beta) where TRows : struct, IBRows
        {
            Vector128<float> c00 = default, c01 = default, c10 = default, c11 = default;
            Vector128<float> c20 = default, c21 = default, c30 = default, c31 = default;
            for (int p = 0; p < kc; p++)
            {
                float* bp = b.Row(p);
                Vector128<float> b0 = Vector128.Load(bp), b1 = Vector128.Load(bp + 4), x;
                x = Vector128.Create(a[0]); c00 = Vector128.MultiplyAddEstimate(x, b0, c00); c01 = Vector128.MultiplyAddEstimate(x, b1, c01);
                x = Vector128.Create(a[1]); c10 = Vector128.MultiplyAddEstimate(x, b0, c10); c11 = Vector128.MultiplyAddEstimate(x, b1, c11);
                x = Vector128.Create(a[2]); c20 = Vector128.MultiplyAddEstimate(x, b0, c20); c21 = Vector128.MultiplyAddEstimate(x, b1, c21);
                x = Vector128.Create(a[3]); c30 = Vector128.MultiplyAddEstimate(x, b0, c30); c31 = Vector128.MultiplyAddEstimate(x, b1, c31);
                a += 4;
            }
            Vector128<float> va = Vector128.Create(alpha), vb = Vector128.Create(beta);
            bool beta0 = beta == 0f;
            Row128(c, c00, c01, va, vb, beta0); c += ldc;
            Row128(c, c10, c11, va, vb, beta0); c += ldc;
            Row128(c, c20, c21, va, vb, beta0); c += ldc;
            Row128(c, c30, c31, va, vb, beta0);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Row128(float* c, Vector128<float> x0, Vector128<float> x1, Vector128<float> va, Vector128<float> vb, bool beta0)
    {
        if (beta0)
        {
            Vector128.Store(x0 * va, c);
            Vector128.Store(x1 * va, c + 4);
        }
        else
        {
            Vector128.Store(Vector128.MultiplyAddEstimate(x0, va, Vector128.Load(c) * vb), c);
            Vector128.Store(Vector128.MultiplyAddEstimate(x1, va, Vector128.Load(c + 4) * vb), c + 4);
        }
    }
}
