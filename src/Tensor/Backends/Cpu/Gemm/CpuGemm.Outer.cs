// Outer-product tiles for the weight gradient of implicit-GEMM convolution (CpuBackend.ConvImplicit.cs): dWᵀ[k, oc] +=
// Σ_g xs[off(k) + g] · dYᵀ[g, oc], with dYᵀ grid-major (the output channels of one grid point contiguous). The output
// channels run along the vectors and taps are broadcast from the stacked input, so a tile accumulates in registers over
// the whole grid with no horizontal sums: 6 taps × 64 channels (4 vector loads and 6 broadcasts per 24 FMAs) or
// 12 taps × 32 channels. The grid points are listed (map): only those holding outputs are summed over, so the gap
// points of the grid (81 per 64 outputs at 8×8) cost nothing. (24 taps × 16 channels measured 45 % slower than the
// dot products: one load per FMA, and 24 tap pointers spill.)
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Standalone.Backends.Cpu;

internal static unsafe partial class CpuGemm
{
    /// <summary>c[i·ldc + j] += Σ_g a[off[i] + map[g]]·b[g·ldb + j] for i &lt; 6, j &lt; 64, g &lt; count.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void Outer6x64(int count, float* b, nint ldb, float* a, int* off, int* map, float* c, nint ldc)
    {
        float* a0 = a + off[0], a1 = a + off[1], a2 = a + off[2], a3 = a + off[3], a4 = a + off[4], a5 = a + off[5];
        Vector512<float> c00 = Vector512.Load(c), c01 = Vector512.Load(c + 16), c02 = Vector512.Load(c + 32), c03 = Vector512.Load(c + 48);
        Vector512<float> c10 = Vector512.Load(c + ldc), c11 = Vector512.Load(c + ldc + 16), c12 = Vector512.Load(c + ldc + 32), c13 = Vector512.Load(c + ldc + 48);
        Vector512<float> c20 = Vector512.Load(c + 2 * ldc), c21 = Vector512.Load(c + 2 * ldc + 16), c22 = Vector512.Load(c + 2 * ldc + 32), c23 = Vector512.Load(c + 2 * ldc + 48);
        Vector512<float> c30 = Vector512.Load(c + 3 * ldc), c31 = Vector512.Load(c + 3 * ldc + 16), c32 = Vector512.Load(c + 3 * ldc + 32), c33 = Vector512.Load(c + 3 * ldc + 48);
        Vector512<float> c40 = Vector512.Load(c + 4 * ldc), c41 = Vector512.Load(c + 4 * ldc + 16), c42 = Vector512.Load(c + 4 * ldc + 32), c43 = Vector512.Load(c + 4 * ldc + 48);
        Vector512<float> c50 = Vector512.Load(c + 5 * ldc), c51 = Vector512.Load(c + 5 * ldc + 16), c52 = Vector512.Load(c + 5 * ldc + 32), c53 = Vector512.Load(c + 5 * ldc + 48);
        for (int g = 0; g < count; g++, b += ldb)
        {
            int q = map[g];
            Vector512<float> b0 = Vector512.Load(b), b1 = Vector512.Load(b + 16), b2 = Vector512.Load(b + 32), b3 = Vector512.Load(b + 48), x;
            x = Vector512.Create(a0[q]); c00 = Avx512F.FusedMultiplyAdd(x, b0, c00); c01 = Avx512F.FusedMultiplyAdd(x, b1, c01); c02 = Avx512F.FusedMultiplyAdd(x, b2, c02); c03 = Avx512F.FusedMultiplyAdd(x, b3, c03);
            x = Vector512.Create(a1[q]); c10 = Avx512F.FusedMultiplyAdd(x, b0, c10); c11 = Avx512F.FusedMultiplyAdd(x, b1, c11); c12 = Avx512F.FusedMultiplyAdd(x, b2, c12); c13 = Avx512F.FusedMultiplyAdd(x, b3, c13);
            x = Vector512.Create(a2[q]); c20 = Avx512F.FusedMultiplyAdd(x, b0, c20); c21 = Avx512F.FusedMultiplyAdd(x, b1, c21); c22 = Avx512F.FusedMultiplyAdd(x, b2, c22); c23 = Avx512F.FusedMultiplyAdd(x, b3, c23);
            x = Vector512.Create(a3[q]); c30 = Avx512F.FusedMultiplyAdd(x, b0, c30); c31 = Avx512F.FusedMultiplyAdd(x, b1, c31); c32 = Avx512F.FusedMultiplyAdd(x, b2, c32); c33 = Avx512F.FusedMultiplyAdd(x, b3, c33);
            x = Vector512.Create(a4[q]); c40 = Avx512F.FusedMultiplyAdd(x, b0, c40); c41 = Avx512F.FusedMultiplyAdd(x, b1, c41); c42 = Avx512F.FusedMultiplyAdd(x, b2, c42); c43 = Avx512F.FusedMultiplyAdd(x, b3, c43);
            x = Vector512.Create(a5[q]); c50 = Avx512F.FusedMultiplyAdd(x, b0, c50); c51 = Avx512F.FusedMultiplyAdd(x, b1, c51); c52 = Avx512F.FusedMultiplyAdd(x, b2, c52); c53 = Avx512F.FusedMultiplyAdd(x, b3, c53);
        }
        c00.Store(c); c01.Store(c + 16); c02.Store(c + 32); c03.Store(c + 48); c += ldc;
        c10.Store(c); c11.Store(c + 16); c12.Store(c + 32); c13.Store(c + 48); c += ldc;
        c20.Store(c); c21.Store(c + 16); c22.Store(c + 32); c23.Store(c + 48); c += ldc;
        c30.Store(c); c31.Store(c + 16); c32.Store(c + 32); c33.Store(c + 48); c += ldc;
        c40.Store(c); c41.Store(c + 16); c42.Store(c + 32); c43.Store(c + 48); c += ldc;
        c50.Store(c); c51.Store(c + 16); c52.Store(c + 32); c53.Store(c + 48);
    }

