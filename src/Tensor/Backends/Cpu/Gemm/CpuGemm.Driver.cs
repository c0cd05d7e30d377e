// The packed, cache-blocked single-precision GEMM driver (BLIS loop order, row-major) shared by every
// micro-kernel, plus the per-thread packing workspace. Packing routines live in CpuGemm.Pack.cs.
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Standalone.Backends.Cpu;

internal static unsafe partial class CpuGemm
{
    /// <summary>A register-blocked MR×NR update: C[MR,NR] = alpha * Apanel·Bpanel (+ beta*C; beta == 0 overwrites).</summary>
    private interface IMicroKernel
    {
        static abstract int MR { get; }
        static abstract int NR { get; }

        /// <param name="a">Packed A panel: MR floats per k step, contiguous.</param>
        /// <param name="b">B panel: NR contiguous floats per k step, step p at b.Row(p).</param>
        static abstract void Run<TRows>(int kc, float* a, TRows b, float* c, nint ldc, float alpha, float beta) where TRows : struct, IBRows;
    }

    /// <summary>Where a micro-kernel finds the NR floats of B for k step p. A struct type argument, so each addressing
    /// scheme gets its own compiled kernel.</summary>
    private interface IBRows
    {
        float* Row(int p);
    }

    /// <summary>Row p at b + p·stride: packed panels (stride NR) and B read in place (stride ldb).</summary>
    private readonly struct StridedRows(float* b, nint stride) : IBRows
    {
        public float* Row(int p) => b + p * stride;
    }

    // Cache blocking. KC: depth of one packed block (an MR×KC A sliver stays in L1 while NR-wide B panels stream from
    // L2). NC: columns of the packed B block (KC×NC floats = 512 KiB, half a 1 MiB L2). MC: rows of the packed A block
    // (L3). KC 192..512 and NC 256..1024 measured within noise of each other at 1024³/2048³ and the conv shapes.
    private const int KC = 256;
    private const int NC = 512;
    private const int MC = 1536;

    /// <summary>Up to this many rows of C, a non-transposed B is read in place instead of being packed:
    /// each B element is then used by few A slivers, so a packing pass would cost more than it saves.</summary>
    private const int DirectBMaxRows = 64;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Blocked<TK>(bool transA, bool transB, int m, int n, int k, float alpha, float* a, nint lda,
        float* b, nint ldb, float beta, float* c, nint ldc) where TK : struct, IMicroKernel
    {
        int mr = TK.MR, nr = TK.NR;
        int kBlocks = (k + KC - 1) / KC;
        int kcMax = (k + kBlocks - 1) / kBlocks; // balanced depth blocks: 576 → 288 + 288, not 384 + 192
        int mcBlock = MC / mr * mr;
        int ncBlock = NC / nr * nr;
        int mcMax = Math.Min(mcBlock, RoundUp(m, mr));
        int ncMax = Math.Min(ncBlock, RoundUp(n, nr));
        bool directB = !transB && m <= DirectBMaxRows;

        Workspace ws = Workspace.Current;
        float* ap = ws.PackA((long)mcMax * kcMax);
        float* bp = ws.PackB((long)(directB ? nr : ncMax) * kcMax);
        float* tile = ws.Tile(mr * nr);

        for (int i0 = 0; i0 < m; i0 += mcBlock)
        {
            int mb = Math.Min(mcBlock, m - i0);
            for (int p0 = 0; p0 < k; p0 += kcMax)
            {
                int kc = Math.Min(kcMax, k - p0);
                float betaK = p0 == 0 ? beta : 1f;
                PackA<TK>(transA, a, lda, i0, p0, mb, kc, ap);
                for (int j0 = 0; j0 < n; j0 += ncBlock)
                {
                    int nb = Math.Min(ncBlock, n - j0);
                    int nDirect = directB ? nb / nr * nr : 0; // leading columns read straight from B
                    if (nDirect < nb) PackB<TK>(transB, b, ldb, p0, j0 + nDirect, nb - nDirect, kc, bp);
                    float* bDirect = b + p0 * ldb + j0;
                    for (int ir = 0; ir < mb; ir += mr)
                    {
                        int rows = Math.Min(mr, mb - ir);
                        float* aPanel = ap + (long)ir * kc;
                        float* cRow = c + (i0 + ir) * ldc + j0;
                        for (int jr = 0; jr < nb; jr += nr)
                        {
                            int cols = Math.Min(nr, nb - jr);
                            var bPanel = jr < nDirect ? new StridedRows(bDirect + jr, ldb) : new StridedRows(bp + (long)(jr - nDirect) * kc, nr);
                            if (rows == mr && cols == nr)
                            {
                                TK.Run(kc, aPanel, bPanel, cRow + jr, ldc, alpha, betaK);
                            }
                            else
                            {
                                TK.Run(kc, aPanel, bPanel, tile, nr, alpha, 0f);
                                MergeTile(tile, nr, cRow + jr, ldc, rows, cols, betaK);
                            }
                        }
                    }
                }
            }
        }
    }

    /// <summary>Writes the valid rows×cols corner of an edge tile (already scaled by alpha) into C.</summary>
    private static void MergeTile(float* tile, int tileLd, float* c, nint ldc, int rows, int cols, float beta)
    {
        for (int i = 0; i < rows; i++, tile += tileLd, c += ldc)
        {
            if (beta == 0f)
                for (int j = 0; j < cols; j++) c[j] = tile[j];
            else
                for (int j = 0; j < cols; j++) c[j] = tile[j] + beta * c[j];
        }
    }

    private static int RoundUp(int x, int multiple) => (x + multiple - 1) / multiple * multiple;

    /// <summary>Per-thread packing buffers: pinned arrays that grow to the largest block seen and are then reused,
    /// so warm calls allocate nothing. Pointers are aligned to 64 bytes.</summary>
    private sealed class Workspace
    {
        [ThreadStatic] private static Workspace? t_current;

        private float[]? _a, _b, _tile;

        public static Workspace Current => t_current ??= new Workspace();

        public float* PackA(long count) => Ensure(ref _a, count);
        public float* PackB(long count) => Ensure(ref _b, count);
        public float* Tile(long count) => Ensure(ref _tile, count);

        private static float* Ensure(ref float[]? array, long count)
        {
            long needed = count + 16; // room to align to 64 bytes
            if (array is null || array.Length < needed)
            {
                long grown = Math.Max(needed, (array?.Length ?? 0) + (array?.Length ?? 0) / 2);
                array = GC.AllocateUninitializedArray<float>(checked((int)grown), pinned: true);
            }
            nint p = (nint)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(array));
            return (float*)((p + 63) & ~(nint)63);
        }
    }
}
