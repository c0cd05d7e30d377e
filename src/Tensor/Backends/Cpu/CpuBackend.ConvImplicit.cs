// Implicit-GEMM convolution: the float32 path, never writing an im2col matrix, for every kernel larger than 1×1 whose
// transposed padding (K − 1)·D − P is not negative (3×3 pad 1 at any stride, unpadded, dilated, …). Forward and weight
// gradient at any stride; the backward input at stride 1 only (3×3 stride 2 pad 1 runs phase by phase on the same
// GEMM, CpuBackend.ConvPhases.cs; other strides stay on col2im).
//
// Stride 1: images are stacked per channel with their zero padding shared between neighbours: rows Ws = W + GW apart and images
// (H + GH)·Ws apart, with GW = max(PW, (KW − 1)·DW − PW) zero columns (the right padding of a row doubles as the left
// padding of the next) and GH = max(PH, (KH − 1)·DH − PH) zero rows (likewise between images), after a lead of
// PH·Ws + PW zeros; x[h, w] of stacked image i sits at xs[lead + i·(H + GH)·Ws + h·Ws + w]. Outputs are computed on the
// same grid, g = i·(H + GH)·Ws + oh·Ws + ow (OH ≤ H + GH and OW ≤ Ws since P ≤ (K − 1)·D); the other grid points are
// garbage, dropped when the result is copied out. Tap (ki, kj) of channel c then reads xs[off(c, ki, kj) + g] with
// off = c·channelStride + ki·DH·Ws + kj·DW, so row k = (c, ki, kj) of the GEMM's B is the stack at a fixed offset
// (CpuGemm.Offsets.cs):
//   forward          y[co, g] = Σ_k W[co, k] · xs[off(k) + g]   (+ bias[co], added while copying out)
//   backward input   dx = the forward of dY padded by (K − 1)·D − P, with W flipped 180° and in/out channels swapped
//   backward weight  dW[co, k] = Σ_g dYg[co, g] · xs[off(k) + g] over a stack of images, with dY laid on the grid
//                    (zeros at the garbage points), so every term is a dot product of contiguous rows. The zeros of dYg
//                    cancel the reads that cross into a neighbouring image (finite inputs assumed: 0·∞ = NaN).
// Sharing the padding cuts the grid of the 64-channel 8×8 layer from 100 points per image to 81, which is what the
// dot products pay for; the forward stacks the number of images that wastes the least of its GEMM column tiles. When
// the output rows are whole column tiles (OW a multiple of 32) and nothing is added on the way out, the forward runs
// the GEMM one grid row at a time instead, writing each output row in place: no garbage points, no copy-out.
//
// Stride S = (SH, SW) > 1: phase planes. Output (oh, ow), tap (ki, kj) reads padded pixel (SH·oh + ki·DH, SW·ow + kj·DW).
// Split the padded image into its phases: phase (py, px) holds the padded pixels (SH·i + py, SW·j + px), so with
//   ki·DH = SH·qi + py and kj·DW = SW·qj + px   (qi = ⌊ki·DH/SH⌋, py = ki·DH mod SH; likewise qj, px)
// the tap reads pixel (oh + qi, ow + qj) of phase (py, px): a stride-1 read again. Each phase plane is ImageRows × Ws
// with ImageRows = OH + ⌊(KH − 1)·DH/SH⌋ and Ws = OW + ⌊(KW − 1)·DW/SW⌋ (no sharing of padding between images; the
// padded pixels the planes cover but the image lacks are zeros). Per channel the stack holds the phase planes
// phaseStride = count·ImageRows·Ws apart, each with the count images one after another; an axis with one tap reads
// only phase 0 and stores only it. Outputs live on the phase grid g = i·ImageRows·Ws + oh·Ws + ow and
//   off(c, ki, kj) = c·channelStride + ((ki·DH mod SH)·phasesW + kj·DW mod SW)·phaseStride + qi·Ws + qj,
// so the same offset-table GEMMs serve, forward and weight gradient alike (stride 1 is the one-phase case with
// shared padding). Valid outputs only read their own image's plane, every read stays inside the stack plus Slack.
//
// Threads: forward and backward input run (stack of images, block of output rows) items in parallel — more than one
// block per stack only when there are fewer stacks than threads; backward weight shares the images out by worker
// (CpuBackend.Conv.cs ConvBackwardWeight).
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Standalone.Backends.Cpu;

public sealed unsafe partial class CpuBackend
{
    [ThreadStatic] private static float[]? t_padded, t_grid, t_weights, t_packed;
    [ThreadStatic] private static int[]? t_offsets;

    /// <summary>Floats per stacked chunk of (input + output-gradient) planes in the weight gradient: 512 KiB, half an L2
    /// (256 KiB to 4 MiB measured within noise of each other on the ResNet-20 shapes).</summary>
    private const int WeightGradChunkFloats = 1 << 17;

    /// <summary>Most images stacked into one forward GEMM.</summary>
    private const int MaxStackedImages = 16;

