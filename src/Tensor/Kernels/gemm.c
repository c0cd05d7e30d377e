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
