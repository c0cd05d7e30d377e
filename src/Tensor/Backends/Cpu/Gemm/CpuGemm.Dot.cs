// Unpacked "dot-product" SGEMM for C = A·Bᵀ with both A (m×k) and B (n×k) rows contiguous along k and a moderate
// number of rows of C (weight-gradient shapes: C[Cout, 9·Cin] = dY[Cout, HW]·colsᵀ). Transposing B into NR panels would cost about
// as much as the multiply, so blocks of rows are dotted directly with AVX-512 and reduced by a shuffle tree: 6×4 where
// the rows allow (16 = 6 + 6 + 4), else 4×4. The 6×4 block loads 10 vectors for 24 products against 4×4's 8 for 16 —
// B's rows are convolution taps at odd offsets, so each of their loads spans two cache lines (16 → 16 at 32×32,
// batch 128, backward weight: 1.720 → 1.667 ms and 1.756 → 1.715 ms, interleaved).
// B rows come through IBRows: a constant stride, or an offset table (implicit-GEMM convolution, CpuGemm.Offsets.cs).
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Standalone.Backends.Cpu;

internal static unsafe partial class CpuGemm
{
    /// <summary>Depth of one pass, so that 4 rows of B (4·DotKC floats) stay in L1 while the A rows go by.</summary>
    private const int DotKC = 1024;

    /// <summary>Whether the dot path is used: A not transposed, B transposed, not too many rows, long enough rows.</summary>
    /// <remarks>Measured: the dot path wins from k ≈ 256 up to m ≈ 128 rows, and from k ≈ 128 for m ≤ 16; below that
    /// depth the shuffle-tree reductions cost more than the transposed packing saves.</remarks>
    private static bool UseDot(bool transA, bool transB, int m, int k) =>
        !transA && transB && Avx512F.IsSupported && (k >= 256 ? m <= DotMaxRows : k >= 128 && m <= 16);

    private const int DotMaxRows = 128;

    /// <summary>C = alpha·A·Bᵀ (+ beta·C), row j of B (k contiguous floats) at b.Row(j).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void DotGemm<TRows>(int m, int n, int k, float alpha, float* a, nint lda, TRows b, float beta, float* c, nint ldc)
        where TRows : struct, IBRows
    {
        int kBlocks = (k + DotKC - 1) / DotKC;
        int kcMax = RoundUp((k + kBlocks - 1) / kBlocks, 16); // whole vectors: only the last pass has a depth tail
        int rows6 = SixRowTiles(m) * 6;
        for (int p0 = 0; p0 < k; p0 += kcMax)
        {
            int kc = Math.Min(kcMax, k - p0);
            float betaK = p0 == 0 ? beta : 1f;
            for (int j = 0; j < n; j += 4)
            {
                int cols = Math.Min(4, n - j);
                int i = 0;
                if (cols == 4)
                    for (; i < rows6; i += 6)
                        Dot6x4(kc, a + i * lda + p0, lda, b.Row(j) + p0, b.Row(j + 1) + p0, b.Row(j + 2) + p0, b.Row(j + 3) + p0, c + i * ldc + j, ldc, alpha, betaK);
                for (; i < m; i += 4)
                {
                    int rows = Math.Min(4, m - i);
                    float* ai = a + i * lda + p0;
                    float* ci = c + i * ldc + j;
                    if (rows == 4 && cols == 4)
                    {
                        Dot4x4(kc, ai, lda, b.Row(j) + p0, b.Row(j + 1) + p0, b.Row(j + 2) + p0, b.Row(j + 3) + p0, ci, ldc, alpha, betaK);
                    }
                    else
                    {
                        for (int r = 0; r < rows; r++)
                            for (int q = 0; q < cols; q++)
                            {
                                float s = alpha * Dot(ai + r * lda, b.Row(j + q) + p0, kc);
                                float* cp = ci + r * ldc + q;
                                *cp = betaK == 0f ? s : s + betaK * *cp;
                            }
                    }
                }
            }
        }
    }

