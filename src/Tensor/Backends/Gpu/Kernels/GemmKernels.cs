// Tiled SGEMM: batched row-major C = alpha·op(A)·op(B) + beta·C (the MatMul primitive, and the GEMM inside conv).
//
// A work group computes one TileM × TileN block of C for one batch item (group dims 0, 1 = column and row block,
// dim 2 = batch item). Per slab of Depth it stages op(A)[rows, slab] and op(B)[slab, columns] in shared memory, then
// each work item accumulates a 4 × 4 block of C in registers. A work item owns rows ty + i·threadsM and columns
// tx + j·threadsN (interleaved, not adjacent), so that neighbouring work items read neighbouring shared-memory words
// and write neighbouring C elements (coalesced).
//
// Operands are views that start at the matrix of batch item 0, with a batch stride (0 broadcasts) and a row stride.
// The stored A is [M, K] (or [K, M] when transA), B is [K, N] (or [N, K] when transB). Slab loads walk the stored
// layout's contiguous direction, so consecutive work items read consecutive addresses whatever the transposes.
// Elements outside the matrices load as 0 (edge tiles; K not a multiple of Depth). beta = 0 never reads C, which may
// hold NaNs (a fresh buffer).
//
// The tile shape is a compile-time constant per kernel (shared arrays are sized by it): the host picks, per device
// and per call, the variant that fits the device and wastes least on the product.
//
// Single-item kernels serve CPU-like devices (ILGPU's CPU accelerator runs a work group as threads that meet at every
// barrier, so many small items sharing a tile spend their time waiting): one work item per group computes a whole
// 64-column tile, packing 64-deep slabs of op(A) and op(B) into its shared memory, in plain loops.
using ILGPU;

namespace Standalone.Backends.Gpu.Kernels;

/// <summary>The GEMM's sizes and operand layouts (see the header).</summary>
public struct GemmShape
{
    public int M, N, K, Lda, Ldb, Ldc, TransA, TransB;
    public long ABatch, BBatch, CBatch;
    public float Alpha, Beta;
}

internal static class GemmKernels
{
    public const int Depth = 16, WorkPerItem = 4, SingleItemDepth = 64, SingleItemWidth = 64;

    /// <summary>Four floats: a row of a work item's 4 × 4 block, or four operand values (registers, not memory).</summary>
    private struct Quad
    {
        public float X0, X1, X2, X3;

        public void Add(float a, in Quad b)
        {
            X0 += a * b.X0;
            X1 += a * b.X1;
            X2 += a * b.X2;
            X3 += a * b.X3;
        }

        public readonly float Get(int j) => j == 0 ? X0 : j == 1 ? X1 : j == 2 ? X2 : X3;
    }