    /// <summary>
    /// A convolution of Channels planes of H×W padded by PadH×PadW, taps KH×KW with dilation DH×DW and stride SH×SW, seen
    /// on the grid of the header: the shared-padding stack for stride 1, the phase planes otherwise.
    /// </summary>
    private readonly struct PaddedGrid(int channels, int h, int w, int padH, int padW, int kh, int kw, int dh, int dw, int sh = 1, int sw = 1)
    {
        public readonly int Channels = channels, H = h, W = w, PadH = padH, PadW = padW, KH = kh, KW = kw, DH = dh, DW = dw, SH = sh, SW = sw;
        /// <summary>Whether the input is split into phase planes (a stride above 1 on either axis).</summary>
        public bool Strided => SH > 1 || SW > 1;
        public int OH => (H + 2 * PadH - (KH - 1) * DH - 1) / SH + 1;
        public int OW => (W + 2 * PadW - (KW - 1) * DW - 1) / SW + 1;
        public int RowStride => Strided ? OW + (KW - 1) * DW / SW : W + Math.Max(PadW, (KW - 1) * DW - PadW);
        public int ImageRows => Strided ? OH + (KH - 1) * DH / SH : H + Math.Max(PadH, (KH - 1) * DH - PadH);
        public int ImageStride => ImageRows * RowStride;
        public int Lead => Strided ? 0 : PadH * RowStride + PadW;
        /// <summary>Phase planes per axis: a 1-tap axis reads only phase 0.</summary>
        public int PhasesH => KH == 1 ? 1 : SH;
        public int PhasesW => KW == 1 ? 1 : SW;
        /// <summary>Floats of one phase plane of a stack of count images.</summary>
        public int PhaseLength(int count) => Lead + count * ImageStride;
        /// <summary>Floats of one channel (all its phase planes) of a stack of count images.</summary>
        public int ChannelLength(int count) => PhasesH * PhasesW * PhaseLength(count);
        /// <summary>Grid rows holding the outputs of count stacked images (the last image's garbage rows left off).</summary>
        public int StackedRows(int count) => (count - 1) * ImageRows + OH;
        /// <summary>Readable floats needed past the last channel: a column tile's overhang plus the largest tap offset.</summary>
        public int Slack => CpuGemm.OffsetColumnTile + (KH - 1) * DH / SH * RowStride + (KW - 1) * DW / SW;

        /// <summary>
        /// offsets[(c·KH + ki)·KW + kj] = c·channelStride + phase·phaseStride + ⌊ki·DH/SH⌋·RowStride + ⌊kj·DW/SW⌋ for
        /// c &lt; channels, phase = (ki·DH mod SH)·PhasesW + kj·DW mod SW (always 0 for stride 1).
        /// </summary>
        public void FillOffsets(int* offsets, int channels, long channelStride, long phaseStride)
        {
            for (int c = 0, k = 0; c < channels; c++)
                for (int ki = 0; ki < KH; ki++)
                    for (int kj = 0; kj < KW; kj++)
                    {
                        int phase = ki * DH % SH * PhasesW + kj * DW % SW;
                        offsets[k++] = checked((int)(c * channelStride + phase * phaseStride + ki * DH / SH * RowStride + kj * DW / SW));
                    }
        }

        /// <summary>
        /// Stacks images[count, Channels, H, W] into dst: ChannelLength(count) floats per channel, channelStride apart, and
        /// (strided) phase planes phaseStride apart within a channel.
        /// </summary>
        public void Stack(float* images, int count, float* dst, long channelStride, long phaseStride)
        {
            if (Strided && SplitsColumnPairs)
            {
                for (int c = 0; c < Channels; c++)
                    for (int i = 0; i < count; i++)
                        for (int py = 0; py < PhasesH; py++)
                            GatherColumnPhases(images + ((long)i * Channels + c) * H * W, py,
                                dst + c * channelStride + py * PhasesW * phaseStride + (long)i * ImageStride, phaseStride);
                return;
            }
            if (Strided)
            {
                for (int c = 0; c < Channels; c++)
                    for (int i = 0; i < count; i++)
                        for (int py = 0; py < PhasesH; py++)
                            for (int px = 0; px < PhasesW; px++)
                                GatherPhase(images + ((long)i * Channels + c) * H * W, py, px,
                                    dst + c * channelStride + (py * PhasesW + px) * phaseStride + (long)i * ImageStride);
                return;
            }
            for (int c = 0; c < Channels; c++) new Span<float>(dst + c * channelStride, Lead).Clear();
            for (int i = 0; i < count; i++)
                PadPlanes(images + (long)i * Channels * H * W, Channels, H, W, ImageRows, RowStride, dst + Lead + (long)i * ImageStride, channelStride);
        }

        /// <summary>
        /// Column stride 2 over 3-wide taps padded by 1 on an even width (ResNet's downsampling): column phase 0 of a row is
        /// [0, x1, x3, …, x(W−1)] and phase 1 [x0, x2, …, x(W−2), 0], both from one pass over the row (two loads, two
        /// permutes per 32 floats) instead of a GatherPhase each. ResNet-20, batch 128, interleaved: 3×3 stride 2 16 → 32
        /// at 32×32 forward 1.036 → 0.894 ms, backward weight 1.117 → 0.953; 32 → 64 at 16×16 1.102 → 0.977 and 1.046 → 0.906.
        /// </summary>
        private bool SplitsColumnPairs => SW == 2 && KW == 3 && DW == 1 && PadW == 1 && W % 2 == 0 && Avx512F.IsSupported;

        /// <summary>
        /// Row phase py of a plane, both column phases at once (SplitsColumnPairs): dst[(px·phaseStride) + i·RowStride + j]
        /// = plane[SH·i + py − PadH, 2j + px − 1] (0 outside the plane) for px &lt; 2, i &lt; ImageRows, j &lt; RowStride.
        /// </summary>
        private void GatherColumnPhases(float* plane, int py, float* dst, long phaseStride)
        {
            int rowStride = RowStride, half = W / 2;
            var (rowLo, rowHi) = ConvTap.ValidRange(ImageRows, H, SH, py - PadH);
            float* odd = dst, even = dst + phaseStride;
            new Span<float>(odd, rowLo * rowStride).Clear();
            new Span<float>(even, rowLo * rowStride).Clear();
            for (int i = rowLo; i < rowHi; i++)
            {
                float* row0 = odd + i * rowStride, row1 = even + i * rowStride;
                row0[0] = 0f;
                SplitRowStride2(plane + (long)(SH * i + py - PadH) * W, W, row1, row0 + 1);
                for (int j = half; j < rowStride; j++) row1[j] = 0f;
                for (int j = half + 1; j < rowStride; j++) row0[j] = 0f;
            }
            new Span<float>(odd + rowHi * rowStride, (ImageRows - rowHi) * rowStride).Clear();
            new Span<float>(even + rowHi * rowStride, (ImageRows - rowHi) * rowStride).Clear();
        }

        /// <summary>dst[i·RowStride + j] = plane[SH·i + py − PadH, SW·j + px − PadW] (0 outside the plane) for i &lt; ImageRows, j &lt; RowStride.</summary>
        private void GatherPhase(float* plane, int py, int px, float* dst)
        {
            int rowStride = RowStride, colShift = px - PadW;
            var (rowLo, rowHi) = ConvTap.ValidRange(ImageRows, H, SH, py - PadH);
            var (colLo, colHi) = ConvTap.ValidRange(rowStride, W, SW, colShift);
            if (SW == 2 && colHi - colLo < 9 && Avx512F.IsSupported)
            {
                // Short rows (8 outputs or fewer, too short for GatherStride2's vectors): whole rows, padding included,
                // through masked loads.
                new Span<float>(dst, rowLo * rowStride).Clear();
                for (int i = rowLo; i < rowHi; i++)
                    GatherRowStride2(plane + (long)(SH * i + py - PadH) * W, colShift, W, dst + i * rowStride, rowStride);
                new Span<float>(dst + rowHi * rowStride, (ImageRows - rowHi) * rowStride).Clear();
                return;
            }
            new Span<float>(dst, rowLo * rowStride).Clear();
            for (int i = rowLo; i < rowHi; i++)
            {
                float* src = plane + (long)(SH * i + py - PadH) * W + colShift, row = dst + i * rowStride;
                for (int j = 0; j < colLo; j++) row[j] = 0f;
                if (SW == 2) GatherStride2(src + 2 * colLo, row + colLo, colHi - colLo);
                else for (int j = colLo; j < colHi; j++) row[j] = src[SW * j];
                for (int j = colHi; j < rowStride; j++) row[j] = 0f;
            }
            new Span<float>(dst + rowHi * rowStride, (ImageRows - rowHi) * rowStride).Clear();
        }
    }