    /// <summary>C[4,4] = alpha * A[4,kc]·[b, b1, b2, b3]ᵀ (+ beta*C): 16 zmm accumulators, then one shuffle tree for all 16 sums.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Dot4x4(int kc, float* a, nint lda, float* b, float* b1, float* b2, float* b3, float* c, nint ldc, float alpha, float beta)
    {
        Vector512<float> s00 = default, s01 = default, s02 = default, s03 = default, s10 = default, s11 = default, s12 = default, s13 = default;
        Vector512<float> s20 = default, s21 = default, s22 = default, s23 = default, s30 = default, s31 = default, s32 = default, s33 = default;
        float* a1 = a + lda, a2 = a + 2 * lda, a3 = a + 3 * lda;
        int p = 0;
        for (; p <= kc - 16; p += 16)
        {
            Vector512<float> x0 = Vector512.Load(a + p), x1 = Vector512.Load(a1 + p), x2 = Vector512.Load(a2 + p), x3 = Vector512.Load(a3 + p);
            Vector512<float> y = Vector512.Load(b + p);
            s00 = Avx512F.FusedMultiplyAdd(x0, y, s00); s10 = Avx512F.FusedMultiplyAdd(x1, y, s10);
            s20 = Avx512F.FusedMultiplyAdd(x2, y, s20); s30 = Avx512F.FusedMultiplyAdd(x3, y, s30);
            y = Vector512.Load(b1 + p);
            s01 = Avx512F.FusedMultiplyAdd(x0, y, s01); s11 = Avx512F.FusedMultiplyAdd(x1, y, s11);
            s21 = Avx512F.FusedMultiplyAdd(x2, y, s21); s31 = Avx512F.FusedMultiplyAdd(x3, y, s31);
            y = Vector512.Load(b2 + p);
            s02 = Avx512F.FusedMultiplyAdd(x0, y, s02); s12 = Avx512F.FusedMultiplyAdd(x1, y, s12);
            s22 = Avx512F.FusedMultiplyAdd(x2, y, s22); s32 = Avx512F.FusedMultiplyAdd(x3, y, s32);
            y = Vector512.Load(b3 + p);
            s03 = Avx512F.FusedMultiplyAdd(x0, y, s03); s13 = Avx512F.FusedMultiplyAdd(x1, y, s13);
            s23 = Avx512F.FusedMultiplyAdd(x2, y, s23); s33 = Avx512F.FusedMultiplyAdd(x3, y, s33);
        }
        // 128-bit lane i of `sums` ends up holding row i: [s_i0, s_i1, s_i2, s_i3] (each a sum over all 16 elements).
        Vector512<float> r0 = Reduce4(s00, s01, s02, s03), r1 = Reduce4(s10, s11, s12, s13);
        Vector512<float> r2 = Reduce4(s20, s21, s22, s23), r3 = Reduce4(s30, s31, s32, s33);
        Vector512<float> h01 = Avx512F.Shuffle4x128(r0, r1, 0x88) + Avx512F.Shuffle4x128(r0, r1, 0xDD);
        Vector512<float> h23 = Avx512F.Shuffle4x128(r2, r3, 0x88) + Avx512F.Shuffle4x128(r2, r3, 0xDD);
        Vector512<float> sums = Avx512F.Shuffle4x128(h01, h23, 0x88) + Avx512F.Shuffle4x128(h01, h23, 0xDD);
        if (p < kc)
        {
            // Depth tail: add the remaining products element by element into the matching lanes.
            float* tail = stackalloc float[16];
            DepthTail(4, p, kc, a, lda, b, b1, b2, b3, tail);
            sums += Vector512.Load(tail);
        }
        sums *= Vector512.Create(alpha);
        StoreRow4(c, sums.GetLower().GetLower(), beta);
        StoreRow4(c + ldc, sums.GetLower().GetUpper(), beta);
        StoreRow4(c + 2 * ldc, sums.GetUpper().GetLower(), beta);
        StoreRow4(c + 3 * ldc, sums.GetUpper().GetUpper(), beta);
    }

