// The backward input of a 3×3, stride-2, padding-1 convolution (ResNet's downsampling), split by output phase instead
// of going through col2im. Pixel (2u + a, 2v + b) of dx receives the taps (ki, kj) with ki ≡ a + 1 and kj ≡ b + 1
// (mod 2), reading dy at (u + (a + 1 − ki)/2, v + (b + 1 − kj)/2):
//   phase (0, 0): tap (1, 1)                      at offsets (0, 0)
//   phase (0, 1): taps (1, 0), (1, 2)             at (0, 1), (0, 0)
//   phase (1, 0): taps (0, 1), (2, 1)             at (1, 0), (0, 0)
//   phase (1, 1): taps (0, 0), (0, 2), (2, 0), (2, 2)  at (1, 1), (1, 0), (0, 1), (0, 0)
// so each phase is a stride-1 correlation of dy with 1, 2 or 4 taps at offsets 0 and 1, zero past dy's last row and
// column: dy is stacked as a stride-1 grid with one zero row below and one zero column right of every image (the
// implicit-GEMM layout of CpuBackend.ConvImplicit.cs, offsets through the same GEMM). Every product the GEMMs form is
// one that col2im would add (no zero taps), and nothing is scattered: the two column phases of a row are interleaved
// as they are copied out. Where dY's plane splits into 32-pixel tiles (16×16, 8×8) each phase instead runs as a masked
// direct convolution over the unpadded dY (DirectPhaseBackwardInput), the past-the-edge taps masked, into phase planes
// that are then interleaved: no stacked grid and none of its gap points.
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Standalone.Backends.Cpu;

public sealed unsafe partial class CpuBackend
{
    [ThreadStatic] private static float[]? t_phaseGrid;

    /// <summary>Whether the backward input runs phase by phase (3×3, stride 2, padding 1, no dilation; AVX-512 for the interleave).</summary>
    private static bool UsesPhaseBackwardInput<T>(in ConvShape s) =>
        typeof(T) == typeof(float) && Avx512F.IsSupported && s.KH == 3 && s.KW == 3 && s.P.StrideH == 2 && s.P.StrideW == 2
        && s.P.PadH == 1 && s.P.PadW == 1 && s.P.DilationH == 1 && s.P.DilationW == 1;

    private static readonly (int K, int Offset)[] EvenPhaseTaps = [(1, 0)], OddPhaseTaps = [(0, 1), (2, 0)];

    /// <summary>The taps of phase a on one axis: kernel index and dy offset.</summary>
    private static (int K, int Offset)[] PhaseTaps(int a) => a == 0 ? EvenPhaseTaps : OddPhaseTaps;

    private static void PhaseBackwardInput(ConvShape s, float* dy, float* w, float* dx)
    {
        if (UsesDirectPhases(s))
        {
            DirectPhaseBackwardInput(s, dy, w, dx);
            return;
        }
        var grid = new PaddedGrid(s.OutC, s.OH, s.OW, 0, 0, 2, 2, 1, 1); // rows OW + 1 apart, OH + 1 rows per image
        int inCG = s.InCG, outCG = s.OutCG, groups = s.Groups, batch = s.Batch;
        int imageRows = grid.ImageRows, rowStride = grid.RowStride;

        // Per phase: the weights as a row-major [InC, OutCG·taps] matrix, packed per group, and the B row offsets.
        int maxDepth = outCG * 4;
        long packedPhase = groups * CpuGemm.PackedPanelsLength(inCG, maxDepth);
        float* packed = Grow(ref t_packed, 4 * packedPhase);
        float* matrix = Grow(ref t_weights, (long)s.InC * maxDepth);
        int* offsets = Grow(ref t_offsets, 4 * maxDepth);
        var depths = stackalloc int[4];

        int count = Math.Min(MaxStackedImages / 2, Math.Max(1, batch / CpuParallel.ThreadCount));
        int stacks = (batch + count - 1) / count;
        long channelStride = grid.ChannelLength(count);
        for (int phase = 0; phase < 4; phase++)
        {
            var rowTaps = PhaseTaps(phase >> 1);
            var colTaps = PhaseTaps(phase & 1);
            int taps = rowTaps.Length * colTaps.Length, depth = outCG * taps;
            depths[phase] = depth;
            for (int ci = 0; ci < s.InC; ci++)
            {
                int g = ci / inCG;
                for (int co = 0, k = 0; co < outCG; co++)
                    foreach (var (ki, _) in rowTaps)
                        foreach (var (kj, _) in colTaps)
                            matrix[(long)ci * depth + k++] = w[(((long)(g * outCG + co) * inCG + ci % inCG) * 3 + ki) * 3 + kj];
            }
            for (int g = 0; g < groups; g++)
                CpuGemm.PackAPanels(matrix + (long)g * inCG * depth, depth, inCG, depth, packed + phase * packedPhase + g * CpuGemm.PackedPanelsLength(inCG, maxDepth));
            for (int co = 0, k = 0; co < outCG; co++)
                foreach (var (_, di) in rowTaps)
                    foreach (var (_, dj) in colTaps)
                        offsets[phase * maxDepth + k++] = checked((int)(co * channelStride + di * rowStride + dj));
        }

        int outRows = (count - 1) * imageRows + s.OH; // grid rows holding a stack's outputs (u < OH)
        int ldc = outRows * rowStride + CpuGemm.OffsetColumnTile;
        CpuParallel.For(stacks, item =>
        {
            int n0 = item * count, images = Math.Min(count, batch - n0), rows = (images - 1) * imageRows + s.OH;
            float* stacked = Grow(ref t_padded, s.OutC * channelStride + grid.Slack);
            grid.Stack(dy + (long)n0 * s.OutC * s.OutPlane, images, stacked, channelStride, 0);
            new Span<float>(stacked + s.OutC * channelStride, grid.Slack).Clear();
            // The two column phases of a row phase side by side, then interleaved into dx's rows.
            float* results = Grow(ref t_phaseGrid, 2L * s.InC * ldc);
            for (int a = 0; a < 2; a++)
            {
                for (int b = 0; b < 2; b++)
                {
                    int phase = 2 * a + b;
                    for (int g = 0; g < groups; g++)
                        CpuGemm.SgemmOffsetRows(inCG, rows * rowStride, depths[phase],
                            packed + phase * packedPhase + g * CpuGemm.PackedPanelsLength(inCG, maxDepth),
                            stacked + (long)g * outCG * channelStride, offsets + phase * maxDepth,
                            results + ((long)b * s.InC + g * inCG) * ldc, ldc);
                }
                InterleavePhases(s, results, results + (long)s.InC * ldc, ldc, a, n0, images, imageRows, rowStride, dx);
            }
        });
    }

