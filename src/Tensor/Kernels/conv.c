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

/// One work item per col element of `images` images starting at image `first` of x.
KERNEL conv_im2col(GLOBAL const float* x, i64 x_offset, GLOBAL float* col, i64 col_offset, i64 image_stride, i64 row_stride,
    int first, int images, conv_geometry_t g)
{
    i64 i = GID(0);
    int plane = g.oh * g.ow, rows = g.in_c * g.kh * g.kw;
    i64 per_image = (i64)rows * plane;
    if (i >= per_image * images) return;
    int n = (int)(i / per_image);
    int rest = (int)(i - n * per_image);
    int row = rest / plane, pos = rest - row * plane;
    int oh = pos / g.ow, ow = pos - oh * g.ow;
    int kj = row % g.kw, ki = (row / g.kw) % g.kh, c = row / (g.kw * g.kh);
    int h = oh * g.sh - g.ph + ki * g.dh, w = ow * g.sw - g.pw + kj * g.dw;
    float value = 0.0f;
    if (h >= 0 && h < g.h && w >= 0 && w < g.w)
        value = x[x_offset + (((i64)(first + n) * g.in_c + c) * g.h + h) * g.w + w];
    col[col_offset + n * image_stride + row * row_stride + pos] = value;
}

/// The adjoint of im2col for an image-major col: one work item per element of dx (images first .. first + images − 1),
/// summing the col entries that im2col took from that pixel (a gather, so no atomics). Overwrites dx.
KERNEL conv_col2im(GLOBAL const float* col, i64 col_offset, i64 image_stride, i64 row_stride, GLOBAL float* dx, i64 dx_offset,
    int first, int images, conv_geometry_t g)
{
    i64 i = GID(0);
    i64 per_image = (i64)g.in_c * g.h * g.w;
    if (i >= per_image * images) return;
    int n = (int)(i / per_image);
    int rest = (int)(i - n * per_image);
    int c = rest / (g.h * g.w), pixel = rest - c * (g.h * g.w);
    int h = pixel / g.w, w = pixel - h * g.w;
    GLOBAL const float* image = col + col_offset + n * image_stride;
    float sum = 0.0f;
    for (int ki = 0; ki < g.kh; ki++)
    {
        // h = oh·SH − PH + ki·DH  ⇔  oh = (h + PH − ki·DH) / SH when that divides exactly and lands in [0, OH).
        int th = h + g.ph - ki * g.dh;
        if (th < 0 || th % g.sh != 0) continue;
        int oh = th / g.sh;
        if (oh >= g.oh) continue;
        for (int kj = 0; kj < g.kw; kj++)
        {
            int tw = w + g.pw - kj * g.dw;
            if (tw < 0 || tw % g.sw != 0) continue;
            int ow = tw / g.sw;
            if (ow >= g.ow) continue;
            sum += image[((i64)(c * g.kh + ki) * g.kw + kj) * row_stride + oh * g.ow + ow];
        }
    }
    dx[dx_offset + (i64)first * per_image + i] = sum;
}

/// y[n, c, p] += bias[c] over a contiguous y of `count` elements.
KERNEL conv_bias_add(GLOBAL float* y, i64 y_offset, GLOBAL const float* bias, i64 bias_offset, int channels, int plane, i64 count)
{
    i64 i = GID(0);
    if (i < count) y[y_offset + i] += bias[bias_offset + (int)((i / plane) % channels)];
}

#define BIAS_GRAD_GROUP 256

/// dBias[c] = Σ over n, p of dy[n, c, p]: one work group per channel (dim 0 = channel), a power-of-two group of at
/// most BIAS_GRAD_GROUP work items striding over the batch, then a tree sum in local memory.
KERNEL conv_bias_grad(GLOBAL const float* dy, i64 dy_offset, GLOBAL float* dbias, i64 dbias_offset, int batch, int channels, int plane)
{
    SHARED(float, partial, BIAS_GRAD_GROUP);
    int channel = GROUP(0), lid = LID(0), size = LSIZE(0);
    i64 total = (i64)batch * plane;
    float sum = 0.0f;
    for (i64 i = lid; i < total; i += size)
    {
        i64 n = i / plane;
        sum += dy[dy_offset + (n * channels + channel) * plane + (i - n * plane)];
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
