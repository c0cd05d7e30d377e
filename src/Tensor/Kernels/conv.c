// 2-D convolution helpers around the GEMM of gemm.c (NCHW, weight [Cout, Cin/groups, KH, KW], PyTorch geometry):
// im2col, its adjoint col2im, the bias add of the forward pass and the bias gradient. The host (OpenClBackend.Conv.cs)
// runs a chunk of images at a time and multiplies per group.
//
// col holds, for each image of the chunk, the rows (c·KH + ki)·KW + kj over all input channels c (so group g's rows
// are one contiguous block) and the output positions oh·OW + ow as columns:
//   col[n·image_stride + row·row_stride + oh·OW + ow] = x[n, c, oh·SH − PH + ki·DH, ow·SW − PW + kj·DW]   (0 outside)
// The strides let one kernel write both layouts the host needs: image-major ([n][row][pos], forward and backward
// input) and row-major across the chunk ([row][n][pos], the weight gradient's long-K GEMM).

/// The convolution's geometry; the same layout as the host's ConvGeometry struct.
typedef struct
{
    i32 in_c, h, w;         // input channels and plane
    i32 out_c, oh, ow;      // output channels and plane
    i32 kh, kw;             // kernel
    i32 sh, sw, ph, pw, dh, dw;
    i32 unused0, unused1;
} conv_geometry_t;

// Work items are laid out as (position along an image row, row of work, image): the divisions that split a row index
// are then the same across a work group's first dimension, and neighbouring work items touch neighbouring addresses.
// CPU devices (PoCL) run that dimension as their innermost, vectorized loop; they hoist the divisions out of it only
// when they come before the range check (a division under a condition cannot be moved), so they do.

/// Work item (ow, row·OH + oh, n) writes col[n·image_stride + row·row_stride + oh·OW + ow] for image first + n.
KERNEL conv_im2col(GLOBAL const float* x, i64 x_offset, GLOBAL float* col, i64 col_offset, i64 image_stride, i64 row_stride,
    int first, int images, conv_geometry_t g)
{
    int ow = (int)GID(0), row_oh = (int)GID(1), n = (int)GID(2);
    int row = row_oh / g.oh, oh = row_oh - row * g.oh;
    int kj = row % g.kw, ki = (row / g.kw) % g.kh, c = row / (g.kw * g.kh);
    if (ow >= g.ow || row >= g.in_c * g.kh * g.kw || n >= images) return;
    int h = oh * g.sh - g.ph + ki * g.dh, w = ow * g.sw - g.pw + kj * g.dw;
    float value = 0.0f;
    if (h >= 0 && h < g.h && w >= 0 && w < g.w)
        value = x[x_offset + (((i64)(first + n) * g.in_c + c) * g.h + h) * g.w + w];
    col[col_offset + n * image_stride + row * row_stride + oh * g.ow + ow] = value;
}

/// The adjoint of im2col for an image-major col: work item (w, c·H + h, n) writes dx[first + n, c, h, w], the sum of
/// the col entries that im2col took from that pixel (a gather, so no atomics). Overwrites dx.
KERNEL conv_col2im(GLOBAL const float* col, i64 col_offset, i64 image_stride, i64 row_stride, GLOBAL float* dx, i64 dx_offset,
    int first, int images, conv_geometry_t g)
{
    int w = (int)GID(0), c_h = (int)GID(1), n = (int)GID(2);
    int c = c_h / g.h, h = c_h - c * g.h;
    if (w >= g.w || c >= g.in_c || n >= images) return;
    GLOBAL const float* image = col + col_offset + n * image_stride;
    float sum = 0.0f;
    for (int ki = 0; ki < g.kh; ki++)
    {
        // h = oh·SH − PH + ki·DH  ⇔  oh = (h + PH − ki·DH) / SH when that divides exactly and lands in [0, OH).
        int th = h + g.ph - ki * g.dh;
        if (th < 0 || th % g.sh != 0 || th / g.sh >= g.oh) continue;
        int oh = th / g.sh;
        for (int kj = 0; kj < g.kw; kj++)
        {
            // Likewise for w; this one differs between neighbouring work items, so stride 1 skips the division.
            int tw = w + g.pw - kj * g.dw, ow = tw;
            if (g.sw != 1)
            {
                if (tw % g.sw != 0) continue;
                ow = tw / g.sw;
            }
            if (tw < 0 || ow >= g.ow) continue;
            sum += image[((i64)(c * g.kh + ki) * g.kw + kj) * row_stride + oh * g.ow + ow];
        }
    }
    dx[dx_offset + (((i64)(first + n) * g.in_c + c) * g.h + h) * g.w + w] = sum;
}

