// Winograd convolution F(2×2, 3×3) (Lavin & Gray, "Fast Algorithms for Convolutional Neural Networks", 2016): the
// float32 path for 3×3 stride-1 pad-1 convolutions, forward, backward input (with flipped weights) and weight gradient
// (WinogradWeightGrad). Each 2×2 block of outputs ("tile") of an output channel is
//   Y = Aᵀ [ Σ_c (G g_c Gᵀ) ⊙ (Bᵀ d_c B) ] A
// with d_c the tile's 4×4 input patch of channel c (zeros off the image), g_c the 3×3 kernel, and
//   Bᵀ = [1 0 −1 0; 0 1 1 0; 0 −1 1 0; 0 1 0 −1],  G = [1 0 0; ½ ½ ½; ½ −½ ½; 0 0 1],  Aᵀ = [1 1 1 0; 0 1 −1 −1].
// For each of the 16 positions ξ of the 4×4 transformed patch the channel sum is a GEMM,
//   M_ξ[co, tile] = Σ_c U_ξ[co, c] · V_ξ[c, tile],   U = G g Gᵀ (weights, once per call), V = Bᵀ d B (inputs),
// so the 36 products per tile and channel pair of the direct convolution become 16: 2.25 times fewer. The transforms
// are additions (±1 entries) and cost per channel, not per channel pair: the path pays where channels are many (from
// 16 on, measured).
//
// Layout. Tiles are vectorized 16 at a time across one image: tile (ty, tx) has input rows 2ty − 1 … 2ty + 2 and
// columns 2tx − 1 … 2tx + 2, so with the image split into its four phase planes P[py, px][i, j] = x[2i + py, 2j + px]
// (H/2 × W/2 each, the tile grid's own shape), patch element (a, b), a, b ∈ {0…3}, of every tile is one phase plane
// shifted by (⌊(a − 1)/2⌋, ⌊(b − 1)/2⌋) ∈ {−1, 0, 1}²: one masked load (lanes whose shifted pixel leaves the image
// read nothing and are zero) gives it for 16 tiles. An image's tiles take whole 16-lane blocks (TileStride); the lanes
// past its last tile are zero on the way in and dropped on the way out. V_ξ and M_ξ hold a block of images' tiles side by side, rows
// `columns` floats apart; the GEMM is CpuGemm.SgemmOffsetRows with B's rows at c·columns. The output transform writes
// the four output phases of the tiles and interleaves them into the image rows, then adds the bias (and a residual)
// and applies the ReLU.
//
// Rounding: the transforms add and subtract inputs of mixed sign before the products, so results agree with the
// direct sums to float32 rounding of the larger terms, not bit for bit (errors measured ~2–3× the direct path's,
// well inside the tolerances the conv tests hold every path to).
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Standalone.Backends.Cpu;

public sealed unsafe partial class CpuBackend
{
    [ThreadStatic] private static float[]? t_wgInput, t_wgProducts, t_wgPhases, t_wgWeights, t_wgPacked, t_wgMasks;
    [ThreadStatic] private static int[]? t_wgOffsets;
    [ThreadStatic] private static float[]? t_wgSums;

    /// <summary>Tiles per GEMM block (V_ξ and M_ξ rows): whole images up to about this many (32–64 measured alike, 128
    /// and 256 slower: the blocks leave L2).</summary>
    private const int WinogradTiles = 64;

    /// <summary>
    /// Fewest input and output channels for the Winograd path: the transforms cost per channel, the saved products per
    /// channel pair. At 16 (ResNet-20's first stage, 32×32) it still won inside a training step: 90.5 → 88.8 ms a step
    /// against leaving those layers on the implicit path (interleaved).
    /// </summary>
    private const int WinogradMinChannels = 16;

