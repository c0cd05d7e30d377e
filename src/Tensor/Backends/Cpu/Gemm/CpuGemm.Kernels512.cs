// AVX-512 single-precision micro-kernels for the packed GEMM (CpuGemm.Driver.cs): 8×32 (the default, 16 zmm
// accumulators) and 12×32 (24 accumulators); A broadcast from its packed MR-row panel, B read as two zmm per k step.
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Standalone.Backends.Cpu;

internal static unsafe partial class CpuGemm
{
    /// <summary>12 rows × 32 columns (2 zmm per row). a: packed panel, 12 floats per k step; b: 32 floats per k step, row p at b.Row(p).</summary>
    private readonly struct Kernel12x32 : IMicroKernel
    {
        public static int MR => 12;
        public static int NR => 32;

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public static void Run<TRows>(int kc, float* a, TRows b, float* c, nint ldc, float alpha, float beta) where TRows : struct, IBRows
        {
            Vector512<float> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default;
            Vector512<float> c30 = default, c31 = default, c40 = default, c41 = default, c50 = default, c51 = default;
            Vector512<float> c60 = default, c61 = default, c70 = default, c71 = default, c80 = default, c81 = default;
            Vector512<float> c90 = default, c91 = default, ca0 = default, ca1 = default, cb0 = default, cb1 = default;
            for (int p = 0; p < kc; p++)
            {
                float* bp = b.Row(p);
                Vector512<float> b0 = Vector512.Load(bp), b1 = Vector512.Load(bp + 16), x;
                x = Vector512.Create(a[0]); c00 = Avx512F.FusedMultiplyAdd(x, b0, c00); c01 = Avx512F.FusedMultiplyAdd(x, b1, c01);
                x = Vector512.Create(a[1]); c10 = Avx512F.FusedMultiplyAdd(x, b0, c10); c11 = Avx512F.FusedMultiplyAdd(x, b1, c11);
                x = Vector512.Create(a[2]); c20 = Avx512F.FusedMultiplyAdd(x, b0, c20); c21 = Avx512F.FusedMultiplyAdd(x, b1, c21);
                x = Vector512.Create(a[3]); c30 = Avx512F.FusedMultiplyAdd(x, b0, c30); c31 = Avx512F.FusedMultiplyAdd(x, b1, c31);
                x = Vector512.Create(a[4]); c40 = Avx512F.FusedMultiplyAdd(x, b0, c40); c41 = Avx512F.FusedMultiplyAdd(x, b1, c41);
                x = Vector512.Create(a[5]); c50 = Avx512F.FusedMultiplyAdd(x, b0, c50); c51 = Avx512F.FusedMultiplyAdd(x, b1, c51);
                x = Vector512.Create(a[6]); c60 = Avx512F.FusedMultiplyAdd(x, b0, c60); c61 = Avx512F.FusedMultiplyAdd(x, b1, c61);
                x = Vector512.Create(a[7]); c70 = Avx512F.FusedMultiplyAdd(x, b0, c70); c71 = Avx512F.FusedMultiplyAdd(x, b1, c71);
                x = Vector512.Create(a[8]); c80 = Avx512F.FusedMultiplyAdd(x, b0, c80); c81 = Avx512F.FusedMultiplyAdd(x, b1, c81);
                x = Vector512.Create(a[9]); c90 = Avx512F.FusedMultiplyAdd(x, b0, c90); c91 = Avx512F.FusedMultiplyAdd(x, b1, c91);
                x = Vector512.Create(a[10]); ca0 = Avx512F.FusedMultiplyAdd(x, b0, ca0); ca1 = Avx512F.FusedMultiplyAdd(x, b1, ca1);
                x = Vector512.Create(a[11]); cb0 = Avx512F.FusedMultiplyAdd(x, b0, cb0); cb1 = Avx512F.FusedMultiplyAdd(x, b1, cb1);
                a += 12;
            }
            Vector512<float> va = Vector512.Create(alpha), vb = Vector512.Create(beta);
            bool beta0 = beta == 0f;
            Row512(c, c00, c01, va, vb, beta0); c += ldc;
            Row512(c, c10, c11, va, vb, beta0); c += ldc;
            Row512(c, c20, c21, va, vb, beta0); c += ldc;
            Row512(c, c30, c31, va, vb, beta0); c += ldc;
            Row512(c, c40, c41, va, vb, beta0); c += ldc;
            Row512(c, c50, c51, va, vb, beta0); c += ldc;
            Row512(c, c60, c61, va, vb, beta0); c += ldc;
            Row512(c, c70, c71, va, vb, beta0); c += ldc;
            Row512(c, c80, c81, va, vb, beta0); c += ldc;
            Row512(c, c90, c91, va, vb, beta0); c += ldc;
            Row512(c, ca0, ca1, va, vb, beta0); c += ldc;
            Row512(c, cb0, cb1, va, vb, beta0);
        }
    }