/// rows[(c·images + n)·plane + p] = y[first + n, c, p]: a chunk of a [N, C, plane] tensor with channels outermost, so
/// that the weight gradient's GEMM runs over all of the chunk's images at once. Work item (p, c·images + n).
KERNEL conv_channels_outer(GLOBAL const float* y, i64 y_offset, GLOBAL float* rows, int first, int images, int channels, int plane)
{
    int p = (int)GID(0), row = (int)GID(1);
    int c = row / images, n = row - c * images;
    if (p >= plane || c >= channels) return;
    rows[(i64)row * plane + p] = y[y_offset + ((i64)(first + n) * channels + c) * plane + p];
}

/// The forward's epilogue, work item (p, n·C + c): y[n, c, p] (+ bias[c] when has_bias) (+ residual[n, c, p] when
/// has_residual), then max(0, ·) when relu — a batch norm folded into the convolution, the block's shortcut and its
/// ReLU in one pass, rounded as the separate adds would be. Absent inputs are passed as y and not read.
KERNEL conv_epilogue(GLOBAL float* y, i64 y_offset, GLOBAL const float* bias, i64 bias_offset, int has_bias,
    GLOBAL const float* residual, i64 residual_offset, int has_residual, int batch, int channels, int plane, int relu)
{
    int p = (int)GID(0), row = (int)GID(1);
    int channel = row % channels;
    if (p >= plane || row >= batch * channels) return;
    i64 at = (i64)row * plane + p;
    float v = y[y_offset + at];
    if (has_bias) v += bias[bias_offset + channel];
    if (has_residual) v += residual[residual_offset + at];
    y[y_offset + at] = relu && !(v > 0.0f) ? 0.0f : v;
}

#define BIAS_GRAD_GROUP 256

/// dBias[c] = Σ over n, p of dy[n, c, p]: one work group per channel (dim 0 = channel), a power-of-two group of at
/// most BIAS_GRAD_GROUP work items striding over each image's plane, then a tree sum in local memory.
KERNEL conv_bias_grad(GLOBAL const float* dy, i64 dy_offset, GLOBAL float* dbias, i64 dbias_offset, int batch, int channels, int plane)
{
    SHARED(float, partial, BIAS_GRAD_GROUP);
    int channel = GROUP(0), lid = LID(0), size = LSIZE(0);
    float sum = 0.0f;
    for (int n = 0; n < batch; n++)
    {
        GLOBAL const float* row = dy + dy_offset + ((i64)n * channels + channel) * plane;
        for (int p = lid; p < plane; p += size) sum += row[p];
    }
    partial[lid] = sum;
    BARRIER();
    for (int width = size / 2; width > 0; width /= 2)
    {
        if (lid < width) partial[lid] += partial[lid + width];
        BARRIER();
    }
    if (lid == 0) dbias[dbias_offset + channel] = partial[0];
}

/// y[i] = Σ over s < splits of partial[s·count + i] (+ y[i] when accumulate): the split-K sums of the weight gradient.
KERNEL conv_sum_splits(GLOBAL const float* partial, int splits, i64 count, GLOBAL float* y, i64 y_offset, int accumulate)
{
    i64 i = GID(0);
    if (i >= count) return;
    float sum = accumulate ? y[y_offset + i] : 0.0f;
    for (int s = 0; s < splits; s++) sum += partial[s * count + i];
    y[y_offset + i] = sum;
}