    /// <summary>c[i·ldc + j] += Σ_g a[off[i] + map[g]]·b[g·ldb + j] for i &lt; 12, j &lt; 32, g &lt; count.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void Outer12x32(int count, float* b, nint ldb, float* a, int* off, int* map, float* c, nint ldc)
    {
        float* a0 = a + off[0], a1 = a + off[1], a2 = a + off[2], a3 = a + off[3], a4 = a + off[4], a5 = a + off[5];
        float* a6 = a + off[6], a7 = a + off[7], a8 = a + off[8], a9 = a + off[9], aa = a + off[10], ab = a + off[11];
        Vector512<float> c00 = Vector512.Load(c), c01 = Vector512.Load(c + 16), c10 = Vector512.Load(c + ldc), c11 = Vector512.Load(c + ldc + 16);
        Vector512<float> c20 = Vector512.Load(c + 2 * ldc), c21 = Vector512.Load(c + 2 * ldc + 16), c30 = Vector512.Load(c + 3 * ldc), c31 = Vector512.Load(c + 3 * ldc + 16);
        Vector512<float> c40 = Vector512.Load(c + 4 * ldc), c41 = Vector512.Load(c + 4 * ldc + 16), c50 = Vector512.Load(c + 5 * ldc), c51 = Vector512.Load(c + 5 * ldc + 16);
        Vector512<float> c60 = Vector512.Load(c + 6 * ldc), c61 = Vector512.Load(c + 6 * ldc + 16), c70 = Vector512.Load(c + 7 * ldc), c71 = Vector512.Load(c + 7 * ldc + 16);
        Vector512<float> c80 = Vector512.Load(c + 8 * ldc), c81 = Vector512.Load(c + 8 * ldc + 16), c90 = Vector512.Load(c + 9 * ldc), c91 = Vector512.Load(c + 9 * ldc + 16);
        Vector512<float> ca0 = Vector512.Load(c + 10 * ldc), ca1 = Vector512.Load(c + 10 * ldc + 16), cb0 = Vector512.Load(c + 11 * ldc), cb1 = Vector512.Load(c + 11 * ldc + 16);
        for (int g = 0; g < count; g++, b += ldb)
        {
            int q = map[g];
            Vector512<float> b0 = Vector512.Load(b), b1 = Vector512.Load(b + 16), x;
            x = Vector512.Create(a0[q]); c00 = Avx512F.FusedMultiplyAdd(x, b0, c00); c01 = Avx512F.FusedMultiplyAdd(x, b1, c01);
            x = Vector512.Create(a1[q]); c10 = Avx512F.FusedMultiplyAdd(x, b0, c10); c11 = Avx512F.FusedMultiplyAdd(x, b1, c11);
            x = Vector512.Create(a2[q]); c20 = Avx512F.FusedMultiplyAdd(x, b0, c20); c21 = Avx512F.FusedMultiplyAdd(x, b1, c21);
            x = Vector512.Create(a3[q]); c30 = Avx512F.FusedMultiplyAdd(x, b0, c30); c31 = Avx512F.FusedMultiplyAdd(x, b1, c31);
            x = Vector512.Create(a4[q]); c40 = Avx512F.FusedMultiplyAdd(x, b0, c40); c41 = Avx512F.FusedMultiplyAdd(x, b1, c41);
            x = Vector512.Create(a5[q]); c50 = Avx512F.FusedMultiplyAdd(x, b0, c50); c51 = Avx512F.FusedMultiplyAdd(x, b1, c51);
            x = Vector512.Create(a6[q]); c60 = Avx512F.FusedMultiplyAdd(x, b0, c60); c61 = Avx512F.FusedMultiplyAdd(x, b1, c61);
            x = Vector512.Create(a7[q]); c70 = Avx512F.FusedMultiplyAdd(x, b0, c70); c71 = Avx512F.FusedMultiplyAdd(x, b1, c71);
            x = Vector512.Create(a8[q]); c80 = Avx512F.FusedMultiplyAdd(x, b0, c80); c81 = Avx512F.FusedMultiplyAdd(x, b1, c81);
            x = Vector512.Create(a9[q]); c90 = Avx512F.FusedMultiplyAdd(x, b0, c90); c91 = Avx512F.FusedMultiplyAdd(x, b1, c91);
            x = Vector512.Create(aa[q]); ca0 = Avx512F.FusedMultiplyAdd(x, b0, ca0); ca1 = Avx512F.FusedMultiplyAdd(x, b1, ca1);
            x = Vector512.Create(ab[q]); cb0 = Avx512F.FusedMultiplyAdd(x, b0, cb0); cb1 = Avx512F.FusedMultiplyAdd(x, b1, cb1);
        }
        c00.Store(c); c01.Store(c + 16); c += ldc; c10.Store(c); c11.Store(c + 16); c += ldc;
        c20.Store(c); c21.Store(c + 16); c += ldc; c30.Store(c); c31.Store(c + 16); c += ldc;
        c40.Store(c); c41.Store(c + 16); c += ldc; c50.Store(c); c51.Store(c + 16); c += ldc;
        c60.Store(c); c61.Store(c + 16); c += ldc; c70.Store(c); c71.Store(c + 16); c += ldc;
        c80.Store(c); c81.Store(c + 16); c += ldc; c90.Store(c); c91.Store(c + 16); c += ldc;
        ca0.Store(c); ca1.Store(c + 16); c += ldc; cb0.Store(c); cb1.Store(c + 16);
    }

}