    private static void Tile(int tileM, int tileN, ArrayView<float> aSlab, ArrayView<float> bSlab,
        ArrayView<float> a, ArrayView<float> b, ArrayView<float> c, in GemmShape s)
    {
        int threadsN = tileN / WorkPerItem, threadsM = tileM / WorkPerItem;
        int groupSize = threadsN * threadsM;
        int tx = Item.Local0, ty = Item.Local1;
        int localId = ty * threadsN + tx;
        int row0 = Item.Group1 * tileM, col0 = Item.Group0 * tileN;
        long item = Item.Group2;
        long aBase = item * s.ABatch, bBase = item * s.BBatch, cBase = item * s.CBatch;
        Quad r0 = default, r1 = default, r2 = default, r3 = default;

        for (int k0 = 0; k0 < s.K; k0 += Depth)
        {
            // aSlab[d·tileM + r] = op(A)[row0 + r, k0 + d]
            for (int e = localId; e < tileM * Depth; e += groupSize)
            {
                int r = s.TransA != 0 ? e % tileM : e / Depth;
                int d = s.TransA != 0 ? e / tileM : e % Depth;
                int row = row0 + r, depth = k0 + d;
                aSlab[d * tileM + r] = row < s.M && depth < s.K
                    ? a[aBase + (s.TransA != 0 ? (long)depth * s.Lda + row : (long)row * s.Lda + depth)] : 0f;
            }
            // bSlab[d·tileN + q] = op(B)[k0 + d, col0 + q]
            for (int e = localId; e < tileN * Depth; e += groupSize)
            {
                int q = s.TransB != 0 ? e / Depth : e % tileN;
                int d = s.TransB != 0 ? e % Depth : e / tileN;
                int col = col0 + q, depth = k0 + d;
                bSlab[d * tileN + q] = col < s.N && depth < s.K
                    ? b[bBase + (s.TransB != 0 ? (long)col * s.Ldb + depth : (long)depth * s.Ldb + col)] : 0f;
            }
            Group.Barrier();

            for (int d = 0; d < Depth; d++)
            {
                int at = d * tileN + tx;
                var bq = new Quad { X0 = bSlab[at], X1 = bSlab[at + threadsN], X2 = bSlab[at + 2 * threadsN], X3 = bSlab[at + 3 * threadsN] };
                int am = d * tileM + ty;
                r0.Add(aSlab[am], bq);
                r1.Add(aSlab[am + threadsM], bq);
                r2.Add(aSlab[am + 2 * threadsM], bq);
                r3.Add(aSlab[am + 3 * threadsM], bq);
            }
            Group.Barrier();
        }

        Store(c, cBase, row0 + ty, col0 + tx, threadsN, r0, s);
        Store(c, cBase, row0 + ty + threadsM, col0 + tx, threadsN, r1, s);
        Store(c, cBase, row0 + ty + 2 * threadsM, col0 + tx, threadsN, r2, s);
        Store(c, cBase, row0 + ty + 3 * threadsM, col0 + tx, threadsN, r3, s);
    }

    /// <summary>Writes a work item's row of four results, at columns col, col + step, ... (those inside C).</summary>
    private static void Store(ArrayView<float> c, long cBase, int row, int col, int step, in Quad values, in GemmShape s)
    {
        if (row >= s.M) return;
        for (int j = 0; j < WorkPerItem; j++)
        {
            int column = col + j * step;
            if (column >= s.N) continue;
            long at = cBase + (long)row * s.Ldc + column;
            float value = s.Alpha * values.Get(j);
            c[at] = s.Beta == 0f ? value : value + s.Beta * c[at];
        }
    }

    // One kernel per tile shape (rows × columns of C per work group); the work group is (tileN/4, tileM/4, 1).
    public static void Tile64x64(ArrayView<float> a, ArrayView<float> b, ArrayView<float> c, GemmShape s) =>
        Tile(64, 64, SharedMemory.Allocate<float>(Depth * 64), SharedMemory.Allocate<float>(Depth * 64), a, b, c, s);

    public static void Tile32x32(ArrayView<float> a, ArrayView<float> b, ArrayView<float> c, GemmShape s) =>
        Tile(32, 32, SharedMemory.Allocate<float>(Depth * 32), SharedMemory.Allocate<float>(Depth * 32), a, b, c, s);

    public static void Tile16x64(ArrayView<float> a, ArrayView<float> b, ArrayView<float> c, GemmShape s) =>
        Tile(16, 64, SharedMemory.Allocate<float>(Depth * 16), SharedMemory.Allocate<float>(Depth * 64), a, b, c, s);

    public static void Tile64x16(ArrayView<float> a, ArrayView<float> b, ArrayView<float> c, GemmShape s) =>
        Tile(64, 16, SharedMemory.Allocate<float>(Depth * 64), SharedMemory.Allocate<float>(Depth * 16), a, b, c, s);

    public static void Tile16x16(ArrayView<float> a, ArrayView<float> b, ArrayView<float> c, GemmShape s) =>
        Tile(16, 16, SharedMemory.Allocate<float>(Depth * 16), SharedMemory.Allocate<float>(Depth * 16), a, b, c, s);

