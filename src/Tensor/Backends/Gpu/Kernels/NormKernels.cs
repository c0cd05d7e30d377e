// Per-channel primitives behind batch normalisation, over contiguous [N, C, S] tensors (S = H·W), with the CPU
// backend's semantics (CpuBackend.Norm.cs):
// - Sums + SumsFinish: per channel, two sums over its N·S elements, then the results;
//   MeanVar: Σ(x − K) and Σ(x − K)² with K = x[0, c, 0] → mean = K + Σ(x − K)/n and the biased variance
//   max(0, Σ(x − K)²/n − (Σ(x − K)/n)²) — the shift keeps the variance accurate when |mean| ≫ std;
//   Grad: Σ dy and Σ dy·(x − center[c]) (batch-norm backward), dy through an optional ReLU gate, the gated dy
//   optionally written out.
//   Sums runs a work group per (channel, chunk) — a channel's N·S elements are split into chunks so that a few channels
//   of many elements still fill the device — and writes the two partial sums of each; SumsFinish folds a channel's
//   chunks. Within a group, items read along each image's S elements (coalesced) and fold in a tree.
// - Affine: y = x·scale[c] + shift[c] (+ x2·scale2[c], a missing scale2 counting as 1), through max(0, ·) when relu
//   (NaN to 0, as the relu kernel), x taken as 0 where an optional ReLU gate is closed, one work item per element on a
//   2-D range (position s, row n·C + c), so the channel comes from the row without a 64-bit division. y may be x or x2:
//   each element is read before it is written.
//
// The ReLU gate's affine form recomputes x·scale + shift with the same expression as Affine. ILGPU 1.5.3 has no
// fused multiply-add intrinsic (MathF.FusedMultiplyAdd becomes an unresolved call in PTX), and emits mul.f32 and add.f32,
// which ptxas — like an OpenCL compiler with FP_CONTRACT on — may fuse; so the two agree bit for bit only where the
// compiler treats both kernels alike. The autograd layer therefore gates the batch-norm backward with the plain form,
// the ReLU's output itself (BatchNorm2d.cs), which is exact on every device.
using ILGPU;

namespace Standalone.Backends.Gpu.Kernels;

/// <summary>The sums' mode, gate and sizes.</summary>
public struct ChannelSumsShape
{
    public const int MeanVar = 0, Grad = 1;
    public int Mode, Gate, HasGated, Channels, Chunks;
    public long N, S, ChunkLength;
}

/// <summary>The affine's switches, gate and sizes.</summary>
public struct ChannelAffineShape
{
    public int HasX2, HasScale2, Relu, Gate, Channels, Rows;
    public long S;
}

internal static class NormKernels
{
    // ReLU gates (ReluGateView): none; open where values > 0; open where values·scale[c] + shift[c] > 0.
    public const int GateNone = 0, GatePositive = 1, GateAffine = 2;

    /// <summary>The batch-norm affine value x·a + b (see the header on rounding).</summary>
    public static float AffineValue(float x, float a, float b) => x * a + b;

    /// <summary>Whether the gate lets element i (of channel c) through.</summary>
    private static bool GateOpen(int gate, ArrayView<float> values, ArrayView<float> scale, ArrayView<float> shift, long i, int c)
    {
        if (gate == GateNone) return true;
        float v = values[i];
        if (gate == GateAffine) v = AffineValue(v, scale[c], shift[c]);
        return v > 0f;
    }

    /// <summary>Folds a and b over the group into aTree[0] and bTree[0] (size is a power of two).</summary>
    private static void FoldPair(ArrayView<float> aTree, ArrayView<float> bTree, float a, float b, int lid, int size)
    {
        aTree[lid] = a;
        bTree[lid] = b;
        Group.Barrier();
        for (int step = size / 2; step > 0; step /= 2)
        {
            if (lid < step)
            {
                aTree[lid] += aTree[lid + step];
                bTree[lid] += bTree[lid + step];
            }
            Group.Barrier();
        }
    }

