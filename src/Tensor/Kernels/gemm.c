// Tiled SGEMM: batched row-major C = alpha·op(A)·op(B) + beta·C (the MatMul primitive, and the GEMM inside conv).
//
// A work group computes one TILE_M × TILE_N block of C for one batch item (group dims 0, 1 = column and row block,
// dim 2 = batch item). Per slab of GEMM_TK depth it stages op(A)[rows, slab] and op(B)[slab, columns] in local memory,
// then each work item accumulates a GEMM_WPT × GEMM_WPT block of C in registers. A work item owns rows
// ty + i·threads_m and columns tx + j·threads_n (interleaved, not adjacent), so that neighbouring work items read
// neighbouring local-memory words and write neighbouring C elements (coalesced on GPUs; vectorizable across work
// items on PoCL, which runs a work group as loops over its work items).
//
// Operands are addressed by (offset, batch stride, leading dimension); a batch stride of 0 broadcasts. The stored
// A is [M, K] (or [K, M] when trans_a), B is [K, N] (or [N, K] when trans_b). Slab loads walk the stored layout's
// contiguous direction, so consecutive work items read consecutive addresses whatever the transposes. Elements
// outside the matrices load as 0 (edge tiles; K not a multiple of GEMM_TK). beta = 0 never reads C, which may hold
// NaNs (a fresh buffer).
//
// The tile shape is a compile-time constant per kernel (the local arrays are sized by it): the host picks, per
// device and per call, the largest variant that fits the device and is not much larger than the product.

#define GEMM_TK 16
#define GEMM_WPT 4

DEVICE_FN void gemm_tile(
    const int tile_m, const int tile_n, LOCAL float* a_slab, LOCAL float* b_slab,
    int m, int n, int k, float alpha, float beta,
    GLOBAL const float* a, i64 a_offset, i64 a_batch, int lda, int trans_a,
    GLOBAL const float* b, i64 b_offset, i64 b_batch, int ldb, int trans_b,
    GLOBAL float* c, i64 c_offset, i64 c_batch, int ldc)
{
    const int threads_n = tile_n / GEMM_WPT, threads_m = tile_m / GEMM_WPT;
    const int group_size = threads_n * threads_m;
    const int tx = LID(0), ty = LID(1);
    const int local_id = ty * threads_n + tx;
    const int row0 = GROUP(1) * tile_m, col0 = GROUP(0) * tile_n;
    const i64 item = GROUP(2);
    a += a_offset + item * a_batch;
    b += b_offset + item * b_batch;
    c += c_offset + item * c_batch;

    float acc[GEMM_WPT * GEMM_WPT];
    for (int i = 0; i < GEMM_WPT * GEMM_WPT; i++) acc[i] = 0.0f;

    for (int k0 = 0; k0 < k; k0 += GEMM_TK)
    {
        // a_slab[d·tile_m + r] = op(A)[row0 + r, k0 + d]
        for (int e = local_id; e < tile_m * GEMM_TK; e += group_size)
        {
            int r = trans_a ? e % tile_m : e / GEMM_TK;
            int d = trans_a ? e / tile_m : e % GEMM_TK;
            int row = row0 + r, depth = k0 + d;
            a_slab[d * tile_m + r] = row < m && depth < k
                ? a[trans_a ? (i64)depth * lda + row : (i64)row * lda + depth] : 0.0f;
        }
        // b_slab[d·tile_n + q] = op(B)[k0 + d, col0 + q]
        for (int e = local_id; e < tile_n * GEMM_TK; e += group_size)
        {
            int q = trans_b ? e / GEMM_TK : e % tile_n;
            int d = trans_b ? e % GEMM_TK : e / tile_n;
            int col = col0 + q, depth = k0 + d;
            b_slab[d * tile_n + q] = col < n && depth < k
                ? b[trans_b ? (i64)col * ldb + depth : (i64)depth * ldb + col] : 0.0f;
        }
        BARRIER();

        for (int d = 0; d < GEMM_TK; d++)
        {
            float a_reg[GEMM_WPT], b_reg[GEMM_WPT];
            for (int i = 0; i < GEMM_WPT; i++) a_reg[i] = a_slab[d * tile_m + ty + i * threads_m];
            for (int j = 0; j < GEMM_WPT; j++) b_reg[j] = b_slab[d * tile_n + tx + j * threads_n];
            for (int i = 0; i < GEMM_WPT; i++)
                for (int j = 0; j < GEMM_WPT; j++)
                    acc[i * GEMM_WPT + j] += a_reg[i] * b_reg[j];
        }
        BARRIER();
    }

    for (int i = 0; i < GEMM_WPT; i++)
    {
        int row = row0 + ty + i * threads_m;
        if (row >= m) continue;
        for (int j = 0; j < GEMM_WPT; j++)
        {
            int col = col0 + tx + j * threads_n;
            if (col >= n) continue;
            GLOBAL float* out = c + (i64)row * ldc + col;
            float value = alpha * acc[i * GEMM_WPT + j];
            *out = beta == 0.0f ? value : value + beta * *out;
        }
    }
}