    /// <summary>dx[n0 + i, ci, 2u + a, 2v + b] = phase b's grid value at (i, u, v), for both column phases b.</summary>
    private static void InterleavePhases(in ConvShape s, float* even, float* odd, int ldc, int a, int n0, int images, int imageRows, int rowStride, float* dx)
    {
        int rowsOut = (s.H - a + 1) / 2, width = s.W, pairs = width / 2;
        var low = Vector512.Create(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
        var high = Vector512.Create(8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
        for (int i = 0; i < images; i++)
            for (int ci = 0; ci < s.InC; ci++)
                for (int u = 0; u < rowsOut; u++)
                {
                    long grid = (long)ci * ldc + (long)(i * imageRows + u) * rowStride;
                    float* e = even + grid, o = odd + grid;
                    float* dst = dx + (((long)(n0 + i) * s.InC + ci) * s.H + 2 * u + a) * width;
                    int v = 0;
                    for (; v + 16 <= pairs; v += 16)
                    {
                        Vector512<float> ev = Vector512.Load(e + v), ov = Vector512.Load(o + v);
                        Avx512F.PermuteVar16x32x2(ev, low, ov).Store(dst + 2 * v);
                        Avx512F.PermuteVar16x32x2(ev, high, ov).Store(dst + 2 * v + 16);
                    }
                    if (v + 8 <= pairs)
                    {
                        // The grid is readable a tile past every row: whole vectors are loaded, 16 floats stored.
                        Avx512F.PermuteVar16x32x2(Vector512.Load(e + v), low, Vector512.Load(o + v)).Store(dst + 2 * v);
                        v += 8;
                    }
                    for (; v < pairs; v++)
                    {
                        dst[2 * v] = e[v];
                        dst[2 * v + 1] = o[v];
                    }
                    if ((width & 1) != 0) dst[width - 1] = e[pairs];
                }
    }
    /// <summary>
    /// Whether the phases run as direct convolutions over dY (DirectPhaseBackwardInput): one group, even input sides
    /// (dx = 2·dY's sides), a dY plane that splits into masked tiles as in UsesDirectConv, at least one image per thread.
    /// </summary>
    private static bool UsesDirectPhases(in ConvShape s) =>
        CpuGemm.HasMaskedTile && s.Groups == 1 && s.H == 2 * s.OH && s.W == 2 * s.OW && s.OH * s.OW % CpuGemm.MaskedTileColumns == 0
        && (s.OW % CpuGemm.MaskedTileColumns == 0 || CpuGemm.MaskedTileColumns % s.OW == 0) && s.Batch >= CpuParallel.ThreadCount;

    /// <summary>
    /// The phases of the header as masked direct convolutions over each image's dY (CpuGemm.SgemmMaskedTile): phase
    /// (a, b)'s taps read dY at offsets (di, dj) ∈ {0, 1}², the pixels past its last row or column masked, into four
    /// phase planes per input channel, which are then interleaved into dx. No padded copy of dY and no gap points:
    /// ResNet-20, batch 128, interleaved against the grid phases: 16 → 32 from 32×32 1.184 → 0.969 ms and 1.129 → 0.887,
    /// 32 → 64 from 16×16 0.918 → 0.769 and 0.930 → 0.785.
    /// </summary>
    private static void DirectPhaseBackwardInput(in ConvShape s, float* dy, float* w, float* dx)
    {
        const int columns = CpuGemm.MaskedTileColumns;
        int inC = s.InC, outC = s.OutC, oh = s.OH, ow = s.OW, h = s.H, width = s.W, plane = oh * ow, tiles = plane / columns;
        long packedPhase = CpuGemm.PackedA8Length(inC, 4 * outC);
        float* packed = Grow(ref t_packed, 4 * packedPhase);
        float* matrix = Grow(ref t_weights, (long)inC * 4 * outC);
        int* tapOffsets = Grow(ref t_offsets, 20), taps = tapOffsets + 16; // per phase: up to 4 tap offsets; then the 4 tap counts
        var masks = (Vector512<float>*)Grow(ref t_masks, 4L * tiles * 4 * 2 * 16);
        float keep = BitConverter.Int32BitsToSingle(-1);
        for (int phase = 0; phase < 4; phase++)
        {
            var rowTaps = PhaseTaps(phase >> 1);
            var colTaps = PhaseTaps(phase & 1);
            int count = rowTaps.Length * colTaps.Length, depth = outC * count, t = 0;
            taps[phase] = count;
            foreach (var (ki, di) in rowTaps)
                foreach (var (kj, dj) in colTaps)
                {
                    // Tap-major depth: A[ci, t·OutC + co] = W[co, ci, ki, kj].
                    for (int ci = 0; ci < inC; ci++)
                        for (int co = 0; co < outC; co++)
                            matrix[(long)ci * depth + t * outC + co] = w[(((long)co * inC + ci) * 3 + ki) * 3 + kj];
                    tapOffsets[phase * 4 + t] = di * ow + dj;
                    for (int tile = 0; tile < tiles; tile++)
                    {
                        float* lanes = (float*)(masks + ((phase * tiles + tile) * 4 + t) * 2);
                        for (int j = 0; j < columns; j++)
                        {
                            int q = tile * columns + j;
                            lanes[j] = q / ow + di < oh && q % ow + dj < ow ? keep : 0f;
                        }
                    }
                    t++;
                }
            CpuGemm.PackA8Panels(matrix, depth, inC, depth, packed + phase * packedPhase);
        }

        CpuParallel.For(s.Batch, n =>
        {
            float* phases = Grow(ref t_phases, (long)inC * 4 * plane);
            float* image = dy + (long)n * outC * plane;
            for (int phase = 0; phase < 4; phase++)
                for (int tile = 0; tile < tiles; tile++)
                    CpuGemm.SgemmMaskedTile(inC, outC, taps[phase], packed + phase * packedPhase, image + tile * columns, plane,
                        tapOffsets + phase * 4, masks + (phase * tiles + tile) * 4 * 2, phases + (long)phase * plane + tile * columns, 4 * plane, null, false);
            for (int ci = 0; ci < inC; ci++)
                for (int row = 0; row < h; row++)
                {
                    // Row 2u + a of dx: phase (a, 0) at its even columns, (a, 1) at its odd ones.
                    float* even = phases + ((long)ci * 4 + (row & 1) * 2) * plane + (row >> 1) * ow;
                    MergeRowStride2(even, even + plane, dx + (((long)n * inC + ci) * h + row) * width, ow);
                }
        });
    }

    /// <summary>dst[2v] = evens[v], dst[2v + 1] = odds[v] for v &lt; pairs: two permutes per 32 floats, the last block masked.</summary>
    private static void MergeRowStride2(float* evens, float* odds, float* dst, int pairs)
    {
        var low = Vector512.Create(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
        var high = Vector512.Create(8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
        int v = 0;
        for (; v + 16 <= pairs; v += 16)
        {
            Vector512<float> e = Vector512.Load(evens + v), o = Vector512.Load(odds + v);
            Avx512F.PermuteVar16x32x2(e, low, o).Store(dst + 2 * v);
            Avx512F.PermuteVar16x32x2(e, high, o).Store(dst + 2 * v + 16);
        }
        if (v < pairs)
        {
            // 1–15 pairs left: masked loads and stores touch nothing past them.
            var lanes = Vector512.Create(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
            int rest = pairs - v;
            var load = Vector512.LessThan(lanes, Vector512.Create(rest)).AsSingle();
            Vector512<float> e = Avx512F.MaskLoad(evens + v, load, Vector512<float>.Zero), o = Avx512F.MaskLoad(odds + v, load, Vector512<float>.Zero);
            Avx512F.MaskStore(dst + 2 * v, Vector512.LessThan(lanes, Vector512.Create(2 * rest)).AsSingle(), Avx512F.PermuteVar16x32x2(e, low, o));
            if (rest > 8)
                Avx512F.MaskStore(dst + 2 * v + 16, Vector512.LessThan(lanes, Vector512.Create(2 * rest - 16)).AsSingle(), Avx512F.PermuteVar16x32x2(e, high, o));
        }
    }
}
