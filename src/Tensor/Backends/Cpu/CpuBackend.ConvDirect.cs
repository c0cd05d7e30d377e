// Direct convolution: the float32 path for stride-1 "same" convolutions (odd K×K kernel, padding (K − 1)/2, no
// dilation, one group) on images whose H·W pixels split into 32-pixel tiles that each hold whole rows or lie within
// one (W divides 32, or 32 divides W), planes below 1024 pixels or not a multiple of them (below), where the Winograd
// path (CpuBackend.ConvWinograd.cs: 3×3 with 16 or more channels both ways) does not serve: other odd kernels, narrow
// layers, single images. Forward (with the fused bias and ReLU of inference) and, with flipped weights,
// backward input.
//
// Output tile t of image n is the 32 pixels q = 32t + j (j < 32) of every output channel, i.e. 32 consecutive floats of
// each output plane, so the GEMM writes the output in place. Tap (c, ki, kj) of pixel q = (oh, ow) reads input pixel
// (oh + ki − P, ow + kj − P) of channel c, which in the unpadded plane sits at q + (ki − P)·W + (kj − P): for the
// whole tile, one row of B at a fixed offset from the tile — except for the lanes whose pixel lies outside the image
// (off the top or bottom, or wrapping around a row end), which a per-(tile, tap) lane mask clears. So no padded copy
// of the input is made (the implicit-GEMM path, CpuBackend.ConvImplicit.cs, copies every image into a padded grid and
// copies the result grid out), and no garbage grid points are computed (a 64-channel 8×8 layer's grid has 81 points
// per image for 64 outputs there).
//
// The depth runs tap-major (k = tap·C + c, the weights reordered to match) so that the kernel's inner loop walks the
// channels of one tap: the B row steps by one plane and the tap's masks stay put, with no per-step offset table (32 → 32
// at 16×16 forward 1.351 → 1.267 ms, 64 → 64 at 8×8 1.337 → 1.269, backward input alike; interleaved). The sums therefore
// add the same products as the other paths in another order: results agree to rounding, not bit for bit.
//
// Planes of a multiple of 1024 floats (32×32 and up) stay on the implicit path: there every input channel's rows of a
// tile map to the same L1 sets (4 KiB apart), and the tile's B rows no longer fit; measured 3–10 % slower at 32×32
// (and no faster than the implicit path with each image first copied to a channel stride of 1024 + 32 floats).
// Reading the image directly also leaves the hardware prefetcher a few lines per channel, too scattered to learn, so
// each thread prefetches the image it will most likely take next: without that the path measured no faster inside a
// training step than the implicit one (cold activations), with it −1.3 to −1.9 ms on forward and backward input each
// (ResNet-20, batch 128; 64 → 64 at 8×8 alone: 1.87 → 1.52 ms).
//
// The forward of 3×3 stride-2 pad-1 convolutions (ResNet's downsampling) runs the same kernel over the four phase
// planes of each image (DirectStride2Forward, below).
//
// Threads: images in parallel; with fewer images than threads, an image's tiles are shared out.
using System.Runtime.Intrinsics;

namespace Standalone.Backends.Cpu;

public sealed unsafe partial class CpuBackend
{
    [ThreadStatic] private static float[]? t_masks, t_tapMajor;

    /// <summary>Whether the direct path computes this convolution's forward and backward input (see the header).</summary>
    private static bool UsesDirectConv<T>(in ConvShape s) =>
        typeof(T) == typeof(float) && CpuGemm.HasMaskedTile && s.Groups == 1
        && s.KH == s.KW && s.KH % 2 == 1 && s.KH > 1
        && s.P.StrideH == 1 && s.P.StrideW == 1 && s.P.DilationH == 1 && s.P.DilationW == 1
        && s.P.PadH == s.KH / 2 && s.P.PadW == s.KW / 2
        && s.H * s.W % CpuGemm.MaskedTileColumns == 0 && (s.W % CpuGemm.MaskedTileColumns == 0 || CpuGemm.MaskedTileColumns % s.W == 0)
        && s.H * s.W % 1024 != 0;

    private static void DirectForward(in ConvShape s, float* x, float* w, float* bias, float* y, bool relu, float* residual) =>
        DirectConv(s.Batch, s.InC, s.OutC, s.H, s.W, s.KH, w, x, bias, y, relu, residual);