// One kernel per tile shape (rows × columns of C per work group); the work group is (tile_n/4, tile_m/4, 1).
#define GEMM_ARGS \
    int m, int n, int k, float alpha, float beta, \
    GLOBAL const float* a, i64 a_offset, i64 a_batch, int lda, int trans_a, \
    GLOBAL const float* b, i64 b_offset, i64 b_batch, int ldb, int trans_b, \
    GLOBAL float* c, i64 c_offset, i64 c_batch, int ldc
#define GEMM_PASS m, n, k, alpha, beta, a, a_offset, a_batch, lda, trans_a, b, b_offset, b_batch, ldb, trans_b, c, c_offset, c_batch, ldc

KERNEL gemm_f32_64x64(GEMM_ARGS)
{
    SHARED(float, a_slab, GEMM_TK * 64);
    SHARED(float, b_slab, GEMM_TK * 64);
    gemm_tile(64, 64, a_slab, b_slab, GEMM_PASS);
}

KERNEL gemm_f32_32x32(GEMM_ARGS)
{
    SHARED(float, a_slab, GEMM_TK * 32);
    SHARED(float, b_slab, GEMM_TK * 32);
    gemm_tile(32, 32, a_slab, b_slab, GEMM_PASS);
}

KERNEL gemm_f32_16x64(GEMM_ARGS)
{
    SHARED(float, a_slab, GEMM_TK * 16);
    SHARED(float, b_slab, GEMM_TK * 64);
    gemm_tile(16, 64, a_slab, b_slab, GEMM_PASS);
}

KERNEL gemm_f32_64x16(GEMM_ARGS)
{
    SHARED(float, a_slab, GEMM_TK * 64);
    SHARED(float, b_slab, GEMM_TK * 16);
    gemm_tile(64, 16, a_slab, b_slab, GEMM_PASS);
}

KERNEL gemm_f32_16x16(GEMM_ARGS)
{
    SHARED(float, a_slab, GEMM_TK * 16);
    SHARED(float, b_slab, GEMM_TK * 16);
    gemm_tile(16, 16, a_slab, b_slab, GEMM_PASS);
}

// CPU devices (PoCL and the like) run a work group as loops over its work items, keeping every value that lives across
// a barrier in memory, per work item; the tiles above then spend their time there rather than multiplying (about 10
// GFLOP/s on PoCL). These kernels run one work item per work group and are plain loop code for the device compiler's
// vectorizer: per slab of CPU_TK depth the item packs op(A) and op(B) into local memory (zeros past the edges), then
// walks its tile of C in CPU_MR × CPU_NR register blocks (fully unrolled, so the accumulators stay in registers) whose
// CPU_NR columns are contiguous in the B slab and in the tile (vector loads). The tile itself accumulates in private
// memory across slabs; C is written once, at the end.
#define CPU_TM 64
#define CPU_TN 64
#define CPU_TK 64
#define CPU_MR 8
#define CPU_NR 16

/// slab[d·width + x] = element (x, d) of a matrix whose element (x, d) is src[d·ld + x] (x_contiguous) or
/// src[x·ld + d], for d < CPU_TK and x < width; 0 where x ≥ valid_width or d ≥ valid_depth.
DEVICE_FN void gemm_cpu_pack(LOCAL float* slab, const int width, GLOBAL const float* src, i64 ld, int x_contiguous,
    int valid_width, int valid_depth)
{
    if (x_contiguous)
        for (int d = 0; d < CPU_TK; d++)
            for (int x = 0; x < width; x++)
                slab[d * width + x] = d < valid_depth && x < valid_width ? src[d * ld + x] : 0.0f;
    else
        for (int x = 0; x < width; x++)
            for (int d = 0; d < CPU_TK; d++)
                slab[d * width + x] = d < valid_depth && x < valid_width ? src[x * ld + d] : 0.0f;
}