    /// <summary>8 rows × 32 columns (2 zmm per row): fits M = 8, 16, 32, 64 exactly.</summary>
    private readonly struct Kernel8x32 : IMicroKernel
    {
        public static int MR => 8;
        public static int NR => 32;

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public static void Run<TRows>(int kc, float* a, TRows b, float* c, nint ldc, float alpha, float beta) where TRows : struct, IBRows
        {
            Vector512<float> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default;
            Vector512<float> c30 = default, c31 = default, c40 = default, c41 = default, c50 = default, c51 = default;
            Vector512<float> c60 = default, c61 = default, c70 = default, c71 = default;
            for (int p = 0; p < kc; p++)
            {
                float* bp = b.Row(p);
                Vector512<float> b0 = Vector512.Load(bp), b1 = Vector512.Load(bp + 16), x;
                x = Vector512.Create(a[0]); c00 = Avx512F.FusedMultiplyAdd(x, b0, c00); c01 = Avx512F.FusedMultiplyAdd(x, b1, c01);
                x = Vector512.Create(a[1]); c10 = Avx512F.FusedMultiplyAdd(x, b0, c10); c11 = Avx512F.FusedMultiplyAdd(x, b1, c11);
                x = Vector512.Create(a[2]); c20 = Avx512F.FusedMultiplyAdd(x, b0, c20); c21 = Avx512F.FusedMultiplyAdd(x, b1, c21);
                x = Vector512.Create(a[3]); c30 = Avx512F.FusedMultiplyAdd(x, b0, c30); c31 = Avx512F.FusedMultiplyAdd(x, b1, c31);
                x = Vector512.Create(a[4]); c40 = Avx512F.FusedMultiplyAdd(x, b0, c40); c41 = Avx512F.FusedMultiplyAdd(x, b1, c41);
                x = Vector512.Create(a[5]); c50 = Avx512F.FusedMultiplyAdd(x, b0, c50); c51 = Avx512F.FusedMultiplyAdd(x, b1, c51);
                x = Vector512.Create(a[6]); c60 = Avx512F.FusedMultiplyAdd(x, b0, c60); c61 = Avx512F.FusedMultiplyAdd(x, b1, c61);
                x = Vector512.Create(a[7]); c70 = Avx512F.FusedMultiplyAdd(x, b0, c70); c71 = Avx512F.FusedMultiplyAdd(x, b1, c71);
                a += 8;
            }
            Vector512<float> va = Vector512.Create(alpha), vb = Vector512.Create(beta);
            bool beta0 = beta == 0f;
            Row512(c, c00, c01, va, vb, beta0); c += ldc;
            Row512(c, c10, c11, va, vb, beta0); c += ldc;
            Row512(c, c20, c21, va, vb, beta0); c += ldc;
            Row512(c, c30, c31, va, vb, beta0); c += ldc;
            Row512(c, c40, c41, va, vb, beta0); c += ldc;
            Row512(c, c50, c51, va, vb, beta0); c += ldc;
            Row512(c, c60, c61, va, vb, beta0); c += ldc;
            Row512(c, c70, c71, va, vb, beta0);
        }
    }

    /// <summary>Writes one 32-wide tile row: c = alpha*x (+ beta*c unless beta0).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Row512(float* c, Vector512<float> x0, Vector512<float> x1, Vector512<float> va, Vector512<float> vb, bool beta0)
    {
        if (beta0)
        {
            Vector512.Store(x0 * va, c);
            Vector512.Store(x1 * va, c + 16);
        }
        else
        {
            Vector512.Store(Avx512F.FusedMultiplyAdd(x0, va, Vector512.Load(c) * vb), c);
            Vector512.Store(Avx512F.FusedMultiplyAdd(x1, va, Vector512.Load(c + 16) * vb), c + 16);
        }
    }
}
