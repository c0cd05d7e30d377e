// The GEMM of direct convolution (CpuBackend.ConvDirect.cs): one 32-column tile of C whose B rows are read straight
// from the unpadded image, through an offset per tap plus a plane per channel and a lane mask per tap that clears the
// pixels whose tap falls outside it: AVX-512 masked loads, which read nothing in the cleared lanes (so an address off
// the image, even off the buffer, is never touched). No padded copy of the input is made and C is the output itself.
//   C[i, j] = Σ_p A[i, p] · B[p, j],  B[tap·C + c, j] = mask[tap][j] ? b[offset[tap] + c·plane + j] : 0   (i < m, j < 32)
// then + bias[i], + residual[i, j] and max(0, ·) when asked. A is packed into 8-row panels of the full depth (PackA8Panels).
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Standalone.Backends.Cpu;

internal static unsafe partial class CpuGemm
{
    /// <summary>
    /// Most k steps per pass over C: the depth goes in equal blocks of at most this many. The GEMM's KC (256) left short
    /// last blocks (576 = 256 + 256 + 64, 288 = 256 + 32) whose C reloads and kernel entries cost more than B's reuse
    /// in L1 saved (B rows here are read from the image, not packed): 64 → 64 at 8×8 measured 1.39 → 1.35 ms forward.
    /// </summary>
    private const int MaskedDepthBlock = 640;

    /// <summary>Columns of one masked tile.</summary>
    internal const int MaskedTileColumns = 32;

    /// <summary>Whether SgemmMaskedTile is available (AVX-512 masked loads and the 8×32 register tile).</summary>
    internal static bool HasMaskedTile => Avx512F.IsSupported;

    /// <summary>Floats PackA8Panels writes for an m×k A.</summary>
    internal static long PackedA8Length(int m, int k) => (long)RoundUp(m, 8) * k;

    /// <summary>Packs row-major A[m, k] (rows lda apart) into 8-row panels of the full depth k, for SgemmMaskedTile.</summary>
    internal static void PackA8Panels(float* a, int lda, int m, int k, float* dst) => PackA<Kernel8x32>(false, a, lda, 0, 0, m, k, dst);

    /// <summary>
    /// C[i, j] = Σ_p A[i, p]·B[p, j] (+ bias[i] when bias is given; + residual[i, j], rows ldc apart like C, when residual
    /// is given; through max(0, ·) when relu, in that order) for i &lt; m, j &lt; 32, overwriting C (rows ldc apart), over the tap-major depth p = tap·channels + ch: row p of B is the 32 floats at
    /// b + tapOffsets[tap] + ch·plane, lanes kept where the tap's two 16-lane masks (masks + 2·tap) are set. aPacked comes
    /// from PackA8Panels of A[m, taps·channels] in that order. Single-threaded; requires HasMaskedTile.
    /// </summary>
    internal static void SgemmMaskedTile(int m, int channels, int taps, float* aPacked, float* b, nint plane, int* tapOffsets, Vector512<float>* masks,
        float* c, nint ldc, float* bias, bool relu, float* residual = null)
    {
        int k = channels * taps;
        float* tile = Workspace.Current.Tile(8 * MaskedTileColumns);
        int blocks = (k + MaskedDepthBlock - 1) / MaskedDepthBlock, depthBlock = (k + blocks - 1) / blocks;
        for (int p0 = 0; p0 < k; p0 += depthBlock)
        {
            int p1 = Math.Min(k, p0 + depthBlock);
            bool accumulate = p0 > 0, last = p1 == k;
            for (int i = 0; i < m; i += 8)
            {
                float* aPanel = aPacked + (long)i * k + (long)p0 * 8;
                float* rowBias = last && bias != null ? bias + i : null;
                float* rowResidual = last && residual != null ? residual + i * ldc : null;
                if (last)
                {
                    // The epilogue's rows of C and of the residual, requested before the panel's products run: read at the
                    // end, 8 rows a plane apart that no hardware prefetcher follows, they missed the cache each time
                    // (inference, ResNet-20 at batch 256: 54.7 → 53.1 ms for the residual, 53.3 → 52.8 for C; training
                    // 96.0 → 94.7 for C; interleaved, medians).
                    for (int r = 0; r < Math.Min(8, m - i); r++)
                    {
                        if (m - i >= 8)
                        {
                            Sse.Prefetch0(c + (i + r) * ldc);
                            Sse.Prefetch0(c + (i + r) * ldc + 16);
                        }
                        if (rowResidual != null)
                        {
                            Sse.Prefetch0(rowResidual + r * ldc);
                            Sse.Prefetch0(rowResidual + r * ldc + 16);
                        }
                    }
                }
                if (m - i >= 8)
                {
                    MaskedKernel8x32(p0, p1, channels, aPanel, b, plane, tapOffsets, masks, c + i * ldc, ldc, accumulate, rowBias, rowResidual, ldc, last && relu, 8);
                }
                else
                {
                    // The last, partial panel accumulates in the tile across depth blocks and is copied out at the end.
                    MaskedKernel8x32(p0, p1, channels, aPanel, b, plane, tapOffsets, masks, tile, MaskedTileColumns, accumulate, rowBias, rowResidual, ldc,
                        last && relu, m - i);
                    if (last)
                        for (int r = 0; r < m - i; r++)
                            new ReadOnlySpan<float>(tile + r * MaskedTileColumns, MaskedTileColumns).CopyTo(new Span<float>(c + (i + r) * ldc, MaskedTileColumns));
                }
            }
        }
    }