    /// <summary>
    /// Whether the Winograd path computes this convolution (forward, backward input, weight gradient): float32,
    /// AVX-512, one group, 3×3 stride 1 pad 1 without dilation, even sides, a tile grid that wastes at most a quarter of
    /// its 16-lane blocks (8×8 and up, 10×10, 12×12, 14×14, …; not 4×4 or 6×6, where the padding lanes would cost more
    /// products than Winograd saves; ResNet-50's even planes alone, forward / backward input / weight gradient against
    /// the implicit path, interleaved: 64 channels at 56×56, batch 8, 4.11 / 4.10 / 4.09 → 2.92 / 2.65 / 3.05 ms; 128
    /// at 28×28, batch 16, 7.87 / 8.13 / 8.04 → 4.71 / 4.63 / 4.98; 256 at 14×14, batch 32, 17.4 / 18.0 / 18.1 →
    /// 10.5 / 10.6 / 11.5), enough channels both ways, at least one image per thread (the blocks of images are what the threads
    /// share; fewer images stay on the paths that split an image's tiles).
    /// </summary>
    private static bool UsesWinograd<T>(in ConvShape s) =>
        typeof(T) == typeof(float) && CpuGemm.HasMaskedTile && s.Groups == 1 && s.KH == 3 && s.KW == 3
        && s.P.StrideH == 1 && s.P.StrideW == 1 && s.P.PadH == 1 && s.P.PadW == 1 && s.P.DilationH == 1 && s.P.DilationW == 1
        && s.H % 2 == 0 && s.W % 2 == 0 && 4 * (s.H / 2) * (s.W / 2) >= 3 * TileStride(s.H / 2, s.W / 2)
        && Math.Min(s.InC, s.OutC) >= WinogradMinChannels && s.Batch >= CpuParallel.ThreadCount;

    private static void WinogradForward(in ConvShape s, float* x, float* w, float* bias, float* y, bool relu, float* residual) =>
        Winograd(s.Batch, s.InC, s.OutC, s.H, s.W, w, x, bias, y, relu, residual);

    /// <summary>dx = the "same" convolution of dY with W'[ci, co, ki, kj] = W[co, ci, 2 − ki, 2 − kj].</summary>
    private static void WinogradBackwardInput(in ConvShape s, float* dy, float* w, float* dx) =>
        Winograd(s.Batch, s.OutC, s.InC, s.H, s.W, FlippedWeights(s, w), dy, null, dx, relu: false, residual: null);

    /// <summary>
    /// output[n, co] = the 3×3 pad-1 convolution of input[n] with weights [outChannels, inChannels, 3, 3] (+ bias[co])
    /// (+ residual[n, co]), through max(0, ·) when relu, for the images of input[batch, inChannels, h, w].
    /// </summary>
    private static void Winograd(int batch, int inChannels, int outChannels, int h, int w, float* weights, float* input, float* bias,
        float* output, bool relu, float* residual)
    {
        int hp = h / 2, wp = w / 2, tileStride = TileStride(hp, wp), blocks = tileStride / 16;
        int images = Math.Clamp(WinogradTiles / tileStride, 1, batch);
        int tile = CpuGemm.OffsetColumnTile, columns = (images * tileStride + tile - 1) / tile * tile;
        long packedLength = CpuGemm.PackedPanelsLength(outChannels, inChannels);
        float* packed = TransformWeights(weights, outChannels, inChannels, packedLength);
        var masks = ShiftMasks(hp, wp);
        int* offsets = Grow(ref t_wgOffsets, inChannels);
        for (int c = 0; c < inChannels; c++) offsets[c] = c * columns;

        // The 16 positions' blocks are a multiple of 4 KiB apart plus one cache line: the transforms touch one row of
        // each at a time, which would otherwise all fall into the same L1 set (32 → 32 at 16×16: 1.05 → 0.90 ms).
        long vStride = (long)inChannels * columns + 16, mStride = (long)outChannels * columns + 16;
        int threads = CpuParallel.ThreadCount;
        CpuParallel.For((batch + images - 1) / images, chunk =>
        {
            int n0 = chunk * images, count = Math.Min(images, batch - n0), used = count * tileStride;
            float* v = Grow(ref t_wgInput, 16 * vStride);
            float* m = Grow(ref t_wgProducts, 16 * mStride);
            float* phases = Grow(ref t_wgPhases, 4L * tileStride);
            // Into L2 ahead of use: this block's output (else every row the output transform writes misses) and the
            // input of the block this thread most likely takes next. Inside a training step, where activations are
            // not in cache, the transforms measured 15 % faster with both (ResNet-20's mix of calls: 1.21 → 1.13 ms).
            Prefetch(output + (long)n0 * outChannels * h * w, (long)count * outChannels * h * w);
            // The residual too (inference's block-closing convolutions: 52.4 → 51.4 and 52.7 → 51.5 ms a batch of 256).
            if (residual != null) Prefetch(residual + (long)n0 * outChannels * h * w, (long)count * outChannels * h * w);
            int next = n0 + threads * images;
            if (next < batch) Prefetch(input + (long)next * inChannels * h * w, (long)Math.Min(images, batch - next) * inChannels * h * w);

            TransformImages(input + (long)n0 * inChannels * h * w, count, inChannels, h, w, masks, phases, v, columns, vStride);
            if (used < columns) // columns past the images' tiles: read by the GEMM's last column tile, kept finite
                for (int xi = 0; xi < 16; xi++)
                    for (int c = 0; c < inChannels; c++) new Span<float>(v + xi * vStride + (long)c * columns + used, columns - used).Clear();
            for (int xi = 0; xi < 16; xi++)
                CpuGemm.SgemmOffsetRows(outChannels, used, inChannels, packed + xi * packedLength, v + xi * vStride, offsets, m + xi * mStride, columns);
            for (int i = 0; i < count; i++)
                for (int co = 0; co < outChannels; co++)
                {
                    for (int block = 0; block < blocks; block++)
                        TransformOutput(m + (long)co * columns + i * tileStride + 16 * block, mStride, phases + 16 * block, tileStride);
                    long at = ((long)(n0 + i) * outChannels + co) * h * w;
                    MergePhases(phases, tileStride, h, w, output + at);
                    if (bias != null || residual != null || relu)
                        Epilogue(output + at, h * w, bias == null ? null : bias[co], residual == null ? null : residual + at, relu);
                }
        });
    }