    /// <summary>dx = the "same" convolution of dY with W'[ci, (co, ki, kj)] = W[co, ci, K−1−ki, K−1−kj].</summary>
    private static void DirectBackwardInput(in ConvShape s, float* dy, float* w, float* dx) =>
        DirectConv(s.Batch, s.OutC, s.InC, s.H, s.W, s.KH, FlippedWeights(s, w), dy, null, dx, relu: false);

    /// <summary>
    /// output[n, co] = Σ_k weights[co, k]·input taps (+ bias[co]; + residual[n, co], shaped like output; through max(0, ·)
    /// when relu) for the images of input[batch, inChannels, h, w], a K×K kernel padded by K/2; weights row-major
    /// [outChannels, inChannels·K·K].
    /// </summary>
    private static void DirectConv(int batch, int inChannels, int outChannels, int h, int w, int kernel, float* weights, float* input, float* bias,
        float* output, bool relu, float* residual = null)
    {
        const int columns = CpuGemm.MaskedTileColumns;
        int taps = kernel * kernel, depth = inChannels * taps, plane = h * w, tiles = plane / columns, pad = kernel / 2;
        float* packed = Grow(ref t_packed, CpuGemm.PackedA8Length(outChannels, depth));
        PackTapMajor(weights, outChannels, inChannels, taps, packed);

        // Per tap: the offset of its B row (channel 0) from the tile.
        int* tapOffsets = Grow(ref t_offsets, taps);
        for (int ki = 0; ki < kernel; ki++)
            for (int kj = 0; kj < kernel; kj++)
                tapOffsets[ki * kernel + kj] = (ki - pad) * w + (kj - pad);

        // Lane masks per tile and tap: lane j of half hf keeps pixel q = 32t + 16hf + j iff its tap lies in the image.
        var masks = (Vector512<float>*)Grow(ref t_masks, (long)tiles * taps * 2 * 16);
        float keep = BitConverter.Int32BitsToSingle(-1);
        for (int t = 0; t < tiles; t++)
            for (int ki = 0; ki < kernel; ki++)
                for (int kj = 0; kj < kernel; kj++)
                {
                    float* lanes = (float*)(masks + (t * taps + ki * kernel + kj) * 2);
                    for (int j = 0; j < columns; j++)
                    {
                        int q = t * columns + j, ih = q / w + ki - pad, iw = q % w + kj - pad;
                        lanes[j] = ih >= 0 && ih < h && iw >= 0 && iw < w ? keep : 0f;
                    }
                }

        int threads = CpuParallel.ThreadCount;
        int blocks = batch >= threads ? 1 : Math.Min(tiles, (threads + batch - 1) / batch);
        CpuParallel.For(batch * blocks, item =>
        {
            int n = item / blocks, block = item % blocks;
            int t0 = block * tiles / blocks, t1 = (block + 1) * tiles / blocks;
            float* image = input + (long)n * inChannels * plane;
            float* result = output + (long)n * outChannels * plane;
            float* added = residual == null ? null : residual + (long)n * outChannels * plane;
            if (block == 0 && n + threads < batch)
            {
                // The image this thread most likely takes next: its channels are read a few lines each, too scattered
                // for the hardware prefetcher.
                Prefetch(image + (long)threads * inChannels * plane, (long)inChannels * plane);
            }
            for (int t = t0; t < t1; t++)
                CpuGemm.SgemmMaskedTile(outChannels, inChannels, taps, packed, image + t * columns, plane, tapOffsets, masks + t * taps * 2,
                    result + t * columns, plane, bias, relu, added == null ? null : added + t * columns);
        });
    }
    /// <summary>
    /// weights [outChannels, (c, tap)] (row-major, as a convolution's) reordered to [outChannels, (tap, c)] and packed
    /// into 8-row panels: CpuGemm.SgemmMaskedTile's A for a tap-major depth.
    /// </summary>
    private static void PackTapMajor(float* weights, int outChannels, int inChannels, int taps, float* packed)
    {
        int depth = inChannels * taps;
        float* tapMajor = Grow(ref t_tapMajor, (long)outChannels * depth);
        for (int o = 0; o < outChannels; o++)
            for (int c = 0; c < inChannels; c++)
                for (int t = 0; t < taps; t++)
                    tapMajor[(long)o * depth + t * inChannels + c] = weights[(long)o * depth + c * taps + t];
        CpuGemm.PackA8Panels(tapMajor, depth, outChannels, depth, packed);
    }