    /// <summary>
    /// The 8×32 register tile over depth steps [p0, p1) (tap-major, possibly starting or ending inside a tap) with masked B
    /// rows; writes (or adds to) c, with the epilogue (the residual's rows ldr apart; bias and residual rows below epilogueRows).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void MaskedKernel8x32(int p0, int p1, int channels, float* a, float* b, nint plane, int* tapOffsets, Vector512<float>* masks,
        float* c, nint ldc, bool accumulate, float* bias, float* residual, nint ldr, bool relu, int epilogueRows)
    {
        Vector512<float> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default;
        Vector512<float> c30 = default, c31 = default, c40 = default, c41 = default, c50 = default, c51 = default;
        Vector512<float> c60 = default, c61 = default, c70 = default, c71 = default;
        for (int tap = p0 / channels; tap * channels < p1; tap++)
        {
            int ch0 = Math.Max(p0 - tap * channels, 0), ch1 = Math.Min(p1 - tap * channels, channels);
            Vector512<float> m0 = masks[2 * tap], m1 = masks[2 * tap + 1];
            float* bp = b + tapOffsets[tap] + ch0 * plane;
            for (int ch = ch0; ch < ch1; ch++, bp += plane, a += 8)
            {
                Vector512<float> b0 = Avx512F.MaskLoad(bp, m0, Vector512<float>.Zero), b1 = Avx512F.MaskLoad(bp + 16, m1, Vector512<float>.Zero), x;
                x = Vector512.Create(a[0]); c00 = Avx512F.FusedMultiplyAdd(x, b0, c00); c01 = Avx512F.FusedMultiplyAdd(x, b1, c01);
                x = Vector512.Create(a[1]); c10 = Avx512F.FusedMultiplyAdd(x, b0, c10); c11 = Avx512F.FusedMultiplyAdd(x, b1, c11);
                x = Vector512.Create(a[2]); c20 = Avx512F.FusedMultiplyAdd(x, b0, c20); c21 = Avx512F.FusedMultiplyAdd(x, b1, c21);
                x = Vector512.Create(a[3]); c30 = Avx512F.FusedMultiplyAdd(x, b0, c30); c31 = Avx512F.FusedMultiplyAdd(x, b1, c31);
                x = Vector512.Create(a[4]); c40 = Avx512F.FusedMultiplyAdd(x, b0, c40); c41 = Avx512F.FusedMultiplyAdd(x, b1, c41);
                x = Vector512.Create(a[5]); c50 = Avx512F.FusedMultiplyAdd(x, b0, c50); c51 = Avx512F.FusedMultiplyAdd(x, b1, c51);
                x = Vector512.Create(a[6]); c60 = Avx512F.FusedMultiplyAdd(x, b0, c60); c61 = Avx512F.FusedMultiplyAdd(x, b1, c61);
                x = Vector512.Create(a[7]); c70 = Avx512F.FusedMultiplyAdd(x, b0, c70); c71 = Avx512F.FusedMultiplyAdd(x, b1, c71);
            }
        }
        MaskedRow(c, c00, c01, accumulate, bias, residual, ldr, 0, epilogueRows, relu); c += ldc;
        MaskedRow(c, c10, c11, accumulate, bias, residual, ldr, 1, epilogueRows, relu); c += ldc;
        MaskedRow(c, c20, c21, accumulate, bias, residual, ldr, 2, epilogueRows, relu); c += ldc;
        MaskedRow(c, c30, c31, accumulate, bias, residual, ldr, 3, epilogueRows, relu); c += ldc;
        MaskedRow(c, c40, c41, accumulate, bias, residual, ldr, 4, epilogueRows, relu); c += ldc;
        MaskedRow(c, c50, c51, accumulate, bias, residual, ldr, 5, epilogueRows, relu); c += ldc;
        MaskedRow(c, c60, c61, accumulate, bias, residual, ldr, 6, epilogueRows, relu); c += ldc;
        MaskedRow(c, c70, c71, accumulate, bias, residual, ldr, 7, epilogueRows, relu);
    }

    /// <summary>
    /// c[0, 32) = x (+ c when accumulate) (+ bias[row] when bias is given, + the 32 floats at residual + row·ldr when
    /// residual is given, both only for row &lt; epilogueRows), through max(0, ·) when relu.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void MaskedRow(float* c, Vector512<float> x0, Vector512<float> x1, bool accumulate, float* bias, float* residual, nint ldr,
        int row, int epilogueRows, bool relu)
    {
        if (accumulate)
        {
            x0 += Vector512.Load(c);
            x1 += Vector512.Load(c + 16);
        }
        if (bias != null && row < epilogueRows)
        {
            var v = Vector512.Create(bias[row]);
            x0 += v;
            x1 += v;
        }
        if (residual != null && row < epilogueRows)
        {
            x0 += Vector512.Load(residual + row * ldr);
            x1 += Vector512.Load(residual + row * ldr + 16);
        }
        if (relu) // as the Relu kernel: NaN becomes 0
        {
            x0 = Vector512.ConditionalSelect(Vector512.GreaterThan(x0, Vector512<float>.Zero), x0, Vector512<float>.Zero);
            x1 = Vector512.ConditionalSelect(Vector512.GreaterThan(x1, Vector512<float>.Zero), x1, Vector512<float>.Zero);
        }
        x0.Store(c);
        x1.Store(c + 16);
    }
}
