// Max and average 2-D pooling over contiguous NCHW tensors, forward and backward, with the CPU backend's semantics
// (CpuBackend.Pool.cs):
// - window (oh, ow) covers input rows oh·SH − PH + [0, KH) and columns ow·SW − PW + [0, KW), clipped to the image;
// - max: a NaN wins its window, otherwise the first maximum in row-major order; the winner is recorded as the flat
//   index h·W + w within its input plane (Int32), −1 for a window with no pixel in the image;
// - average: the divisor is always KH·KW (padded zeros count, PyTorch's count_include_pad=True).
// Forward: one work item per output element. Backward: one work item per input element, which gathers from every
// window covering it (in the CPU's order, so max backward matches it bit for bit) — overlapping windows need no
// atomics, and dx is overwritten.
using ILGPU;

namespace Standalone.Backends.Gpu.Kernels;

/// <summary>The pooling geometry: input and output sizes, the window, the element count of the launch.</summary>
public struct PoolGeometry
{
    public int H, W, OH, OW, KH, KW, SH, SW, PH, PW, WriteIndices;
    public long Count;
}

internal static class PoolKernels
{
    /// <summary>The first window along one axis that covers input position p (windows start at o·stride − pad).</summary>
    private static int FirstWindow(int p, int window, int stride, int pad)
    {
        int reach = p + pad - window + 1; // the window must start at or after this
        return reach <= 0 ? 0 : (reach + stride - 1) / stride;
    }

    /// <summary>The last window along one axis that covers input position p, at most outputs − 1.</summary>
    private static int LastWindow(int p, int stride, int pad, int outputs) => Math.Min((p + pad) / stride, outputs - 1);

    public static void MaxForward(ArrayView<float> x, ArrayView<float> y, ArrayView<int> indices, PoolGeometry g)
    {
        long i = Item.Global0;
        if (i >= g.Count) return;
        int ow = (int)(i % g.OW);
        long rest = i / g.OW;
        int oh = (int)(rest % g.OH);
        long plane = rest / g.OH;
        int top = oh * g.SH - g.PH, left = ow * g.SW - g.PW;
        int h0 = Math.Max(top, 0), h1 = Math.Min(top + g.KH, g.H);
        int w0 = Math.Max(left, 0), w1 = Math.Min(left + g.KW, g.W);
        long input = plane * g.H * g.W;
        float best = float.NegativeInfinity;
        int bestIndex = h0 < h1 && w0 < w1 ? h0 * g.W + w0 : -1;
        for (int h = h0; h < h1; h++)
            for (int w = w0; w < w1; w++)
            {
                float v = x[input + h * g.W + w];
                if (v > best || (Item.IsNaN(v) && !Item.IsNaN(best)))
                {
                    best = v;
                    bestIndex = h * g.W + w;
                }
            }
        y[i] = best;
        if (g.WriteIndices != 0) indices[i] = bestIndex;
    }

    public static void AverageForward(ArrayView<float> x, ArrayView<float> y, PoolGeometry g)
    {
        long i = Item.Global0;
        if (i >= g.Count) return;
        int ow = (int)(i % g.OW);
        long rest = i / g.OW;
        int oh = (int)(rest % g.OH);
        long plane = rest / g.OH;
        int top = oh * g.SH - g.PH, left = ow * g.SW - g.PW;
        int h0 = Math.Max(top, 0), h1 = Math.Min(top + g.KH, g.H);
        int w0 = Math.Max(left, 0), w1 = Math.Min(left + g.KW, g.W);
        long input = plane * g.H * g.W;
        float sum = 0f;
        for (int h = h0; h < h1; h++)
            for (int w = w0; w < w1; w++) sum += x[input + h * g.W + w];
        y[i] = sum * (1f / (g.KH * g.KW));
    }

    /// <summary>dx[plane, h, w] = Σ dy[plane, o] over the windows o whose recorded winner is (h, w).</summary>
    public static void MaxBackward(ArrayView<float> dy, ArrayView<int> indices, ArrayView<float> dx, PoolGeometry g)
    {
        long i = Item.Global0;
        if (i >= g.Count) return;
        int w = (int)(i % g.W);
        long rest = i / g.W;
        int h = (int)(rest % g.H);
        long plane = rest / g.H;
        int flat = h * g.W + w;
        int oh1 = LastWindow(h, g.SH, g.PH, g.OH), ow1 = LastWindow(w, g.SW, g.PW, g.OW);
        long outputs = plane * g.OH * g.OW;
        float sum = 0f;
        for (int oh = FirstWindow(h, g.KH, g.SH, g.PH); oh <= oh1; oh++)
            for (int ow = FirstWindow(w, g.KW, g.SW, g.PW); ow <= ow1; ow++)
            {
                long o = outputs + oh * g.OW + ow;
                if (indices[o] == flat) sum += dy[o];
            }
        dx[i] = sum;
    }

    /// <summary>dx[plane, h, w] = Σ dy[plane, o] / (KH·KW) over the windows o covering (h, w).</summary>
    public static void AverageBackward(ArrayView<float> dy, ArrayView<float> dx, PoolGeometry g)
    {
        long i = Item.Global0;
        if (i >= g.Count) return;
        int w = (int)(i % g.W);
        long rest = i / g.W;
        int h = (int)(rest % g.H);
        long plane = rest / g.H;
        int oh1 = LastWindow(h, g.SH, g.PH, g.OH), ow1 = LastWindow(w, g.SW, g.PW, g.OW);
        long outputs = plane * g.OH * g.OW;
        float scale = 1f / (g.KH * g.KW);
        float sum = 0f;
        for (int oh = FirstWindow(h, g.KH, g.SH, g.PH); oh <= oh1; oh++)
            for (int ow = FirstWindow(w, g.KW, g.SW, g.PW); ow <= ow1; ow++)
                sum += dy[outputs + oh * g.OW + ow] * scale;
        dx[i] = sum;
    }
}
