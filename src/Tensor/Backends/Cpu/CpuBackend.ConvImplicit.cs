// Implicit-GEMM convolution: the float32 path for stride-1 convolutions (3×3 pad 1, and every other stride-1 geometry
// whose transposed padding (K − 1)·D − P is not negative) that never writes an im2col matrix.
//
// An image x[c, H, W] is copied once into a zero-padded buffer xp[c, Hp, Wp] (Hp = H + 2·PH, Wp = W + 2·PW). The output
// is computed on the padded-width grid g = oh·Wp + ow with ow < Wp: the columns ow ≥ OW are garbage, dropped when the
// result is copied out. Tap (ki, kj) of channel c then reads xp[off(c, ki, kj) + g], off = c·Hp·Wp + ki·DH·Wp + kj·DW,
// so row k = (c, ki, kj) of the GEMM's B is the padded buffer at a fixed offset (CpuGemm.Offsets.cs):
//   forward          y[co, g] = Σ_k W[co, k] · xp[off(k) + g]   (+ bias[co], added while copying out)
//   backward input   dx = the forward of dY padded by (K − 1)·D − P, with W flipped 180° and in/out channels swapped
//   backward weight  dW[co, k] = Σ_n Σ_g dYg[n, co, g] · xp[n, off(k) + g], with dY laid on the grid (zeros in the
//                    garbage columns and rows), so every term is a dot product of contiguous rows. Several images are
//                    stacked per channel ([c, image, Hp·Wp]) so that one dot product runs over all of them: the zeros of
//                    dYg cancel the reads that cross from one image's plane into the next (finite inputs assumed: an
//                    infinite x there would make 0·∞ = NaN).
// Threads: forward and backward input run (image, block of output rows) items in parallel — more than one block per
// image only when there are fewer images than threads; backward weight shares the images out by worker
// (CpuBackend.Conv.cs ConvBackwardWeight).
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Standalone.Backends.Cpu;

public sealed unsafe partial class CpuBackend
{
    [ThreadStatic] private static float[]? t_padded, t_grid, t_weights, t_packed;
    [ThreadStatic] private static int[]? t_offsets;

    /// <summary>Floats per stacked chunk of (input + output-gradient) planes in the weight gradient: 512 KiB, half an L2
    /// (256 KiB to 4 MiB measured within noise of each other on the ResNet-20 shapes).</summary>
    private const int WeightGradChunkFloats = 1 << 17;

    /// <summary>
    /// A stride-1 convolution seen on its zero-padded input: Channels planes of H×W padded to Hp×Wp, taps KH×KW with
    /// dilation DH×DW, output OH×OW computed on OH rows of Wp grid columns.
    /// </summary>
    private readonly struct PaddedGrid(int channels, int h, int w, int padH, int padW, int kh, int kw, int dh, int dw)
    {
        public readonly int Channels = channels, H = h, W = w, PadH = padH, PadW = padW, KH = kh, KW = kw, DH = dh, DW = dw;
        public int Hp => H + 2 * PadH;
        public int Wp => W + 2 * PadW;
        public int OH => Hp - (KH - 1) * DH;
        public int OW => Wp - (KW - 1) * DW;
        public int Plane => Hp * Wp;
        public int Columns => OH * Wp;
        /// <summary>Readable floats needed past the last plane: a column tile's overhang plus the largest tap offset.</summary>
        public int Slack => CpuGemm.OffsetColumnTile + (KH - 1) * DH * Wp + (KW - 1) * DW;

        /// <summary>offsets[(c·KH + ki)·KW + kj] = c·channelStride + ki·DH·Wp + kj·DW for c &lt; channels.</summary>
        public void FillOffsets(int* offsets, int channels, long channelStride)
        {
            for (int c = 0, k = 0; c < channels; c++)
                for (int ki = 0; ki < KH; ki++)
                    for (int kj = 0; kj < KW; kj++)
                        offsets[k++] = checked((int)(c * channelStride + ki * DH * Wp + kj * DW));
        }

        /// <summary>Copies image[Channels, H, W] into dst (channel planes channelStride apart), zero-padded.</summary>
        public void Pad(float* image, float* dst, long channelStride) =>
            PadPlanes(image, Channels, H, W, PadH, PadW, Hp, Wp, dst, channelStride);
    }

