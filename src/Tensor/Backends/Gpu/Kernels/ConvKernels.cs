// 2-D convolution helpers around the GEMM of GemmKernels (NCHW, weight [Cout, Cin/groups, KH, KW], PyTorch geometry):
// im2col, its adjoint col2im, the forward's epilogue (bias, residual, ReLU), the channel-outermost copy and split sums
// of the weight gradient, and the bias gradient. The host (GpuBackend.Conv.cs) runs a chunk of images at a time and
// multiplies per group.
//
// col holds, for each image of the chunk, the rows (c·KH + ki)·KW + kj over all input channels c (so group g's rows
// are one contiguous block) and the output positions oh·OW + ow as columns:
//   col[n·imageStride + row·rowStride + oh·OW + ow] = x[n, c, oh·SH − PH + ki·DH, ow·SW − PW + kj·DW]   (0 outside)
// The strides let one kernel write both layouts the host needs: image-major ([n][row][pos], forward and backward
// input) and row-major across the chunk ([row][n][pos], the weight gradient's long-K GEMM).
//
// Work items are laid out as (position along an image row, row of work, image), so that neighbouring work items touch
// neighbouring addresses.
using ILGPU;

namespace Standalone.Backends.Gpu.Kernels;

/// <summary>The convolution's geometry and the chunk of images a launch covers.</summary>
public struct ConvGeometry
{
    public int InC, H, W, OutC, OH, OW, KH, KW, SH, SW, PH, PW, DH, DW;
    public int First, Images;
    public long ImageStride, RowStride;
}

/// <summary>The forward epilogue's and the channel kernels' sizes and switches.</summary>
public struct ChannelRows
{
    public int Batch, Channels, Plane, HasBias, HasResidual, Relu, First, Images;
}

internal static class ConvKernels
{
    /// <summary>Work item (ow, row·OH + oh, n) writes col[n·imageStride + row·rowStride + oh·OW + ow] for image First + n.</summary>
    public static void Im2Col(ArrayView<float> x, ArrayView<float> col, ConvGeometry g)
    {
        int ow = (int)Item.Global0, rowOh = (int)Item.Global1, n = Item.Group2;
        int row = rowOh / g.OH, oh = rowOh - row * g.OH;
        int kj = row % g.KW, ki = row / g.KW % g.KH, c = row / (g.KW * g.KH);
        if (ow >= g.OW || row >= g.InC * g.KH * g.KW || n >= g.Images) return;
        int h = oh * g.SH - g.PH + ki * g.DH, w = ow * g.SW - g.PW + kj * g.DW;
        float value = 0f;
        if (h >= 0 && h < g.H && w >= 0 && w < g.W)
            value = x[(((long)(g.First + n) * g.InC + c) * g.H + h) * g.W + w];
        col[n * g.ImageStride + row * g.RowStride + oh * g.OW + ow] = value;
    }

    /// <summary>
    /// The adjoint of im2col for an image-major col: work item (w, c·H + h, n) writes dx[First + n, c, h, w], the sum of
    /// the col entries that im2col took from that pixel (a gather, so no atomics). Overwrites dx.
    /// </summary>
    public static void Col2Im(ArrayView<float> col, ArrayView<float> dx, ConvGeometry g)
    {
        int w = (int)Item.Global0, cH = (int)Item.Global1, n = Item.Group2;
        int c = cH / g.H, h = cH - c * g.H;
        if (w >= g.W || c >= g.InC || n >= g.Images) return;
        long image = n * g.ImageStride;
        float sum = 0f;
        for (int ki = 0; ki < g.KH; ki++)
        {
            // h = oh·SH − PH + ki·DH  ⇔  oh = (h + PH − ki·DH) / SH when that divides exactly and lands in [0, OH).
            int th = h + g.PH - ki * g.DH;
            if (th < 0 || th % g.SH != 0 || th / g.SH >= g.OH) continue;
            int oh = th / g.SH;
            for (int kj = 0; kj < g.KW; kj++)
            {
                int tw = w + g.PW - kj * g.DW, ow = tw;
                if (g.SW != 1)
                {
                    if (tw % g.SW != 0) continue;
                    ow = tw / g.SW;
                }
                if (tw < 0 || ow >= g.OW) continue;
                sum += col[image + ((long)(c * g.KH + ki) * g.KW + kj) * g.RowStride + oh * g.OW + ow];
            }
        }
        dx[(((long)(g.First + n) * g.InC + c) * g.H + h) * g.W + w] = sum;
    }

    /// <summary>
    /// rows[(c·Images + n)·plane + p] = y[First + n, c, p]: a chunk of a [N, C, plane] tensor with channels outermost,
    /// so that the weight gradient's GEMM runs over all of the chunk's images at once. Work item (p, c·Images + n).
    /// </summary>
    public static void ChannelsOuter(ArrayView<float> y, ArrayView<float> rows, ChannelRows s)
    {
        int p = (int)Item.Global0, row = (int)Item.Global1;
        int c = row / s.Images, n = row - c * s.Images;
        if (p >= s.Plane || c >= s.Channels) return;
        rows[(long)row * s.Plane + p] = y[((long)(s.First + n) * s.Channels + c) * s.Plane + p];
    }

    /// <summary>
    /// The forward's epilogue, work item (p, n·C + c): y[n, c, p] (+ bias[c]) (+ residual[n, c, p]), then max(0, ·) when
    /// Relu — a batch norm folded into the convolution, the block's shortcut and its ReLU in one pass, rounded as the
    /// separate adds would be. Absent inputs are passed as y and not read.
    /// </summary>
    public static void Epilogue(ArrayView<float> y, ArrayView<float> bias, ArrayView<float> residual, ChannelRows s)
    {
        int p = (int)Item.Global0, row = (int)Item.Global1;
        int channel = row % s.Channels;
        if (p >= s.Plane || row >= s.Batch * s.Channels) return;
        long at = (long)row * s.Plane + p;
        float v = y[at];
        if (s.HasBias != 0) v += bias[channel];
        if (s.HasResidual != 0) v += residual[at];
        y[at] = s.Relu != 0 && !(v > 0f) ? 0f : v;
    }

    /// <summary>
    /// dBias[c] = Σ over n, p of dy[n, c, p]: one work group per channel, a power-of-two group striding over each
    /// image's plane, then a tree sum in shared memory.
    /// </summary>
    public static void BiasGrad(ArrayView<float> dy, ArrayView<float> dbias, ChannelRows s)
    {
        var partial = SharedMemory.Allocate<float>(ReduceKernels.MaxGroup);
        int channel = Item.Group0, lid = Item.Local0, size = Item.LocalSize0;
        float sum = 0f;
        for (int n = 0; n < s.Batch; n++)
        {
            long row = ((long)n * s.Channels + channel) * s.Plane;
            for (int p = lid; p < s.Plane; p += size) sum += dy[row + p];
        }
        partial[lid] = sum;
        Group.Barrier();
        for (int width = size / 2; width > 0; width /= 2)
        {
            if (lid < width) partial[lid] += partial[lid + width];
            Group.Barrier();
        }
        if (lid == 0) dbias[channel] = partial[0];
    }

    /// <summary>y[i] = Σ over s &lt; splits of partial[s·count + i] (+ y[i] when accumulate): the split-K sums of the weight gradient.</summary>
    public static void SumSplits(ArrayView<float> partial, int splits, long count, ArrayView<float> y, int accumulate)
    {
        long i = Item.Global0;
        if (i >= count) return;
        float sum = accumulate != 0 ? y[i] : 0f;
        for (int s = 0; s < splits; s++) sum += partial[s * count + i];
        y[i] = sum;
    }
}