    /// <summary>
    /// Work group (c, chunk) of channels·chunks folds positions k = n·S + s in [chunk·chunkLength, ...) of channel c
    /// and writes partial[2·(c·chunks + chunk)] and the next element.
    /// </summary>
    public static void Sums(ArrayView<float> x, ArrayView<float> dy, ArrayView<float> center,
        ArrayView<float> gateValues, ArrayView<float> gateScale, ArrayView<float> gateShift, ArrayView<float> gated,
        ArrayView<float> partial, ChannelSumsShape p)
    {
        var aTree = SharedMemory.Allocate<float>(ReduceKernels.MaxGroup);
        var bTree = SharedMemory.Allocate<float>(ReduceKernels.MaxGroup);
        int lid = Item.Local0, size = Item.LocalSize0;
        int group = Item.Group0;
        int c = group / p.Chunks, chunk = group % p.Chunks;
        long length = p.N * p.S;
        long k0 = chunk * p.ChunkLength;
        long k1 = k0 + p.ChunkLength < length ? k0 + p.ChunkLength : length;
        float shift = p.Mode == ChannelSumsShape.MeanVar ? x[c * p.S] : center[c];
        // Items share an image's run of S elements when it is at least as long as the group; shorter runs are taken
        // `rows` images at a time, each by `width` items.
        int width = p.S < size ? (int)p.S : size;
        int rows = size / width;
        float a = 0f, b = 0f;
        if (lid / width < rows && k1 > k0)
        {
            long last = (k1 - 1) / p.S;
            for (long image = k0 / p.S + lid / width; image <= last; image += rows)
            {
                long start = image * p.S;
                long lo = k0 > start ? k0 - start : 0;
                long hi = k1 - start < p.S ? k1 - start : p.S;
                long row = (image * p.Channels + c) * p.S;
                for (long r = lo + lid % width; r < hi; r += width)
                {
                    float v = x[row + r] - shift;
                    if (p.Mode == ChannelSumsShape.MeanVar)
                    {
                        a += v;
                        b += v * v;
                    }
                    else
                    {
                        float g = dy[row + r];
                        if (!GateOpen(p.Gate, gateValues, gateScale, gateShift, row + r, c)) g = 0f;
                        if (p.HasGated != 0) gated[row + r] = g;
                        a += g;
                        b += g * v;
                    }
                }
            }
        }
        FoldPair(aTree, bTree, a, b, lid, size);
        if (lid == 0)
        {
            partial[2 * (long)group] = aTree[0];
            partial[2 * (long)group + 1] = bTree[0];
        }
    }

    /// <summary>A work group per channel: folds its chunks' partial sums and writes (mean, variance) or (Σ dy, Σ dy·(x − center)).</summary>
    public static void SumsFinish(ArrayView<float> partial, ArrayView<float> x, ArrayView<float> first, ArrayView<float> second, ChannelSumsShape p)
    {
        var aTree = SharedMemory.Allocate<float>(ReduceKernels.MaxGroup);
        var bTree = SharedMemory.Allocate<float>(ReduceKernels.MaxGroup);
        int lid = Item.Local0, size = Item.LocalSize0;
        int c = Item.Group0;
        float a = 0f, b = 0f;
        for (int chunk = lid; chunk < p.Chunks; chunk += size)
        {
            a += partial[2 * ((long)c * p.Chunks + chunk)];
            b += partial[2 * ((long)c * p.Chunks + chunk) + 1];
        }
        FoldPair(aTree, bTree, a, b, lid, size);
        if (lid != 0) return;
        if (p.Mode == ChannelSumsShape.MeanVar)
        {
            float count = p.N * p.S;
            float d = aTree[0] / count;
            first[c] = x[c * p.S] + d;
            float variance = bTree[0] / count - d * d;
            second[c] = variance < 0f ? 0f : variance; // NaN stays NaN, as on the CPU
        }
        else
        {
            first[c] = aTree[0];
            second[c] = bTree[0];
        }
    }

    /// <summary>Work item (s, row) with row = n·C + c: y[row·S + s] = x·scale[c] + shift[c] (+ x2·scale2[c]).</summary>
    public static void Affine(ArrayView<float> x, ArrayView<float> scale, ArrayView<float> shift, ArrayView<float> x2, ArrayView<float> scale2,
        ArrayView<float> gateValues, ArrayView<float> gateScale, ArrayView<float> gateShift, ArrayView<float> y, ChannelAffineShape p)
    {
        long position = Item.Global0;
        int row = (int)Item.Global1;
        if (position >= p.S || row >= p.Rows) return;
        int c = row % p.Channels;
        long i = (long)row * p.S + position;
        float xi = GateOpen(p.Gate, gateValues, gateScale, gateShift, i, c) ? x[i] : 0f;
        float v = AffineValue(xi, scale[c], shift[c]);
        if (p.HasX2 != 0) v += x2[i] * (p.HasScale2 != 0 ? scale2[c] : 1f);
        y[i] = p.Relu != 0 ? (v > 0f ? v : 0f) : v;
    }
}