    public static void Tile8x8(ArrayView<float> a, ArrayView<float> b, ArrayView<float> c, GemmShape s) =>
        Tile(8, 8, SharedMemory.Allocate<float>(Depth * 8), SharedMemory.Allocate<float>(Depth * 8), a, b, c, s);

    /// <summary>
    /// slab[d·width + x] = element (x, d) of a matrix whose element (x, d) is src[d·ld + x] (xContiguous) or
    /// src[x·ld + d], for d &lt; SingleItemDepth and x &lt; width; 0 where x ≥ validWidth or d ≥ validDepth.
    /// </summary>
    private static void Pack(ArrayView<float> slab, int width, ArrayView<float> src, long start, long ld, bool xContiguous, int validWidth, int validDepth)
    {
        for (int d = 0; d < SingleItemDepth; d++)
            for (int x = 0; x < width; x++)
                slab[d * width + x] = d < validDepth && x < validWidth ? src[start + (xContiguous ? d * ld + x : x * ld + d)] : 0f;
    }

    /// <summary>One work item computes a tileM × 64 tile of C, accumulating it in its private memory across slabs.</summary>
    private static void SingleItemTile(int tileM, ArrayView<float> aSlab, ArrayView<float> bSlab, ArrayView<float> tile,
        ArrayView<float> a, ArrayView<float> b, ArrayView<float> c, in GemmShape s)
    {
        const int tileN = SingleItemWidth;
        int row0 = Item.Group1 * tileM, col0 = Item.Group0 * tileN;
        long item = Item.Group2;
        int rows = Math.Min(tileM, s.M - row0), cols = Math.Min(tileN, s.N - col0);
        long aBase = item * s.ABatch, bBase = item * s.BBatch;
        for (int i = 0; i < tileM * tileN; i++) tile[i] = 0f;

        for (int k0 = 0; k0 < s.K; k0 += SingleItemDepth)
        {
            int depth = Math.Min(SingleItemDepth, s.K - k0);
            Pack(aSlab, tileM, a, aBase + (s.TransA != 0 ? (long)k0 * s.Lda + row0 : (long)row0 * s.Lda + k0), s.Lda, s.TransA != 0, rows, depth);
            Pack(bSlab, tileN, b, bBase + (s.TransB != 0 ? (long)col0 * s.Ldb + k0 : (long)k0 * s.Ldb + col0), s.Ldb, s.TransB == 0, cols, depth);
            for (int r = 0; r < rows; r++)
                for (int d = 0; d < depth; d++)
                {
                    float av = aSlab[d * tileM + r];
                    for (int q = 0; q < cols; q++) tile[r * tileN + q] += av * bSlab[d * tileN + q];
                }
        }

        long cTile = item * s.CBatch + (long)row0 * s.Ldc + col0;
        for (int r = 0; r < rows; r++)
            for (int q = 0; q < cols; q++)
            {
                long at = cTile + (long)r * s.Ldc + q;
                float value = s.Alpha * tile[r * tileN + q];
                c[at] = s.Beta == 0f ? value : value + s.Beta * c[at];
            }
    }

    // Work group (1, 1, 1): one work item per tile of C.
    public static void Single64x64(ArrayView<float> a, ArrayView<float> b, ArrayView<float> c, GemmShape s) =>
        SingleItemTile(64, SharedMemory.Allocate<float>(SingleItemDepth * 64), SharedMemory.Allocate<float>(SingleItemDepth * SingleItemWidth),
            LocalMemory.Allocate<float>(64 * SingleItemWidth), a, b, c, s);

    public static void Single16x64(ArrayView<float> a, ArrayView<float> b, ArrayView<float> c, GemmShape s) =>
        SingleItemTile(16, SharedMemory.Allocate<float>(SingleItemDepth * 16), SharedMemory.Allocate<float>(SingleItemDepth * SingleItemWidth),
            LocalMemory.Allocate<float>(16 * SingleItemWidth), a, b, c, s);
}
