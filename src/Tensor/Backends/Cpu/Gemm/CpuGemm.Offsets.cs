// GEMMs whose B rows are found through a table of offsets instead of a constant leading dimension — the entry points
// of implicit-GEMM convolution (CpuBackend.ConvImplicit.cs). There, k = (channel, kernel tap) and row k of B is the
// zero-padded input image seen from that tap: the padded buffer at offset off[k], contiguous along the output pixels.
// So no im2col matrix is ever written.
//   SgemmOffsetRows   C[m, n] = A[m, k] · B[k, n],  B[p, j] = b[off[p] + j]   (forward, backward input)
//   SgemmOffsetRowsT  C[m, n] = A[m, k] · B[n, k]ᵀ, B[j, p] = b[off[j] + p]   (backward weight: dot products of rows)
// A is packed once (PackAPanels) and reused for every image of a batch.
using System.Runtime.Intrinsics.X86;

namespace Standalone.Backends.Cpu;

internal static unsafe partial class CpuGemm
{
    /// <summary>Columns of one micro-tile: SgemmOffsetRows computes n rounded up to this many columns of C.</summary>
    internal static int OffsetColumnTile => TileOf(BestKernel).Nr;

    /// <summary>Whether SgemmOffsetRowsT is available (it needs the AVX-512 dot kernel).</summary>
    internal static bool HasOffsetRowsT => Avx512F.IsSupported;

    /// <summary>Row p of B at b + offsets[p].</summary>
    private readonly struct OffsetRows(float* b, int* offsets) : IBRows
    {
        public float* Row(int p) => b + offsets[p];
    }

    /// <summary>
    /// The row tile for an m-row A: the default, or on AVX-512 the 12-row kernel where it wastes fewer rows — pruned
    /// layers have widths such as 9–12 or 33–36, which fill one 12-row panel (or three) but two 8-row ones (or five).
    /// </summary>
    private static KernelKind OffsetKernel(int m) =>
        BestKernel == KernelKind.Avx512x8 && RoundUp(m, Kernel12x32.MR) < RoundUp(m, Kernel8x32.MR) ? KernelKind.Avx512x12 : BestKernel;

    /// <summary>Floats PackAPanels writes for an m×k A.</summary>
    internal static long PackedPanelsLength(int m, int k) => (long)RoundUp(m, TileOf(OffsetKernel(m)).Mr) * k;

    /// <summary>Packs row-major A[m, k] (rows lda apart) into MR-row panels of the full depth k, for SgemmOffsetRows.</summary>
    internal static void PackAPanels(float* a, int lda, int m, int k, float* dst)
    {
        switch (OffsetKernel(m))
        {
            case KernelKind.Avx512x12: PackA<Kernel12x32>(false, a, lda, 0, 0, m, k, dst); break;
            case KernelKind.Avx512x8: PackA<Kernel8x32>(false, a, lda, 0, 0, m, k, dst); break;
            case KernelKind.Avx2: PackA<Kernel6x16>(false, a, lda, 0, 0, m, k, dst); break;
            default: PackA<Kernel4x8>(false, a, lda, 0, 0, m, k, dst); break;
        }
    }

    /// <summary>
    /// C[i, j] = Σ_p A[i, p]·b[offsets[p] + j] for i &lt; m and j &lt; RoundUp(n, OffsetColumnTile), overwriting C; aPacked
    /// comes from PackAPanels. The caller guarantees that every row of B is readable, and every row of C writable, for
    /// the rounded-up column count. Single-threaded (the convolution parallelizes over images).
    /// </summary>
    internal static void SgemmOffsetRows(int m, int n, int k, float* aPacked, float* b, int* offsets, float* c, int ldc)
    {
        switch (OffsetKernel(m))
        {
            case KernelKind.Avx512x12: OffsetRowsBlocked<Kernel12x32>(m, n, k, aPacked, b, offsets, c, ldc); break;
            case KernelKind.Avx512x8: OffsetRowsBlocked<Kernel8x32>(m, n, k, aPacked, b, offsets, c, ldc); break;
            case KernelKind.Avx2: OffsetRowsBlocked<Kernel6x16>(m, n, k, aPacked, b, offsets, c, ldc); break;
            default: OffsetRowsBlocked<Kernel4x8>(m, n, k, aPacked, b, offsets, c, ldc); break;
        }
    }

    /// <summary>
    /// C[i, j] = Σ_p A[i, p]·b[offsets[j] + p] (+ beta·C[i, j]; beta 0 overwrites) for i &lt; m, j &lt; n: A rows lda apart,
    /// contraction over k contiguous floats of each. Single-threaded; requires HasOffsetRowsT.
    /// </summary>
    internal static void SgemmOffsetRowsT(int m, int n, int k, float* a, int lda, float* b, int* offsets, float beta, float* c, int ldc)
    {
        if (!HasOffsetRowsT) throw new PlatformNotSupportedException("SgemmOffsetRowsT needs AVX-512");
        DotGemm(m, n, k, 1f, a, lda, new OffsetRows(b, offsets), beta, c, ldc);
    }

    /// <summary>Column tiles outermost so that one tile's B rows (KC·NR floats) stay in L1 while every A panel passes.</summary>
    private static void OffsetRowsBlocked<TK>(int m, int n, int k, float* aPacked, float* b, int* offsets, float* c, nint ldc)
        where TK : struct, IMicroKernel
    {
        int mr = TK.MR, nr = TK.NR;
        float* tile = Workspace.Current.Tile(mr * nr);
        for (int j = 0; j < n; j += nr)
        {
            for (int p0 = 0; p0 < k; p0 += KC)
            {
                int kc = Math.Min(KC, k - p0);
                float beta = p0 == 0 ? 0f : 1f;
                var rows = new OffsetRows(b + j, offsets + p0);
                for (int i = 0; i < m; i += mr)
                {
                    float* aPanel = aPacked + (long)i * k + (long)p0 * mr;
                    float* cTile = c + i * ldc + j;
                    if (m - i >= mr)
                    {
                        TK.Run(kc, aPanel, rows, cTile, ldc, 1f, beta);
                    }
                    else
                    {
                        TK.Run(kc, aPanel, rows, tile, nr, 1f, 0f);
                        MergeTile(tile, nr, cTile, ldc, m - i, nr, beta);
                    }
                }
            }
        }
    }
}