    /// <summary>Stride 1 with a non-negative transposed padding: the shapes the implicit path computes (float32 only).</summary>
    private static bool UsesImplicitGemm<T>(in ConvShape s) =>
        typeof(T) == typeof(float) && s.P.StrideH == 1 && s.P.StrideW == 1 && !s.Pointwise
        && (s.KH - 1) * s.P.DilationH >= s.P.PadH && (s.KW - 1) * s.P.DilationW >= s.P.PadW;

    private static PaddedGrid InputGrid(in ConvShape s) =>
        new(s.InC, s.H, s.W, s.P.PadH, s.P.PadW, s.KH, s.KW, s.P.DilationH, s.P.DilationW);

    private static void ImplicitForward(in ConvShape s, float* x, float* w, float* bias, float* y) =>
        ImplicitConv(InputGrid(s), s.Batch, s.Groups, s.OutC, w, x, bias, y);

    /// <summary>dx = forward conv of dY (padded by (K − 1)·D − P) with W'[ci, (co, ki, kj)] = W[co, ci, KH−1−ki, KW−1−kj] per group.</summary>
    private static void ImplicitBackwardInput(in ConvShape s, float* dy, float* w, float* dx)
    {
        int taps = s.KH * s.KW;
        float* flipped = Grow(ref t_weights, (long)s.OutC * s.ColRows);
        for (int g = 0; g < s.Groups; g++)
            for (int co = 0; co < s.OutCG; co++)
                for (int ci = 0; ci < s.InCG; ci++)
                {
                    float* src = w + ((long)(g * s.OutCG + co) * s.InCG + ci) * taps;
                    float* dst = flipped + ((long)(g * s.InCG + ci) * s.OutCG + co) * taps;
                    for (int t = 0; t < taps; t++) dst[t] = src[taps - 1 - t];
                }
        var grid = new PaddedGrid(s.OutC, s.OH, s.OW, (s.KH - 1) * s.P.DilationH - s.P.PadH, (s.KW - 1) * s.P.DilationW - s.P.PadW,
            s.KH, s.KW, s.P.DilationH, s.P.DilationW);
        ImplicitConv(grid, s.Batch, s.Groups, s.InC, flipped, dy, null, dx);
    }

    /// <summary>
    /// output[n, co] = Σ_k weights[co, k]·input taps (+ bias[co]) for every image n of input[batch, grid.Channels, H, W];
    /// weights is row-major [outChannels, (channels/groups)·KH·KW].
    /// </summary>
    private static void ImplicitConv(PaddedGrid grid, int batch, int groups, int outChannels, float* weights, float* input, float* bias, float* output)
    {
        int inCG = grid.Channels / groups, outCG = outChannels / groups, depth = inCG * grid.KH * grid.KW;
        long packedGroup = CpuGemm.PackedPanelsLength(outCG, depth);
        float* packed = Grow(ref t_packed, groups * packedGroup);
        for (int g = 0; g < groups; g++) CpuGemm.PackAPanels(weights + (long)g * outCG * depth, depth, outCG, depth, packed + g * packedGroup);
        int* offsets = Grow(ref t_offsets, depth);
        grid.FillOffsets(offsets, inCG, grid.Plane);

        int blocks = batch >= CpuParallel.ThreadCount ? 1 : Math.Min(grid.OH, (CpuParallel.ThreadCount + batch - 1) / batch);
        CpuParallel.For(batch * blocks, item =>
        {
            int n = item / blocks, block = item % blocks;
            int oh0 = block * grid.OH / blocks, oh1 = (block + 1) * grid.OH / blocks;
            long planes = (long)grid.Channels * grid.Plane;
            float* padded = Grow(ref t_padded, planes + grid.Slack);
            grid.Pad(input + (long)n * grid.Channels * grid.H * grid.W, padded, grid.Plane);
            new Span<float>(padded + planes, grid.Slack).Clear();

            // Result rows hold the grid columns plus one tile of overhang: a block's last tile may run past the grid.
            int ldc = grid.Columns + CpuGemm.OffsetColumnTile;
            float* result = Grow(ref t_grid, (long)outChannels * ldc);
            int j0 = oh0 * grid.Wp;
            for (int g = 0; g < groups; g++)
                CpuGemm.SgemmOffsetRows(outCG, (oh1 - oh0) * grid.Wp, depth, packed + g * packedGroup,
                    padded + (long)g * inCG * grid.Plane + j0, offsets, result + (long)g * outCG * ldc + j0, ldc);

            for (int co = 0; co < outChannels; co++)
            {
                float* dst = output + (((long)n * outChannels + co) * grid.OH + oh0) * grid.OW;
                float shift = bias == null ? 0f : bias[co];
                for (int oh = oh0; oh < oh1; oh++, dst += grid.OW) CopyRow(result + (long)co * ldc + oh * grid.Wp, dst, grid.OW, shift);
            }
        });
    }