    /// <summary>
    /// The weight gradient through the same transforms: with Y = Aᵀ (U ⊙ V) A per tile, Σ dY·Y = Σ_ξ (A dY Aᵀ)_ξ U_ξ V_ξ,
    /// so dU_ξ[co, c] = Σ_tiles D_ξ[co, tile] · V_ξ[c, tile] with D = A dY Aᵀ (the 2×2 dY tile spread to 4×4), summed
    /// over every tile of the batch, and dW = Gᵀ dU G. The 16 sums are GEMMs over the tiles (2.25 times fewer products
    /// than the direct weight gradient); each thread sums its images' share into its own dU, added together at the end.
    /// ResNet-20 alone, batch 128 (interleaved against the implicit path's): 16 → 16 at 32×32 1.86 → 1.62 ms, 32 → 32
    /// at 16×16 1.40 → 1.23, 64 → 64 at 8×8 1.42 → 1.07; in a training step the weight gradients 29.1 → 26.4 ms.
    /// </summary>
    private static void WinogradWeightGrad(in ConvShape s, float* dy, float* x, float* dw)
    {
        int inChannels = s.InC, outChannels = s.OutC, h = s.H, w = s.W, batch = s.Batch;
        int hp = h / 2, wp = w / 2, tilesPerImage = hp * wp, tileStride = TileStride(hp, wp), blocks = tileStride / 16;
        int images = Math.Clamp(WinogradTiles / tileStride, 1, batch);
        int columns = images * tileStride;
        var masks = ShiftMasks(hp, wp);
        long vStride = (long)inChannels * columns + 16, dStride = (long)outChannels * columns + 16, uSize = 16L * outChannels * inChannels;
        int workers = Math.Min(CpuParallel.ThreadCount, batch);
        float* sums = Grow(ref t_wgSums, workers * uSize);
        CpuParallel.For(workers, worker =>
        {
            float* dU = sums + worker * uSize;
            new Span<float>(dU, (int)uSize).Clear();
            float* v = Grow(ref t_wgInput, 16 * vStride);
            float* d = Grow(ref t_wgProducts, 16 * dStride);
            float* phases = Grow(ref t_wgPhases, 4L * tileStride);
            int first = (int)((long)worker * batch / workers), end = (int)((long)(worker + 1) * batch / workers);
            for (int n0 = first; n0 < end; n0 += images)
            {
                int count = Math.Min(images, end - n0), used = count * tileStride;
                if (n0 + images < end)
                {
                    // The next block's images into L2 while this one is transformed (as in the forward; a training step
                    // 90.6 → 89.1 and 89.3 → 88.9 ms, interleaved).
                    int ahead = Math.Min(images, end - n0 - images);
                    Prefetch(x + (long)(n0 + images) * inChannels * h * w, (long)ahead * inChannels * h * w);
                    Prefetch(dy + (long)(n0 + images) * outChannels * h * w, (long)ahead * outChannels * h * w);
                }
                TransformImages(x + (long)n0 * inChannels * h * w, count, inChannels, h, w, masks, phases, v, columns, vStride);
                for (int i = 0; i < count; i++)
                    for (int co = 0; co < outChannels; co++)
                    {
                        SplitPhases(dy + ((long)(n0 + i) * outChannels + co) * h * w, h, w, phases, tileStride);
                        if (tileStride > tilesPerImage) // the last block's lanes past the tiles: zeros, so they add nothing
                            for (int p = 0; p < 4; p++) new Span<float>(phases + p * tileStride + tilesPerImage, tileStride - tilesPerImage).Clear();
                        for (int block = 0; block < blocks; block++)
                            TransformGradient(phases + 16 * block, tileStride, d + (long)co * columns + i * tileStride + 16 * block, dStride);
                    }
                for (int xi = 0; xi < 16; xi++)
                    CpuGemm.Sgemm(false, true, outChannels, inChannels, used, 1f, d + xi * dStride, columns, v + xi * vStride, columns, 1f,
                        dU + xi * (long)outChannels * inChannels, inChannels, parallel: false);
            }
        });
        // dW = Gᵀ (Σ_workers dU) G per (co, c), in double, output channels shared out over the threads (on one thread,
        // with the workers' sums added first, it took 7 % of the 64-channel weight gradient: 1.101 → 1.022 ms).
        long pairs = (long)outChannels * inChannels;
        CpuParallel.For(outChannels, co =>
        {
            Span<double> t = stackalloc double[12];
            for (long pair = (long)co * inChannels; pair < (long)(co + 1) * inChannels; pair++)
            {
                for (int j = 0; j < 4; j++) // t = Gᵀ dU (3 × 4)
                {
                    double u0 = 0, u1 = 0, u2 = 0, u3 = 0;
                    for (int worker = 0; worker < workers; worker++)
                    {
                        float* u = sums + worker * uSize + pair;
                        u0 += u[j * pairs]; u1 += u[(4 + j) * pairs]; u2 += u[(8 + j) * pairs]; u3 += u[(12 + j) * pairs];
                    }
                    t[j] = u0 + 0.5 * (u1 + u2);
                    t[4 + j] = 0.5 * (u1 - u2);
                    t[8 + j] = 0.5 * (u1 + u2) + u3;
                }
                float* g = dw + pair * 9;
                for (int i = 0; i < 3; i++) // dW = t G (3 × 3)
                {
                    double t0 = t[4 * i], t1 = t[4 * i + 1], t2 = t[4 * i + 2], t3 = t[4 * i + 3];
                    g[3 * i] = (float)(t0 + 0.5 * (t1 + t2));
                    g[3 * i + 1] = (float)(0.5 * (t1 - t2));
                    g[3 * i + 2] = (float)(0.5 * (t1 + t2) + t3);
                }
            }
        });
    }