    [ThreadStatic] private static float[]? t_phases;

    /// <summary>
    /// Whether the forward of this 3×3 stride-2 pad-1 convolution (ResNet's downsampling) runs directly on phase planes:
    /// even input sides, an output plane that splits into masked tiles as in UsesDirectConv, at least one image per thread.
    /// </summary>
    private static bool UsesDirectStride2<T>(in ConvShape s) =>
        typeof(T) == typeof(float) && CpuGemm.HasMaskedTile && s.Groups == 1 && s.KH == 3 && s.KW == 3
        && s.P.StrideH == 2 && s.P.StrideW == 2 && s.P.PadH == 1 && s.P.PadW == 1 && s.P.DilationH == 1 && s.P.DilationW == 1
        && s.H % 2 == 0 && s.W % 2 == 0 && s.OH * s.OW % CpuGemm.MaskedTileColumns == 0
        && (s.OW % CpuGemm.MaskedTileColumns == 0 || CpuGemm.MaskedTileColumns % s.OW == 0) && s.Batch >= CpuParallel.ThreadCount;

    /// <summary>
    /// y = the 3×3 stride-2 pad-1 convolution of x (+ bias, through ReLU when relu) as a direct convolution over x's four
    /// phase planes: each image is split once into planes x[c, 2i + py, 2j + px] (OH × OW each, no padding), and tap
    /// (ki, kj) reads phase (ki ≠ 1, kj ≠ 1) shifted up (ki = 0) and left (kj = 0) by one, the shifted-out pixels masked.
    /// No padded grid (whose gap rows and columns cost 12–27 % more products at 16×16 and 8×8 outputs) and no copy-out:
    /// ResNet-20, batch 128, interleaved against the implicit path: 16 → 32 from 32×32 0.939 → 0.839 ms and 1.011 →
    /// 0.882, 32 → 64 from 16×16 0.966 → 0.723 and 0.962 → 0.717. (The weight gradient keeps the implicit path's phase grid.)
    /// </summary>
    private static void DirectStride2Forward(in ConvShape s, float* x, float* weights, float* bias, float* y, bool relu, float* residual)
    {
        const int columns = CpuGemm.MaskedTileColumns, taps = 9;
        int inC = s.InC, outC = s.OutC, h = s.H, w = s.W, oh = s.OH, ow = s.OW, plane = oh * ow, tiles = plane / columns, depth = inC * taps;
        float* packed = Grow(ref t_packed, CpuGemm.PackedA8Length(outC, depth));
        PackTapMajor(weights, outC, inC, taps, packed);

        // Tap (ki, kj): phase (py, px) = (ki ≠ 1, kj ≠ 1), shifted by (−1 if ki = 0, −1 if kj = 0).
        int* tapOffsets = Grow(ref t_offsets, taps);
        var masks = (Vector512<float>*)Grow(ref t_masks, (long)tiles * taps * 2 * 16);
        float keep = BitConverter.Int32BitsToSingle(-1);
        for (int ki = 0; ki < 3; ki++)
            for (int kj = 0; kj < 3; kj++)
            {
                int py = ki == 1 ? 0 : 1, px = kj == 1 ? 0 : 1, dy = ki == 0 ? -1 : 0, dx = kj == 0 ? -1 : 0;
                tapOffsets[ki * 3 + kj] = (py * 2 + px) * plane + dy * ow + dx;
                for (int t = 0; t < tiles; t++)
                {
                    float* lanes = (float*)(masks + (t * taps + ki * 3 + kj) * 2);
                    for (int j = 0; j < columns; j++)
                    {
                        int q = t * columns + j;
                        lanes[j] = q / ow + dy >= 0 && q % ow + dx >= 0 ? keep : 0f;
                    }
                }
            }

        CpuParallel.For(s.Batch, n =>
        {
            float* phases = Grow(ref t_phases, (long)inC * 4 * plane);
            float* image = x + (long)n * inC * h * w;
            for (int c = 0; c < inC; c++)
                for (int r = 0; r < h; r++)
                {
                    // Row r = 2i + py goes to phase (py, 0) (even columns) and (py, 1) (odd columns), row i.
                    float* dst = phases + ((long)c * 4 + (r & 1) * 2) * plane + (r >> 1) * ow;
                    SplitRowStride2(image + ((long)c * h + r) * w, w, dst, dst + plane);
                }
            float* result = y + (long)n * outC * plane;
            float* added = residual == null ? null : residual + (long)n * outC * plane;
            for (int t = 0; t < tiles; t++)
                CpuGemm.SgemmMaskedTile(outC, inC, taps, packed, phases + t * columns, 4 * plane, tapOffsets, masks + t * taps * 2,
                    result + t * columns, plane, bias, relu, added == null ? null : added + t * columns);
        });
    }
    [ThreadStatic] private static float[]? t_spareRow;