DEVICE_FN void gemm_cpu_tile(
    const int tile_m, LOCAL float* a_slab, LOCAL float* b_slab,
    int m, int n, int k, float alpha, float beta,
    GLOBAL const float* a, i64 a_offset, i64 a_batch, int lda, int trans_a,
    GLOBAL const float* b, i64 b_offset, i64 b_batch, int ldb, int trans_b,
    GLOBAL float* c, i64 c_offset, i64 c_batch, int ldc)
{
    float tile[CPU_TM * CPU_TN]; // the first tile_m rows are used
    const int row0 = GROUP(1) * tile_m, col0 = GROUP(0) * CPU_TN;
    const i64 item = GROUP(2);
    const int rows = min(tile_m, m - row0), cols = min(CPU_TN, n - col0);
    GLOBAL const float* a_item = a + a_offset + item * a_batch;
    GLOBAL const float* b_item = b + b_offset + item * b_batch;
    for (int i = 0; i < tile_m * CPU_TN; i++) tile[i] = 0.0f;

    for (int k0 = 0; k0 < k; k0 += CPU_TK)
    {
        // a_slab[d·tile_m + r] = op(A)[row0 + r, k0 + d]; b_slab[d·CPU_TN + q] = op(B)[k0 + d, col0 + q]
        const int depth = min(CPU_TK, k - k0);
        gemm_cpu_pack(a_slab, tile_m, a_item + (trans_a ? (i64)k0 * lda + row0 : (i64)row0 * lda + k0), lda, trans_a, rows, depth);
        gemm_cpu_pack(b_slab, CPU_TN, b_item + (trans_b ? (i64)col0 * ldb + k0 : (i64)k0 * ldb + col0), ldb, !trans_b, cols, depth);
        BARRIER();
        for (int r = 0; r < tile_m; r += CPU_MR)
            for (int q = 0; q < CPU_TN; q += CPU_NR)
            {
                float acc[CPU_MR * CPU_NR];
#pragma unroll
                for (int i = 0; i < CPU_MR; i++)
#pragma unroll
                    for (int j = 0; j < CPU_NR; j++) acc[i * CPU_NR + j] = tile[(r + i) * CPU_TN + q + j];
                for (int d = 0; d < depth; d++)
                {
#pragma unroll
                    for (int i = 0; i < CPU_MR; i++)
                    {
                        float a_value = a_slab[d * tile_m + r + i];
#pragma unroll
                        for (int j = 0; j < CPU_NR; j++) acc[i * CPU_NR + j] += a_value * b_slab[d * CPU_TN + q + j];
                    }
                }
#pragma unroll
                for (int i = 0; i < CPU_MR; i++)
#pragma unroll
                    for (int j = 0; j < CPU_NR; j++) tile[(r + i) * CPU_TN + q + j] = acc[i * CPU_NR + j];
            }
        BARRIER();
    }

    GLOBAL float* c_tile = c + c_offset + item * c_batch + (i64)row0 * ldc + col0;
    for (int r = 0; r < rows; r++)
        for (int q = 0; q < cols; q++)
        {
            GLOBAL float* out = c_tile + (i64)r * ldc + q;
            float value = alpha * tile[r * CPU_TN + q];
            *out = beta == 0.0f ? value : value + beta * *out;
        }
}

// Work group (1, 1, 1): one work item per tile of C.
KERNEL gemm_f32_cpu_64x64(GEMM_ARGS)
{
    SHARED(float, a_slab, CPU_TK * 64);
    SHARED(float, b_slab, CPU_TK * CPU_TN);
    gemm_cpu_tile(64, a_slab, b_slab, GEMM_PASS);
}

KERNEL gemm_f32_cpu_16x64(GEMM_ARGS)
{
    SHARED(float, a_slab, CPU_TK * 16);
    SHARED(float, b_slab, CPU_TK * CPU_TN);
    gemm_cpu_tile(16, a_slab, b_slab, GEMM_PASS);
}
