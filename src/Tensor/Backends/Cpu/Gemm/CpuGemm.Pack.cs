// Packing for the blocked SGEMM: A blocks into MR-row panels (MR floats per k step) and B blocks into NR-column
// panels (NR floats per k step), both zero-padded at the edges so the micro-kernel always runs on a full tile.
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Standalone.Backends.Cpu;

internal static unsafe partial class CpuGemm
{
    /// <summary>Packs op(A)[i0..i0+mb, p0..p0+kc] into ceil(mb/MR) panels of MR×kc, panel r at dst + r*MR*kc.</summary>
    private static void PackA<TK>(bool transA, float* a, nint lda, int i0, int p0, int mb, int kc, float* dst)
        where TK : struct, IMicroKernel
    {
        int mr = TK.MR;
        for (int ir = 0; ir < mb; ir += mr, dst += (long)mr * kc)
        {
            int rows = Math.Min(mr, mb - ir);
            if (transA)
            {
                // A is stored k×m: the MR values of one k step are contiguous.
                float* s = a + p0 * lda + i0 + ir;
                float* d = dst;
                if (rows == mr)
                {
                    for (int p = 0; p < kc; p++, s += lda, d += mr) CopyShort(s, d, mr);
                }
                else
                {
                    for (int p = 0; p < kc; p++, s += lda, d += mr)
                    {
                        int i = 0;
                        for (; i < rows; i++) d[i] = s[i];
                        for (; i < mr; i++) d[i] = 0f;
                    }
                }
            }
            else
            {
                // A is stored m×k: the panel is a transpose of rows×kc. Groups of 8 (or 4) whole rows go through 8×8
                // transposes, the leftovers through scalar scatters with stride MR.
                TransposePanel(a + (i0 + ir) * lda + p0, lda, rows, kc, dst, mr);
            }
        }
    }

    /// <summary>Packs op(B)[p0..p0+kc, j0..j0+nb] into ceil(nb/NR) panels of kc×NR, panel s at dst + s*NR*kc.</summary>
    private static void PackB<TK>(bool transB, float* b, nint ldb, int p0, int j0, int nb, int kc, float* dst)
        where TK : struct, IMicroKernel
    {
        int nr = TK.NR;
        for (int jr = 0; jr < nb; jr += nr, dst += (long)nr * kc)
        {
            int cols = Math.Min(nr, nb - jr);
            if (!transB)
            {
                float* s = b + p0 * ldb + j0 + jr;
                float* d = dst;
                if (cols == nr)
                {
                    for (int p = 0; p < kc; p++, s += ldb, d += nr) CopyRow<TK>(s, d);
                }
                else
                {
                    for (int p = 0; p < kc; p++, s += ldb, d += nr)
                    {
                        int j = 0;
                        for (; j < cols; j++) d[j] = s[j];
                        for (; j < nr; j++) d[j] = 0f;
                    }
                }
            }
            else
            {
                // B is stored n×k: each source row is one packed column.
                TransposePanel(b + (j0 + jr) * ldb + p0, ldb, cols, kc, dst, nr);
            }
        }
    }

    /// <summary>Copies NR contiguous floats with the widest vectors available.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void CopyRow<TK>(float* s, float* d) where TK : struct, IMicroKernel
    {
        int nr = TK.NR;
        if (Vector512.IsHardwareAccelerated && nr % 16 == 0)
        {
            for (int j = 0; j < nr; j += 16) Vector512.Store(Vector512.Load(s + j), d + j);
        }
        else if (Vector256.IsHardwareAccelerated && nr % 8 == 0)
        {
            for (int j = 0; j < nr; j += 8) Vector256.Store(Vector256.Load(s + j), d + j);
        }
        else
        {
            for (int j = 0; j < nr; j += 4) Vector128.Store(Vector128.Load(s + j), d + j);
        }
    }

    /// <summary>Copies a short run (an MR-wide row of transposed A) with 256/128-bit moves where the length allows.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void CopyShort(float* s, float* d, int count)
    {
        int i = 0;
        for (; i <= count - 8; i += 8) Vector256.Store(Vector256.Load(s + i), d + i);
        for (; i <= count - 4; i += 4) Vector128.Store(Vector128.Load(s + i), d + i);
        for (; i < count; i++) d[i] = s[i];
    }