    /// <summary>How many 6-row tiles DotGemm takes before 4-row ones: as many as leave a multiple of 4 rows (16 = 6 + 6 + 4).</summary>
    private static int SixRowTiles(int m)
    {
        int t = m / 6;
        if (m % 2 == 0)
            while (t > 0 && (m - 6 * t) % 4 != 0) t--;
        return t;
    }

    /// <summary>
    /// C[6,4] = alpha * A[6,kc]·[b, b1, b2, b3]ᵀ (+ beta*C): the six A vectors of a step stay in registers while each B
    /// vector is loaded once for six products (24 accumulators).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Dot6x4(int kc, float* a, nint lda, float* b, float* b1, float* b2, float* b3, float* c, nint ldc, float alpha, float beta)
    {
        Vector512<float> s00 = default, s01 = default, s02 = default, s03 = default, s10 = default, s11 = default, s12 = default, s13 = default;
        Vector512<float> s20 = default, s21 = default, s22 = default, s23 = default, s30 = default, s31 = default, s32 = default, s33 = default;
        Vector512<float> s40 = default, s41 = default, s42 = default, s43 = default, s50 = default, s51 = default, s52 = default, s53 = default;
        float* a1 = a + lda, a2 = a + 2 * lda, a3 = a + 3 * lda, a4 = a + 4 * lda, a5 = a + 5 * lda;
        int p = 0;
        for (; p <= kc - 16; p += 16)
        {
            Vector512<float> x0 = Vector512.Load(a + p), x1 = Vector512.Load(a1 + p), x2 = Vector512.Load(a2 + p);
            Vector512<float> x3 = Vector512.Load(a3 + p), x4 = Vector512.Load(a4 + p), x5 = Vector512.Load(a5 + p);
            Vector512<float> y = Vector512.Load(b + p);
            s00 = Avx512F.FusedMultiplyAdd(x0, y, s00); s10 = Avx512F.FusedMultiplyAdd(x1, y, s10); s20 = Avx512F.FusedMultiplyAdd(x2, y, s20);
            s30 = Avx512F.FusedMultiplyAdd(x3, y, s30); s40 = Avx512F.FusedMultiplyAdd(x4, y, s40); s50 = Avx512F.FusedMultiplyAdd(x5, y, s50);
            y = Vector512.Load(b1 + p);
            s01 = Avx512F.FusedMultiplyAdd(x0, y, s01); s11 = Avx512F.FusedMultiplyAdd(x1, y, s11); s21 = Avx512F.FusedMultiplyAdd(x2, y, s21);
            s31 = Avx512F.FusedMultiplyAdd(x3, y, s31); s41 = Avx512F.FusedMultiplyAdd(x4, y, s41); s51 = Avx512F.FusedMultiplyAdd(x5, y, s51);
            y = Vector512.Load(b2 + p);
            s02 = Avx512F.FusedMultiplyAdd(x0, y, s02); s12 = Avx512F.FusedMultiplyAdd(x1, y, s12); s22 = Avx512F.FusedMultiplyAdd(x2, y, s22);
            s32 = Avx512F.FusedMultiplyAdd(x3, y, s32); s42 = Avx512F.FusedMultiplyAdd(x4, y, s42); s52 = Avx512F.FusedMultiplyAdd(x5, y, s52);
            y = Vector512.Load(b3 + p);
            s03 = Avx512F.FusedMultiplyAdd(x0, y, s03); s13 = Avx512F.FusedMultiplyAdd(x1, y, s13); s23 = Avx512F.FusedMultiplyAdd(x2, y, s23);
            s33 = Avx512F.FusedMultiplyAdd(x3, y, s33); s43 = Avx512F.FusedMultiplyAdd(x4, y, s43); s53 = Avx512F.FusedMultiplyAdd(x5, y, s53);
        }
        Vector512<float> r0 = Reduce4(s00, s01, s02, s03), r1 = Reduce4(s10, s11, s12, s13);
        Vector512<float> r2 = Reduce4(s20, s21, s22, s23), r3 = Reduce4(s30, s31, s32, s33);
        Vector512<float> r4 = Reduce4(s40, s41, s42, s43), r5 = Reduce4(s50, s51, s52, s53);
        Vector512<float> h01 = Avx512F.Shuffle4x128(r0, r1, 0x88) + Avx512F.Shuffle4x128(r0, r1, 0xDD);
        Vector512<float> h23 = Avx512F.Shuffle4x128(r2, r3, 0x88) + Avx512F.Shuffle4x128(r2, r3, 0xDD);
        Vector512<float> h45 = Avx512F.Shuffle4x128(r4, r5, 0x88) + Avx512F.Shuffle4x128(r4, r5, 0xDD);
        // 128-bit lane i of `sums` holds row i (i < 4); lanes 0 and 1 of `sums45` hold rows 4 and 5.
        Vector512<float> sums = Avx512F.Shuffle4x128(h01, h23, 0x88) + Avx512F.Shuffle4x128(h01, h23, 0xDD);
        Vector512<float> sums45 = Avx512F.Shuffle4x128(h45, h45, 0x88) + Avx512F.Shuffle4x128(h45, h45, 0xDD);
        if (p < kc)
        {
            float* tail = stackalloc float[32];
            new Span<float>(tail + 24, 8).Clear();
            DepthTail(6, p, kc, a, lda, b, b1, b2, b3, tail);
            sums += Vector512.Load(tail);
            sums45 += Vector512.Load(tail + 16);
        }
        sums *= Vector512.Create(alpha);
        sums45 *= Vector512.Create(alpha);
        StoreRow4(c, sums.GetLower().GetLower(), beta);
        StoreRow4(c + ldc, sums.GetLower().GetUpper(), beta);
        StoreRow4(c + 2 * ldc, sums.GetUpper().GetLower(), beta);
        StoreRow4(c + 3 * ldc, sums.GetUpper().GetUpper(), beta);
        StoreRow4(c + 4 * ldc, sums45.GetLower().GetLower(), beta);
        StoreRow4(c + 5 * ldc, sums45.GetLower().GetUpper(), beta);
    }

