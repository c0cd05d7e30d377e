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
    /// <summary>Output element i's window, clipped to the image: rows [H0, H1), columns [W0, W1) of the plane at Input.</summary>
    private struct Window
    {
        public long Input;
        public int H0, H1, W0, W1;

        public static Window Of(long i, in PoolGeometry g)
        {
            int ow = (int)(i % g.OW);
            long rest = i / g.OW;
            int oh = (int)(rest % g.OH);
            int top = oh * g.SH - g.PH, left = ow * g.SW - g.PW;
            return new Window
            {
                Input = rest / g.OH * g.H * g.W,
                H0 = Math.Max(top, 0), H1 = Math.Min(top + g.KH, g.H),
                W0 = Math.Max(left, 0), W1 = Math.Min(left + g.KW, g.W),
            };
        }
    }

    /// <summary>
    /// Input element i's position (h, w), the first element of its plane's outputs, and the windows covering it: rows
    /// [OH0, OH1] and columns [OW0, OW1] of the output plane.
    /// </summary>
    private struct Covering
    {
        public long Outputs;
        public int H, W, OH0, OH1, OW0, OW1;

        public static Covering Of(long i, in PoolGeometry g)
        {
            int w = (int)(i % g.W);
            long rest = i / g.W;
            int h = (int)(rest % g.H);
            return new Covering
            {
                Outputs = rest / g.H * g.OH * g.OW, H = h, W = w,
                OH0 = FirstWindow(h, g.KH, g.SH, g.PH), OH1 = LastWindow(h, g.SH, g.PH, g.OH),
                OW0 = FirstWindow(w, g.KW, g.SW, g.PW), OW1 = LastWindow(w, g.SW, g.PW, g.OW),
            };
        }
    }

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
        var window = Window.Of(i, g);
        float best = float.NegativeInfinity;
        int bestIndex = window.H0 < window.H1 && window.W0 < window.W1 ? window.H0 * g.W + window.W0 : -1;
        for (int h = window.H0; h < window.H1; h++)
            for (int w = window.W0; w < window.W1; w++)
            {
                float v = x[window.Input + h * g.W + w];
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
        var window = Window.Of(i, g);
        float sum = 0f;
        for (int h = window.H0; h < window.H1; h++)
            for (int w = window.W0; w < window.W1; w++) sum += x[window.Input + h * g.W + w];
        y[i] = sum * (1f / (g.KH * g.KW));
    }

    /// <summary>dx[plane, h, w] = Σ dy[plane, o] over the windows o whose recorded winner is (h, w).</summary>
    public static void MaxBackward(ArrayView<float> dy, ArrayView<int> indices, ArrayView<float> dx, PoolGeometry g)
    {
        long i = Item.Global0;
        if (i >= g.Count) return;
        var c = Covering.Of(i, g);
        int flat = c.H * g.W + c.W;
        float sum = 0f;
        for (int oh = c.OH0; oh <= c.OH1; oh++)
            for (int ow = c.OW0; ow <= c.OW1; ow++)
            {
                long o = c.Outputs + oh * g.OW + ow;
                if (indices[o] == flat) sum += dy[o];
            }
        dx[i] = sum;
    }

    /// <summary>dx[plane, h, w] = Σ dy[plane, o] / (KH·KW) over the windows o covering (h, w).</summary>
    public static void AverageBackward(ArrayView<float> dy, ArrayView<float> dx, PoolGeometry g)
    {
        long i = Item.Global0;
        if (i >= g.Count) return;
        var c = Covering.Of(i, g);
        float scale = 1f / (g.KH * g.KW);
        float sum = 0f;
        for (int oh = c.OH0; oh <= c.OH1; oh++)
            for (int ow = c.OW0; ow <= c.OW1; ow++)
                sum += dy[c.Outputs + oh * g.OW + ow] * scale;
        dx[i] = sum;
    }
}