    /// <summary>evens[j] = src[2j] and odds[j] = src[2j + 1] for j &lt; width / 2 (width even): two loads and two permutes per 32 floats.</summary>
    private static void SplitRowStride2(float* src, int width, float* evens, float* odds)
    {
        var evenLanes = Vector512.Create(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
        var oddLanes = Vector512.Create(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);
        int b = 0;
        for (; b <= width - 32; b += 32)
        {
            Vector512<float> lo = Vector512.Load(src + b), hi = Vector512.Load(src + b + 16);
            Avx512F.PermuteVar16x32x2(lo, evenLanes, hi).Store(evens + b / 2);
            Avx512F.PermuteVar16x32x2(lo, oddLanes, hi).Store(odds + b / 2);
        }
        if (b < width)
        {
            // 2–30 floats left: masked loads and stores touch nothing past the row or past the width / 2 outputs.
            var lanes = Vector512.Create(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
            int rest = width - b;
            var lo = Avx512F.MaskLoad(src + b, Vector512.LessThan(lanes, Vector512.Create(rest)).AsSingle(), Vector512<float>.Zero);
            var hi = Avx512F.MaskLoad(src + b + 16, Vector512.LessThan(lanes, Vector512.Create(rest - 16)).AsSingle(), Vector512<float>.Zero);
            var store = Vector512.LessThan(lanes, Vector512.Create(rest / 2)).AsSingle();
            Avx512F.MaskStore(evens + b / 2, store, Avx512F.PermuteVar16x32x2(lo, evenLanes, hi));
            Avx512F.MaskStore(odds + b / 2, store, Avx512F.PermuteVar16x32x2(lo, oddLanes, hi));
        }
    }

    /// <summary>
    /// row[j] = src[2j + shift] where 0 ≤ 2j + shift &lt; width, else 0, for j &lt; count: 16 outputs from two masked loads
    /// (nothing outside the source row is read) and one permute, the last block through a masked store.
    /// </summary>
    private static void GatherRowStride2(float* src, int shift, int width, float* row, int count)
    {
        var lanes = Vector512.Create(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
        var evens = Vector512.Create(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
        var end = Vector512.Create(width);
        for (int j = 0; j < count; j += 16)
        {
            int w0 = 2 * j + shift;
            var first = lanes + Vector512.Create(w0);
            var second = first + Vector512.Create(16);
            var lo = Avx512F.MaskLoad(src + w0, (Vector512.GreaterThanOrEqual(first, Vector512<int>.Zero) & Vector512.LessThan(first, end)).AsSingle(), Vector512<float>.Zero);
            var hi = Avx512F.MaskLoad(src + w0 + 16, (Vector512.GreaterThanOrEqual(second, Vector512<int>.Zero) & Vector512.LessThan(second, end)).AsSingle(), Vector512<float>.Zero);
            var v = Avx512F.PermuteVar16x32x2(lo, evens, hi);
            if (count - j >= 16) v.Store(row + j);
            else Avx512F.MaskStore(row + j, Vector512.LessThan(lanes, Vector512.Create(count - j)).AsSingle(), v);
        }
    }

    /// <summary>
    /// Padding at most (K − 1)·D (a non-negative transposed padding) and more than one tap: the shapes whose forward and
    /// weight gradient the implicit path computes (float32 only). A 1×1 kernel is left to im2col, whose col is then the
    /// (subsampled) image itself, with nothing repeated to save: the phase planes measured no faster there. The backward
    /// input also needs stride 1 (UsesImplicitBackwardInput).
    /// </summary>
    private static bool UsesImplicitGemm<T>(in ConvShape s) =>
        typeof(T) == typeof(float) && (s.KH > 1 || s.KW > 1)
        && (s.KH - 1) * s.P.DilationH >= s.P.PadH && (s.KW - 1) * s.P.DilationW >= s.P.PadW;

    /// <summary>The backward input is a stride-1 forward of dY only when the forward has stride 1.</summary>
    private static bool UsesImplicitBackwardInput<T>(in ConvShape s) => UsesImplicitGemm<T>(s) && s.P.StrideH == 1 && s.P.StrideW == 1;

    private static PaddedGrid InputGrid(in ConvShape s) =>
        new(s.InC, s.H, s.W, s.P.PadH, s.P.PadW, s.KH, s.KW, s.P.DilationH, s.P.DilationW, s.P.StrideH, s.P.StrideW);

    private static void ImplicitForward(in ConvShape s, float* x, float* w, float* bias, float* y, bool relu, float* residual) =>
        ImplicitConv(InputGrid(s), s.Batch, s.Groups, s.OutC, w, x, bias, y, relu, residual);

    /// <summary>Whether ImplicitConv runs its output rows through the masked tile (see there), whose epilogue can add a residual.</summary>
    private static bool ImplicitMaskedRows(in PaddedGrid grid, int groups, bool hasBias) =>
        hasBias && !grid.Strided && CpuGemm.HasMaskedTile && grid.OW % CpuGemm.MaskedTileColumns == 0 && grid.Channels / groups >= 8;

    /// <summary>dx = forward conv of dY (padded by (K − 1)·D − P) with W'[ci, (co, ki, kj)] = W[co, ci, KH−1−ki, KW−1−kj] per group.</summary>
    private static void ImplicitBackwardInput(in ConvShape s, float* dy, float* w, float* dx)
    {
        float* flipped = FlippedWeights(s, w);
        var grid = new PaddedGrid(s.OutC, s.OH, s.OW, (s.KH - 1) * s.P.DilationH - s.P.PadH, (s.KW - 1) * s.P.DilationW - s.P.PadW,
            s.KH, s.KW, s.P.DilationH, s.P.DilationW);
        ImplicitConv(grid, s.Batch, s.Groups, s.InC, flipped, dy, null, dx);
    }

    /// <summary>
    /// W'[ci, (co, ki, kj)] = W[co, ci, KH−1−ki, KW−1−kj] per group, in the calling thread's scratch: the weights of the
    /// forward convolution that the backward input is (implicit and direct paths).
    /// </summary>
    private static float* FlippedWeights(in ConvShape s, float* w)
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
        return flipped;
    }

    /// <summary>
    /// output[n, co] = Σ_k weights[co, k]·input taps (+ bias[co]) for every image n of input[batch, grid.Channels, H, W],
    /// through max(0, ·) when relu; weights is row-major [outChannels, (channels/groups)·KH·KW].
    /// </summary>
    private static void ImplicitConv(PaddedGrid grid, int batch, int groups, int outChannels, float* weights, float* input, float* bias, float* output,
        bool relu = false, float* residual = null)
    {
        int inCG = grid.Channels / groups, outCG = outChannels / groups, taps = grid.KH * grid.KW, depth = inCG * taps;
        // Output rows of whole column tiles, with nothing to add on the way out (training: no bias, no fused ReLU): the
        // GEMM runs row by row of the grid and writes each output row in place — no result grid, no copy-out, no
        // products over the grid's gap columns (16 → 16 at 32×32: forward 1.73 → 1.55 ms, backward input 1.75 → 1.60;
        // the stem, 1 → 16: 0.19 → 0.16 ms). With a bias (inference's folded batch norm), whole 32-wide output rows of 8
        // or more input channels go through the masked tile instead (CpuGemm.SgemmMaskedTile, all lanes kept: the grid
        // is padded), whose epilogue adds the bias and applies the ReLU in registers, again straight into the output:
        // 16 → 16 at 32×32, batch 256, with bias and ReLU 3.36 → 3.10–3.17 ms against the grid and copy-out (interleaved,
        // five runs; a bias and ReLU applied to each row after SgemmOffsetRows had measured slower, 3.68 → 3.79). Without
        // a bias the rows stay on SgemmOffsetRows, 1–2 % faster in training than the masked tile; the masked tile sums
        // tap-major, so either way a convolution gives the same bits with and without its fused ReLU. Only the masked rows
        // take a residual (added in their epilogue; the caller adds it otherwise).
        bool maskedRows = ImplicitMaskedRows(grid, groups, bias != null);
        if (residual != null && !maskedRows) throw new InvalidOperationException("implicit convolution: a residual needs the masked rows");
        bool rowsInPlace = bias == null && !relu && grid.OW % CpuGemm.OffsetColumnTile == 0;
        long packedGroup = maskedRows ? CpuGemm.PackedA8Length(outCG, depth) : CpuGemm.PackedPanelsLength(outCG, depth);
        float* packed = Grow(ref t_packed, groups * packedGroup);
        for (int g = 0; g < groups; g++)
        {
            if (maskedRows) PackTapMajor(weights + (long)g * outCG * depth, outCG, inCG, taps, packed + g * packedGroup);
            else CpuGemm.PackAPanels(weights + (long)g * outCG * depth, depth, outCG, depth, packed + g * packedGroup);
        }
        var allLanes = maskedRows ? AllLanes(taps) : null;

        int count = StackedImages(grid, batch), stacks = (batch + count - 1) / count;
        long channelStride = grid.ChannelLength(count), phaseStride = grid.PhaseLength(count);
        int* offsets = Grow(ref t_offsets, depth);
        grid.FillOffsets(offsets, inCG, channelStride, phaseStride);
        int rowsMax = grid.StackedRows(count), plane = grid.OH * grid.OW;
        int blocks = stacks >= CpuParallel.ThreadCount ? 1 : Math.Min(rowsMax, (CpuParallel.ThreadCount + stacks - 1) / stacks);
        CpuParallel.For(stacks * blocks, item =>
        {
            int n0 = item / blocks * count, images = Math.Min(count, batch - n0), rows = grid.StackedRows(images);
            int r0 = item % blocks * rows / blocks, r1 = (item % blocks + 1) * rows / blocks;
            float* stacked = Grow(ref t_padded, grid.Channels * channelStride + grid.Slack);
            grid.Stack(input + (long)n0 * grid.Channels * grid.H * grid.W, images, stacked, channelStride, phaseStride);
            new Span<float>(stacked + grid.Channels * channelStride, grid.Slack).Clear();

            if (maskedRows)
            {
                for (int r = r0; r < r1; r++)
                {
                    int i = r / grid.ImageRows, oh = r % grid.ImageRows;
                    if (oh >= grid.OH) continue; // the padding rows between stacked images
                    for (int g = 0; g < groups; g++)
                        for (int col = 0; col < grid.OW; col += CpuGemm.MaskedTileColumns)
                        {
                            long at = ((long)(n0 + i) * outChannels + g * outCG) * plane + oh * grid.OW + col;
                            CpuGemm.SgemmMaskedTile(outCG, inCG, taps, packed + g * packedGroup,
                                stacked + g * inCG * channelStride + r * grid.RowStride + col, (nint)channelStride, offsets, allLanes,
                                output + at, plane, bias + g * outCG, relu, residual == null ? null : residual + at);
                        }
                }
                return;
            }
            if (rowsInPlace)
            {
                for (int r = r0; r < r1; r++)
                {
                    int i = r / grid.ImageRows, oh = r % grid.ImageRows;
                    if (oh >= grid.OH) continue; // the padding rows between stacked images
                    for (int g = 0; g < groups; g++)
                        CpuGemm.SgemmOffsetRows(outCG, grid.OW, depth, packed + g * packedGroup, stacked + g * inCG * channelStride + r * grid.RowStride,
                            offsets, output + ((long)(n0 + i) * outChannels + g * outCG) * plane + oh * grid.OW, plane);
                }
                return;
            }
            // Result rows hold the grid columns plus one tile of overhang: a block's last tile may run past the grid.
            int ldc = rowsMax * grid.RowStride + CpuGemm.OffsetColumnTile;
            float* result = Grow(ref t_grid, (long)outChannels * ldc);
            int j0 = r0 * grid.RowStride;
            for (int g = 0; g < groups; g++)
                CpuGemm.SgemmOffsetRows(outCG, (r1 - r0) * grid.RowStride, depth, packed + g * packedGroup,
                    stacked + g * inCG * channelStride + j0, offsets, result + (long)g * outCG * ldc + j0, ldc);
            CopyOutRows(result, ldc, r0, r1, grid, outChannels, n0, bias, output, relu);
        });
    }

    /// <summary>
    /// Copies grid rows [ra, rb) of every output channel from the result grid (rows ldc apart per channel) to the images
    /// from n0 on of output, adding bias[co] and, when relu, through max(0, ·).
    /// </summary>
    private static void CopyOutRows(float* result, int ldc, int ra, int rb, in PaddedGrid grid, int outChannels, int n0, float* bias, float* output,
        bool relu)
    {
        int imageRows = grid.ImageRows, rowStride = grid.RowStride, oh1 = grid.OH, ow1 = grid.OW;
        // Grid row r is row r mod ImageRows of stacked image r / ImageRows; one image's rows at a time, channel by channel.
        for (int r = ra; r < rb;)
        {
            int i = r / imageRows, oh0 = r % imageRows, span = Math.Min(imageRows - oh0, rb - r), rows = Math.Min(oh0 + span, oh1) - oh0;
            for (int co = 0; rows > 0 && co < outChannels; co++)
            {
                float shift = bias == null ? 0f : bias[co];
                float* src = result + (long)co * ldc + (long)r * rowStride;
                float* dst = output + (((long)(n0 + i) * outChannels + co) * oh1 + oh0) * ow1;
                if (relu) CopyRows<ReluShift>(src, rowStride, dst, ow1, rows, shift);
                else CopyRows<Shift>(src, rowStride, dst, ow1, rows, shift);
            }
            r += span;
        }
    }

    private interface IRowOp { static abstract Vector512<float> Apply(Vector512<float> x, Vector512<float> shift); }
    private readonly struct Shift : IRowOp
    {
        public static Vector512<float> Apply(Vector512<float> x, Vector512<float> shift) => x + shift;
    }
    private readonly struct ReluShift : IRowOp
    {
        // max(0, t) as the Relu kernel: NaN becomes 0.
        public static Vector512<float> Apply(Vector512<float> x, Vector512<float> shift)
        {
            var t = x + shift;
            return Vector512.ConditionalSelect(Vector512.GreaterThan(t, Vector512<float>.Zero), t, Vector512<float>.Zero);
        }
    }

    /// <summary>dst[r·width + j] = op(src[r·srcStride + j] + shift) for r &lt; rows, j &lt; width: dst is contiguous.</summary>
    private static void CopyRows<TOp>(float* src, int srcStride, float* dst, int width, int rows, float shift) where TOp : struct, IRowOp
    {
        var v = Vector512.Create(shift);
        float* tail = stackalloc float[16];
        if (width == 8)
        {
            for (int r = 0; r < rows; r++, src += srcStride, dst += 8)
                TOp.Apply(Vector256.Load(src).ToVector512Unsafe(), v).GetLower().Store(dst);
            return;
        }
        for (int r = 0; r < rows; r++, src += srcStride, dst += width)
        {
            int j = 0;
            for (; j <= width - 16; j += 16) TOp.Apply(Vector512.Load(src + j), v).Store(dst + j);
            if (j < width) // the result grid is readable a tile past every row: load whole, store the tail
            {
                TOp.Apply(Vector512.Load(src + j), v).Store(tail);
                for (int k = 0; j < width; j++, k++) dst[j] = tail[k];
            }
        }
    }

    /// <summary>
    /// Images per forward stack: the count up to MaxStackedImages with the fewest column tiles on the busiest thread
    /// (ties to the smaller stack); 1 when there are fewer images than threads, which then share an image's rows.
    /// </summary>
    private static int StackedImages(in PaddedGrid grid, int batch)
    {
        int threads = CpuParallel.ThreadCount, tile = CpuGemm.OffsetColumnTile, best = 1;
        long bestCost = long.MaxValue;
        for (int count = 1; count <= Math.Min(MaxStackedImages, batch / threads); count++)
        {
            long tiles = ((long)grid.StackedRows(count) * grid.RowStride + tile - 1) / tile;
            long cost = ((batch + count - 1) / count + threads - 1) / threads * tiles;
            if (cost < bestCost) (best, bestCost) = (count, cost);
        }
        return best;
    }

    /// <summary>
    /// dw = the weight gradient of images [n0, n1) (overwritten). The images go in stacks of about
    /// WeightGradChunkFloats, each one dot-product GEMM per group — or, for one group of a multiple of 32 output
    /// channels, outer-product tiles over the output points (OuterWeightGradChunk: 64 → 64 at 8×8 −16 to −19 %,
    /// 32 → 64 stride 2 −12 to −15 %, 32 → 32 at 16×16 −4 to −6 %, ~1.8 ms per ResNet-20 training step). Single-threaded.
    /// </summary>
    private static void ImplicitWeightGradRange(in ConvShape s, int n0, int n1, float* dy, float* x, float* dw)
    {
        var grid = InputGrid(s);
        int chunk = Math.Max(1, WeightGradChunkFloats / ((s.InC * grid.PhasesH * grid.PhasesW + s.OutC) * grid.ImageStride));
        int tapsPerTile = s.OutC % 64 == 0 ? 6 : 12;
        bool outer = Avx512F.IsSupported && s.Groups == 1 && s.OutC % 32 == 0 && s.ColRows % tapsPerTile == 0;
        float* dwt = outer ? Grow(ref t_dwt, (long)s.ColRows * s.OutC) : null;
        if (outer) new Span<float>(dwt, s.ColRows * s.OutC).Clear();
        for (int n = n0; n < n1; n += chunk)
        {
            int count = Math.Min(chunk, n1 - n), used = count * grid.ImageStride, length = grid.ChannelLength(count);
            // Channel strides rounded up to whole cache lines so that every dY row starts aligned; everything the
            // products read is written (scratch may hold NaN bit patterns): the stack, the rounding, the slack.
            int xStride = (length + 15) & ~15;
            float* xs = Grow(ref t_padded, s.InC * (long)xStride + grid.Slack);
            grid.Stack(x + (long)n * s.InC * s.InPlane, count, xs, xStride, grid.PhaseLength(count));
            for (int c = 0; c < s.InC; c++) new Span<float>(xs + (long)c * xStride + length, xStride - length).Clear();
            new Span<float>(xs + s.InC * (long)xStride, grid.Slack).Clear();
            int* offsets = Grow(ref t_offsets, s.ColRows);
            grid.FillOffsets(offsets, s.InCG, xStride, grid.PhaseLength(count));
            if (outer)
            {
                OuterWeightGradChunk(s, grid, dy + (long)n * s.OutC * s.OutPlane, count, xs, offsets, dwt, tapsPerTile);
                continue;
            }
            int dyStride = (used + 15) & ~15;
            float* dys = Grow(ref t_grid, s.OutC * (long)dyStride);
            for (int i = 0; i < count; i++)
                PadPlanes(dy + (long)(n + i) * s.OutC * s.OutPlane, s.OutC, s.OH, s.OW, grid.ImageRows, grid.RowStride,
                    dys + (long)i * grid.ImageStride, dyStride);
            for (int c = 0; c < s.OutC; c++) new Span<float>(dys + (long)c * dyStride + used, dyStride - used).Clear();
            float beta = n > n0 ? 1f : 0f;
            for (int g = 0; g < s.Groups; g++)
                CpuGemm.SgemmOffsetRowsT(s.OutCG, s.ColRows, dyStride, dys + (long)g * s.OutCG * dyStride, dyStride,
                    xs + (long)g * s.InCG * xStride, offsets, beta, dw + (long)g * s.OutCG * s.ColRows, s.ColRows);
        }
        if (outer)
            for (int oc = 0; oc < s.OutC; oc++)
                for (int k = 0; k < s.ColRows; k++)
                    dw[(long)oc * s.ColRows + k] = dwt[(long)k * s.OutC + oc];
    }

    [ThreadStatic] private static float[]? t_dwt;
    [ThreadStatic] private static int[]? t_pointMap;

    /// <summary>Grid points per block of the outer-product weight gradient: dYᵀ's block (points × OutC floats) stays in L1.</summary>
    private const int OuterGridBlock = 128;

    /// <summary>
    /// dwt[k, oc] += the weight gradient of count images (dy at the first; x already stacked in xs, tap offsets in
    /// offsets), outer-product style: dYᵀ gathered point-major over the output points only (the channels of a point
    /// contiguous), then CpuGemm.Outer6x64 / Outer12x32 tiles over blocks of those points.
    /// </summary>
    private static void OuterWeightGradChunk(in ConvShape s, in PaddedGrid grid, float* dy, int count, float* xs, int* offsets, float* dwt, int tapsPerTile)
    {
        // dYᵀ of the output points only (no gap points), and where each sits on the grid.
        int outC = s.OutC, plane = s.OutPlane, oh1 = s.OH, ow1 = s.OW, rowStride = grid.RowStride, points = count * plane;
        float* dyt = Grow(ref t_grid, (long)points * outC);
        int* map = Grow(ref t_pointMap, points);
        var channels = Vector256.Create(0, 1, 2, 3, 4, 5, 6, 7) * plane;
        for (int i = 0, g = 0; i < count; i++)
        {
            float* image = dy + (long)i * outC * plane;
            for (int r = 0; r < oh1; r++)
                for (int col = 0; col < ow1; col++, g++)
                    map[g] = i * grid.ImageStride + r * rowStride + col;
            float* imagePoints = dyt + (long)i * plane * outC;
            int p0 = 0;
            // 8 points × 8 channels at a time through an in-register transpose (the gathers it replaced cost 6–12 % of
            // these weight gradients); a plane's last points, if not a multiple of 8, one gather per 8 channels.
            for (; p0 <= plane - 8; p0 += 8)
                for (int c0 = 0; c0 < outC; c0 += 8)
                    Transpose8x8(image + (long)c0 * plane + p0, plane, imagePoints + (long)p0 * outC + c0, outC);
            for (; p0 < plane; p0++)
                for (int c0 = 0; c0 < outC; c0 += 8)
                    Avx2.GatherVector256(image + p0 + (long)c0 * plane, channels, 4).Store(imagePoints + (long)p0 * outC + c0);
        }

        int tile = tapsPerTile == 6 ? 64 : 32;
        for (int g0 = 0; g0 < points; g0 += OuterGridBlock)
        {
            int block = Math.Min(OuterGridBlock, points - g0);
            for (int oc0 = 0; oc0 < outC; oc0 += tile)
                for (int k0 = 0; k0 < s.ColRows; k0 += tapsPerTile)
                {
                    float* b = dyt + (long)g0 * outC + oc0, c = dwt + (long)k0 * outC + oc0;
                    if (tile == 64) CpuGemm.Outer6x64(block, b, outC, xs, offsets + k0, map + g0, c, outC);
                    else CpuGemm.Outer12x32(block, b, outC, xs, offsets + k0, map + g0, c, outC);
                }
        }
    }

    /// <summary>dst[j·ldd + r] = src[r·lds + j] for r, j &lt; 8: an 8×8 block transposed in registers (unpacks, shuffles, lane swaps).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Transpose8x8(float* src, nint lds, float* dst, nint ldd)
    {
        Vector256<float> r0 = Vector256.Load(src), r1 = Vector256.Load(src + lds), r2 = Vector256.Load(src + 2 * lds), r3 = Vector256.Load(src + 3 * lds);
        Vector256<float> r4 = Vector256.Load(src + 4 * lds), r5 = Vector256.Load(src + 5 * lds), r6 = Vector256.Load(src + 6 * lds), r7 = Vector256.Load(src + 7 * lds);
        Vector256<float> t0 = Avx.UnpackLow(r0, r1), t1 = Avx.UnpackHigh(r0, r1), t2 = Avx.UnpackLow(r2, r3), t3 = Avx.UnpackHigh(r2, r3);
        Vector256<float> t4 = Avx.UnpackLow(r4, r5), t5 = Avx.UnpackHigh(r4, r5), t6 = Avx.UnpackLow(r6, r7), t7 = Avx.UnpackHigh(r6, r7);
        Vector256<float> u0 = Avx.Shuffle(t0, t2, 0x44), u1 = Avx.Shuffle(t0, t2, 0xEE), u2 = Avx.Shuffle(t1, t3, 0x44), u3 = Avx.Shuffle(t1, t3, 0xEE);
        Vector256<float> u4 = Avx.Shuffle(t4, t6, 0x44), u5 = Avx.Shuffle(t4, t6, 0xEE), u6 = Avx.Shuffle(t5, t7, 0x44), u7 = Avx.Shuffle(t5, t7, 0xEE);
        Avx.Permute2x128(u0, u4, 0x20).Store(dst);
        Avx.Permute2x128(u1, u5, 0x20).Store(dst + ldd);
        Avx.Permute2x128(u2, u6, 0x20).Store(dst + 2 * ldd);
        Avx.Permute2x128(u3, u7, 0x20).Store(dst + 3 * ldd);
        Avx.Permute2x128(u0, u4, 0x31).Store(dst + 4 * ldd);
        Avx.Permute2x128(u1, u5, 0x31).Store(dst + 5 * ldd);
        Avx.Permute2x128(u2, u6, 0x31).Store(dst + 6 * ldd);
        Avx.Permute2x128(u3, u7, 0x31).Store(dst + 7 * ldd);
    }

    /// <summary>Copies src[channels, h, w] to the top left of dst[channels, hp, wp] (planes channelStride apart); zeros elsewhere.</summary>
    private static void PadPlanes(float* src, int channels, int h, int w, int hp, int wp, float* dst, long channelStride)
    {
        int gap = wp - w;
        for (int c = 0; c < channels; c++, src += (long)h * w)
        {
            float* row = dst + c * channelStride;
            for (int r = 0; r < h; r++, row += wp)
            {
                CopyRow(src + (long)r * w, row, w, 0f);
                if (r + 1 < h) for (int i = 0; i < gap; i++) row[w + i] = 0f;
            }
            float* tail = row - wp + w; // right padding of the last row, then the bottom rows
            new Span<float>(tail, (int)(dst + c * channelStride + (long)hp * wp - tail)).Clear();
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

    /// <summary>Requests the cache lines of floats [p, p + length) into L2.</summary>
    private static void Prefetch(float* p, long length)
    {
        byte* bytes = (byte*)p;
        for (long offset = 0, end = length * sizeof(float); offset < end; offset += 64) Sse.Prefetch1(bytes + offset);
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