    /// <summary>tail[r·4 + q] = Σ_{p ≤ pp &lt; kc} a[r·lda + pp]·b_q[pp] for r &lt; rows, q &lt; 4: a dot block's depth tail, element by element.</summary>
    private static void DepthTail(int rows, int p, int kc, float* a, nint lda, float* b, float* b1, float* b2, float* b3, float* tail)
    {
        for (int r = 0; r < rows; r++)
            for (int q = 0; q < 4; q++)
            {
                float* ar = a + r * lda, bq = q == 0 ? b : q == 1 ? b1 : q == 2 ? b2 : b3;
                float t = 0f;
                for (int pp = p; pp < kc; pp++) t += ar[pp] * bq[pp];
                tail[r * 4 + q] = t;
            }
    }

    /// <summary>Each 128-bit lane l of the result is [Σ_lane_l(w), Σ_lane_l(x), Σ_lane_l(y), Σ_lane_l(z)].</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Reduce4(Vector512<float> w, Vector512<float> x, Vector512<float> y, Vector512<float> z)
    {
        Vector512<float> t0 = Avx512F.UnpackLow(w, x) + Avx512F.UnpackHigh(w, x); // [w0+w2, x0+x2, w1+w3, x1+x3]
        Vector512<float> t1 = Avx512F.UnpackLow(y, z) + Avx512F.UnpackHigh(y, z);
        return Avx512F.Shuffle(t0, t1, 0x44) + Avx512F.Shuffle(t0, t1, 0xEE);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreRow4(float* c, Vector128<float> v, float beta)
    {
        if (beta != 0f) v += Vector128.Load(c) * Vector128.Create(beta);
        Vector128.Store(v, c);
    }
}