    /// <summary>Writes the transpose of src[rows×kc] (rows ld apart) into dst[kc×width] (width ≥ rows, columns past rows
    /// zeroed). Whole groups of 8 rows (and a final group of 4 when width is 4 mod 8) use 8×8 register transposes.</summary>
    private static void TransposePanel(float* src, nint ld, int rows, int kc, float* dst, int width)
    {
        int vecRows = 0, pEnd = 0;
        if (Avx.IsSupported)
        {
            pEnd = kc & ~7;
            // Row groups outermost: only 8 source rows (cache lines that may share an L1 set) are live at once.
            for (int g = 0; g < width; g += 8)
            {
                int w = Math.Min(8, width - g);
                if (g + w > rows || (w != 8 && w != 4)) break;
                for (int p = 0; p < pEnd; p += 8) Transpose8x8(src + g * ld + p, ld, w, dst + p * width + g, width);
                vecRows = g + w;
            }
        }
        for (int i = 0; i < rows; i++)
        {
            int p = i < vecRows ? pEnd : 0;
            float* s = src + i * ld;
            float* d = dst + i + p * width;
            for (; p < kc; p++, d += width) *d = s[p];
        }
        for (int i = rows; i < width; i++)
        {
            float* d = dst + i;
            for (int p = 0; p < kc; p++, d += width) *d = 0f;
        }
    }

    /// <summary>Reads `rows` (≤ 8, missing rows read as zero) rows of 8 floats, ld apart, and writes the 8 columns of the
    /// transposed block dStride apart: column q (rows values) lands at d + q*dStride. rows must be 8 or 4 (stored width).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Transpose8x8(float* s, nint ld, int rows, float* d, nint dStride)
    {
        Vector256<float> r0 = Vector256.Load(s), r1 = Vector256.Load(s + ld), r2 = Vector256.Load(s + 2 * ld), r3 = Vector256.Load(s + 3 * ld);
        Vector256<float> r4 = default, r5 = default, r6 = default, r7 = default;
        if (rows == 8)
        {
            r4 = Vector256.Load(s + 4 * ld); r5 = Vector256.Load(s + 5 * ld); r6 = Vector256.Load(s + 6 * ld); r7 = Vector256.Load(s + 7 * ld);
        }
        Vector256<float> t0 = Avx.UnpackLow(r0, r1), t1 = Avx.UnpackHigh(r0, r1), t2 = Avx.UnpackLow(r2, r3), t3 = Avx.UnpackHigh(r2, r3);
        Vector256<float> t4 = Avx.UnpackLow(r4, r5), t5 = Avx.UnpackHigh(r4, r5), t6 = Avx.UnpackLow(r6, r7), t7 = Avx.UnpackHigh(r6, r7);
        Vector256<float> u0 = Avx.Shuffle(t0, t2, 0x44), u1 = Avx.Shuffle(t0, t2, 0xEE), u2 = Avx.Shuffle(t1, t3, 0x44), u3 = Avx.Shuffle(t1, t3, 0xEE);
        if (rows == 8)
        {
            Vector256<float> u4 = Avx.Shuffle(t4, t6, 0x44), u5 = Avx.Shuffle(t4, t6, 0xEE), u6 = Avx.Shuffle(t5, t7, 0x44), u7 = Avx.Shuffle(t5, t7, 0xEE);
            Vector256.Store(Avx.Permute2x128(u0, u4, 0x20), d);
            Vector256.Store(Avx.Permute2x128(u1, u5, 0x20), d + dStride);
            Vector256.Store(Avx.Permute2x128(u2, u6, 0x20), d + 2 * dStride);
            Vector256.Store(Avx.Permute2x128(u3, u7, 0x20), d + 3 * dStride);
            Vector256.Store(Avx.Permute2x128(u0, u4, 0x31), d + 4 * dStride);
            Vector256.Store(Avx.Permute2x128(u1, u5, 0x31), d + 5 * dStride);
            Vector256.Store(Avx.Permute2x128(u2, u6, 0x31), d + 6 * dStride);
            Vector256.Store(Avx.Permute2x128(u3, u7, 0x31), d + 7 * dStride);
        }
        else
        {
            Vector128.Store(u0.GetLower(), d);
            Vector128.Store(u1.GetLower(), d + dStride);
            Vector128.Store(u2.GetLower(), d + 2 * dStride);
            Vector128.Store(u3.GetLower(), d + 3 * dStride);
            Vector128.Store(u0.GetUpper(), d + 4 * dStride);
            Vector128.Store(u1.GetUpper(), d + 5 * dStride);
            Vector128.Store(u2.GetUpper(), d + 6 * dStride);
            Vector128.Store(u3.GetUpper(), d + 7 * dStride);
        }
    }
}