    /// <summary>
    /// dw = the weight gradient of images [n0, n1) (overwritten). The images go in stacked
    /// chunks of about WeightGradChunkFloats, each one dot-product GEMM per group. Single-threaded.
    /// </summary>
    private static void ImplicitWeightGradRange(in ConvShape s, int n0, int n1, float* dy, float* x, float* dw)
    {
        var grid = InputGrid(s);
        int plane = grid.Plane;
        int chunk = Math.Max(1, WeightGradChunkFloats / ((s.InC + s.OutC) * plane));
        for (int n = n0; n < n1; n += chunk)
        {
            int count = Math.Min(chunk, n1 - n);
            // One channel's planes of all `count` images, rounded up to whole cache lines so that every dY row (and
            // x row) starts aligned; the rounding is zeroed like the slack (scratch may hold NaN bit patterns).
            int used = count * plane, stacked = (used + 15) & ~15;
            float* xs = Grow(ref t_padded, s.InC * (long)stacked + grid.Slack);
            float* dys = Grow(ref t_grid, s.OutC * (long)stacked);
            for (int i = 0; i < count; i++)
            {
                grid.Pad(x + (long)(n + i) * s.InC * s.InPlane, xs + (long)i * plane, stacked);
                PadPlanes(dy + (long)(n + i) * s.OutC * s.OutPlane, s.OutC, s.OH, s.OW, 0, 0, grid.Hp, grid.Wp, dys + (long)i * plane, stacked);
            }
            for (int c = 0; c < s.InC; c++) new Span<float>(xs + (long)c * stacked + used, stacked - used).Clear();
            for (int c = 0; c < s.OutC; c++) new Span<float>(dys + (long)c * stacked + used, stacked - used).Clear();
            new Span<float>(xs + s.InC * (long)stacked, grid.Slack).Clear();
            int* offsets = Grow(ref t_offsets, s.ColRows);
            grid.FillOffsets(offsets, s.InCG, stacked);
            float beta = n > n0 ? 1f : 0f;
            for (int g = 0; g < s.Groups; g++)
                CpuGemm.SgemmOffsetRowsT(s.OutCG, s.ColRows, stacked, dys + (long)g * s.OutCG * stacked, stacked,
                    xs + (long)g * s.InCG * stacked, offsets, beta, dw + (long)g * s.OutCG * s.ColRows, s.ColRows);
        }
    }

    /// <summary>Copies src[channels, h, w] to dst[channels, hp, wp] (planes channelStride apart) at row top, column left; zeros elsewhere.</summary>
    private static void PadPlanes(float* src, int channels, int h, int w, int top, int left, int hp, int wp, float* dst, long channelStride)
    {
        int gap = wp - w; // right padding of one row + left padding of the next
        for (int c = 0; c < channels; c++, src += (long)h * w)
        {
            float* plane = dst + c * channelStride;
            new Span<float>(plane, top * wp + left).Clear();
            float* row = plane + top * wp + left;
            for (int r = 0; r < h; r++, row += wp)
            {
                CopyRow(src + (long)r * w, row, w, 0f);
                if (r + 1 < h) for (int i = 0; i < gap; i++) row[w + i] = 0f;
            }
            float* tail = plane + (top + h - 1) * wp + left + w; // right padding of the last row, then the bottom rows
            new Span<float>(tail, (int)(plane + (long)hp * wp - tail)).Clear();
        }
    }

    /// <summary>dst[i] = src[i] + shift for i &lt; count: inline, since the rows are short (a call per row costs more).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void CopyRow(float* src, float* dst, int count, float shift)
    {
        int i = 0;
        var v = Vector256.Create(shift);
        for (; i <= count - 8; i += 8) (Vector256.Load(src + i) + v).Store(dst + i);
        for (; i < count; i++) dst[i] = src[i] + shift;
    }

    /// <summary>The calling thread's scratch in slot, grown on demand: pinned (so the pointer stays valid), 64-byte aligned.</summary>
    private static T* Grow<T>(ref T[]? slot, long length) where T : unmanaged
    {
        int size = checked((int)(Math.Max(1, length) + 64 / sizeof(T)));
        if (slot == null || slot.Length < size) slot = GC.AllocateUninitializedArray<T>(size, pinned: true);
        nint p = (nint)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(slot));
        return (T*)((p + 63) & ~(nint)63);
    }
}