    /// <summary>
    /// Whether the forward of a 1×1 stride-2 convolution without padding (ResNet's projection shortcut) runs on the
    /// masked tile (PointwiseStride2Forward): even input sides, an output plane that splits into masked tiles as in
    /// UsesDirectConv, at least one image per thread. (Its backward input the same way — phase plane, then dx's rows
    /// written once — measured 20 % faster with dx in cache and 10 % slower without, so it stays on col2im.)
    /// </summary>
    private static bool UsesDirectPointwiseStride2<T>(in ConvShape s) =>
        typeof(T) == typeof(float) && CpuGemm.HasMaskedTile && s.Groups == 1 && s.KH == 1 && s.KW == 1
        && s.P.StrideH == 2 && s.P.StrideW == 2 && s.P.PadH == 0 && s.P.PadW == 0 && s.H == 2 * s.OH && s.W == 2 * s.OW
        && s.OH * s.OW % CpuGemm.MaskedTileColumns == 0 && (s.OW % CpuGemm.MaskedTileColumns == 0 || CpuGemm.MaskedTileColumns % s.OW == 0)
        && s.Batch >= CpuParallel.ThreadCount;

    /// <summary>The masked tile's lane masks (two vectors per tap) for taps that keep every lane: a padded or gathered B.</summary>
    private static Vector512<float>* AllLanes(int taps)
    {
        var lanes = (Vector512<float>*)Grow(ref t_masks, 2L * taps * 16);
        for (int t = 0; t < 2 * taps; t++) lanes[t] = Vector512<float>.AllBitsSet;
        return lanes;
    }

    /// <summary>
    /// y = W·x[:, even rows, even columns] (+ bias, through ReLU when relu): each image's even-even phase gathered once,
    /// then one masked tile per 32 output pixels straight into y (no im2col matrix, no packed B, bias and ReLU in
    /// registers). ResNet-20's 16 → 32 shortcut, interleaved against im2col + GEMM: batch 128 without bias 0.186 → 0.180
    /// and 0.205 → 0.205 ms, 32 → 64 0.176 → 0.140 and 0.180 → 0.143; inference (batch 256, bias and ReLU, which that
    /// path applied in a second, partly scalar pass) 4.54 → 0.62 and 4.65 → 0.64 ms.
    /// </summary>
    private static void PointwiseStride2Forward(in ConvShape s, float* x, float* w, float* bias, float* y, bool relu, float* residual)
    {
        const int columns = CpuGemm.MaskedTileColumns;
        int inC = s.InC, outC = s.OutC, h = s.H, width = s.W, oh = s.OH, ow = s.OW, plane = oh * ow, tiles = plane / columns;
        float* packed = Grow(ref t_packed, CpuGemm.PackedA8Length(outC, inC));
        CpuGemm.PackA8Panels(w, inC, outC, inC, packed);
        int* offset = Grow(ref t_offsets, 1);
        offset[0] = 0;
        var lanes = AllLanes(1);
        CpuParallel.For(s.Batch, n =>
        {
            float* phase = Grow(ref t_phases, (long)inC * plane);
            float* odd = Grow(ref t_spareRow, ow); // the odd columns, not needed
            for (int c = 0; c < inC; c++)
                for (int i = 0; i < oh; i++)
                    SplitRowStride2(x + (((long)n * inC + c) * h + 2 * i) * width, width, phase + (long)c * plane + i * ow, odd);
            float* added = residual == null ? null : residual + (long)n * outC * plane;
            for (int t = 0; t < tiles; t++)
                CpuGemm.SgemmMaskedTile(outC, inC, 1, packed, phase + t * columns, plane, offset, lanes, y + (long)n * outC * plane + t * columns,
                    plane, bias, relu, added == null ? null : added + t * columns);
        });
    }
}