    /// <summary>V for count images (input at their first): each channel split into phase planes, then TransformInput per block.</summary>
    private static void TransformImages(float* input, int count, int inChannels, int h, int w, Vector512<float>* masks, float* phases, float* v,
        int columns, long vStride)
    {
        int wp = w / 2, tileStride = TileStride(h / 2, wp), blocks = tileStride / 16;
        for (int i = 0; i < count; i++)
            for (int c = 0; c < inChannels; c++)
            {
                SplitPhases(input + ((long)i * inChannels + c) * h * w, h, w, phases, tileStride);
                for (int block = 0; block < blocks; block++)
                    TransformInput(phases, tileStride, wp, block, masks + block * 9, v + (long)c * columns + i * tileStride + 16 * block, vStride);
            }
    }

    /// <summary>
    /// D = A dY Aᵀ for 16 tiles: dY's phase (py, px) of the tiles at phases + (2py + px)·phase; D_ξ to d + ξ·positionStride.
    /// A's rows spread (a, b) to (a, a + b, a − b, −b).
    /// </summary>
    private static void TransformGradient(float* phases, int phase, float* d, long positionStride)
    {
        Vector512<float> y00 = Vector512.Load(phases), y01 = Vector512.Load(phases + phase);
        Vector512<float> y10 = Vector512.Load(phases + 2 * phase), y11 = Vector512.Load(phases + 3 * phase);
        // Rows: r_i = (A dY)_i, two columns each.
        Vector512<float> r00 = y00, r01 = y01, r10 = y00 + y10, r11 = y01 + y11, r20 = y00 - y10, r21 = y01 - y11, r30 = -y10, r31 = -y11;
        SpreadRow(d, positionStride, 0, r00, r01);
        SpreadRow(d, positionStride, 1, r10, r11);
        SpreadRow(d, positionStride, 2, r20, r21);
        SpreadRow(d, positionStride, 3, r30, r31);
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    private static void SpreadRow(float* d, long positionStride, int i, Vector512<float> a, Vector512<float> b)
    {
        a.Store(d + (4 * i) * positionStride);
        (a + b).Store(d + (4 * i + 1) * positionStride);
        (a - b).Store(d + (4 * i + 2) * positionStride);
        (-b).Store(d + (4 * i + 3) * positionStride);
    }

    /// <summary>
    /// U_ξ = (G g Gᵀ)_ξ for every (co, c), in double then rounded, packed per ξ for SgemmOffsetRows (16 × packedLength
    /// floats). Output channels and positions are shared out over the threads: run on one, this took a third of the
    /// 64-channel convolutions' time.
    /// </summary>
    private static float* TransformWeights(float* weights, int outChannels, int inChannels, long packedLength)
    {
        // Positions a multiple of 4 KiB apart plus a cache line (each pair writes one float to all 16).
        long positionStride = (long)outChannels * inChannels + 16;
        float* u = Grow(ref t_wgWeights, 16 * positionStride);
        CpuParallel.For(outChannels, co =>
        {
            for (int c = 0; c < inChannels; c++)
            {
                float* g = weights + ((long)co * inChannels + c) * 9;
                float* pair = u + (long)co * inChannels + c;
                for (int i = 0; i < 4; i++)
                {
                    // Row i of t = G g (4 × 3), then U's row i = t_i Gᵀ.
                    double t0, t1, t2;
                    if (i == 0) (t0, t1, t2) = (g[0], g[1], g[2]);
                    else if (i == 3) (t0, t1, t2) = (g[6], g[7], g[8]);
                    else
                    {
                        double sign = i == 1 ? 1 : -1;
                        t0 = 0.5 * (g[0] + sign * g[3] + g[6]);
                        t1 = 0.5 * (g[1] + sign * g[4] + g[7]);
                        t2 = 0.5 * (g[2] + sign * g[5] + g[8]);
                    }
                    pair[(4 * i) * positionStride] = (float)t0;
                    pair[(4 * i + 1) * positionStride] = (float)(0.5 * (t0 + t1 + t2));
                    pair[(4 * i + 2) * positionStride] = (float)(0.5 * (t0 - t1 + t2));
                    pair[(4 * i + 3) * positionStride] = (float)t2;
                }
            }
        });
        float* packed = Grow(ref t_wgPacked, 16 * packedLength);
        CpuParallel.For(16, xi => CpuGemm.PackAPanels(u + xi * positionStride, inChannels, outChannels, inChannels, packed + xi * packedLength));
        return packed;
    }

    /// <summary>
    /// Lane masks per 16-tile block and shift (sy, sx) ∈ {−1, 0, 1}² (index 3·(sy + 1) + sx + 1): lane q keeps tile
    /// 16·block + q iff it is a tile of the hp × wp grid and its shift by (sy, sx) lies on the grid too.
    /// </summary>
    private static Vector512<float>* ShiftMasks(int hp, int wp)
    {
        int blocks = TileStride(hp, wp) / 16;
        var masks = (Vector512<float>*)Grow(ref t_wgMasks, blocks * 9L * 16);
        float keep = BitConverter.Int32BitsToSingle(-1);
        for (int block = 0; block < blocks; block++)
            for (int sy = -1; sy <= 1; sy++)
                for (int sx = -1; sx <= 1; sx++)
                {
                    float* lanes = (float*)(masks + block * 9 + 3 * (sy + 1) + sx + 1);
                    for (int q = 0; q < 16; q++)
                    {
                        int tile = 16 * block + q, ty = tile / wp + sy, tx = tile % wp + sx;
                        lanes[q] = tile < hp * wp && ty >= 0 && ty < hp && tx >= 0 && tx < wp ? keep : 0f;
                    }
                }
        return masks;
    }

    /// <summary>The four phase planes of an h × w plane: phases + (2py + px)·phase holds x[2i + py, 2j + px] (rows w/2 apart).</summary>
    private static void SplitPhases(float* plane, int h, int w, float* phases, int phase)
    {
        for (int r = 0; r < h; r++)
        {
            float* even = phases + (r & 1) * 2 * phase + (r >> 1) * (w / 2);
            SplitRowStride2(plane + (long)r * w, w, even, even + phase);
        }
    }

    /// <summary>
    /// V = Bᵀ d B for the 16 tiles of one block: d's element (a, b) is phase ((a + 1) mod 2, (b + 1) mod 2) shifted by
    /// (⌊(a − 1)/2⌋, ⌊(b − 1)/2⌋); V_ξ (ξ = 4i + j) goes to v + ξ·positionStride.
    /// </summary>
    private static void TransformInput(float* phases, int phase, int wp, int block, Vector512<float>* masks, float* v, long positionStride)
    {
        // Patch row (or column) a reads phase row parity py(a) shifted by sh(a): a = 0 → (1, −1), 1 → (0, 0), 2 → (1, 0), 3 → (0, 1).
        float* p = phases + 16 * block;
        Vector512<float> d00, d01, d02, d03, d10, d11, d12, d13, d20, d21, d22, d23, d30, d31, d32, d33;
        d00 = Load(p, phase, wp, masks, 1, 1, -1, -1); d01 = Load(p, phase, wp, masks, 1, 0, -1, 0);
        d02 = Load(p, phase, wp, masks, 1, 1, -1, 0); d03 = Load(p, phase, wp, masks, 1, 0, -1, 1);
        d10 = Load(p, phase, wp, masks, 0, 1, 0, -1); d11 = Load(p, phase, wp, masks, 0, 0, 0, 0);
        d12 = Load(p, phase, wp, masks, 0, 1, 0, 0); d13 = Load(p, phase, wp, masks, 0, 0, 0, 1);
        d20 = Load(p, phase, wp, masks, 1, 1, 0, -1); d21 = Load(p, phase, wp, masks, 1, 0, 0, 0);
        d22 = Load(p, phase, wp, masks, 1, 1, 0, 0); d23 = Load(p, phase, wp, masks, 1, 0, 0, 1);
        d30 = Load(p, phase, wp, masks, 0, 1, 1, -1); d31 = Load(p, phase, wp, masks, 0, 0, 1, 0);
        d32 = Load(p, phase, wp, masks, 0, 1, 1, 0); d33 = Load(p, phase, wp, masks, 0, 0, 1, 1);
        // Rows: e_a = Bᵀ-combination of patch rows (e0 = d0 − d2, e1 = d1 + d2, e2 = d2 − d1, e3 = d1 − d3), column by column.
        Vector512<float> e00 = d00 - d20, e01 = d01 - d21, e02 = d02 - d22, e03 = d03 - d23;
        Vector512<float> e10 = d10 + d20, e11 = d11 + d21, e12 = d12 + d22, e13 = d13 + d23;
        Vector512<float> e20 = d20 - d10, e21 = d21 - d11, e22 = d22 - d12, e23 = d23 - d13;
        Vector512<float> e30 = d10 - d30, e31 = d11 - d31, e32 = d12 - d32, e33 = d13 - d33;
        // Columns: the same combination along each row.
        StoreRow(v, positionStride, 0, e00, e01, e02, e03);
        StoreRow(v, positionStride, 1, e10, e11, e12, e13);
        StoreRow(v, positionStride, 2, e20, e21, e22, e23);
        StoreRow(v, positionStride, 3, e30, e31, e32, e33);
    }

    /// <summary>Phase (py, px) of the block's tiles shifted by (sy, sx), zero where the shift leaves the grid.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Load(float* p, int phase, int wp, Vector512<float>* masks, int py, int px, int sy, int sx) =>
        Avx512F.MaskLoad(p + (2 * py + px) * phase + sy * wp + sx, masks[3 * (sy + 1) + sx + 1], Vector512<float>.Zero);

    /// <summary>V_{i, 0…3} = (r0 − r2, r1 + r2, r2 − r1, r1 − r3) for row i of the row-combined patch.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    private static void StoreRow(float* v, long positionStride, int i, Vector512<float> r0, Vector512<float> r1, Vector512<float> r2, Vector512<float> r3)
    {
        (r0 - r2).Store(v + (4 * i) * positionStride);
        (r1 + r2).Store(v + (4 * i + 1) * positionStride);
        (r2 - r1).Store(v + (4 * i + 2) * positionStride);
        (r1 - r3).Store(v + (4 * i + 3) * positionStride);
    }

    /// <summary>
    /// Y = Aᵀ M A for 16 tiles: M_ξ at m + ξ·positionStride; output phase (py, px) of the tiles to phases + (2py + px)·phase.
    /// </summary>
    private static void TransformOutput(float* m, long positionStride, float* phases, int phase)
    {
        // Rows first: t_{0, j} = m_0j + m_1j + m_2j, t_{1, j} = m_1j − m_2j − m_3j; then the same along j.
        Vector512<float> t00, t01, t02, t03, t10, t11, t12, t13;
        {
            Vector512<float> a = Vector512.Load(m), b = Vector512.Load(m + 4 * positionStride), c = Vector512.Load(m + 8 * positionStride), d = Vector512.Load(m + 12 * positionStride);
            t00 = a + b + c; t10 = b - c - d;
        }
        {
            Vector512<float> a = Vector512.Load(m + positionStride), b = Vector512.Load(m + 5 * positionStride), c = Vector512.Load(m + 9 * positionStride), d = Vector512.Load(m + 13 * positionStride);
            t01 = a + b + c; t11 = b - c - d;
        }
        {
            Vector512<float> a = Vector512.Load(m + 2 * positionStride), b = Vector512.Load(m + 6 * positionStride), c = Vector512.Load(m + 10 * positionStride), d = Vector512.Load(m + 14 * positionStride);
            t02 = a + b + c; t12 = b - c - d;
        }
        {
            Vector512<float> a = Vector512.Load(m + 3 * positionStride), b = Vector512.Load(m + 7 * positionStride), c = Vector512.Load(m + 11 * positionStride), d = Vector512.Load(m + 15 * positionStride);
            t03 = a + b + c; t13 = b - c - d;
        }
        (t00 + t01 + t02).Store(phases);
        (t01 - t02 - t03).Store(phases + phase);
        (t10 + t11 + t12).Store(phases + 2 * phase);
        (t11 - t12 - t13).Store(phases + 3 * phase);
    }

    /// <summary>Interleaves the four phase planes (phases + (2py + px)·phase, rows w/2 apart) back into the h × w plane.</summary>
    private static void MergePhases(float* phases, int phase, int h, int w, float* plane)
    {
        int wp = w / 2;
        for (int r = 0; r < h; r++)
        {
            float* even = phases + (r & 1) * 2 * phase + (r >> 1) * wp;
            MergeRowStride2(even, even + phase, plane + (long)r * w, wp);
        }
    }

    /// <summary>
    /// Columns one image's tiles take in the transforms' blocks: the tiles rounded up to whole 16-lane blocks (the lanes
    /// past the tiles are masked off on the way in and dropped on the way out).
    /// </summary>
    private static int TileStride(int hp, int wp) => (hp * wp + 15) / 16 * 16;
}
