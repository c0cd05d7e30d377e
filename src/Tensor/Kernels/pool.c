// Max and average 2-D pooling over contiguous NCHW tensors, forward and backward, with the CPU backend's semantics
// (CpuBackend.Pool.cs):
// - window (oh, ow) covers input rows oh·SH − PH + [0, KH) and columns ow·SW − PW + [0, KW), clipped to the image;
// - max: a NaN wins its window, otherwise the first maximum in row-major order; the winner is recorded as the flat
//   index h·W + w within its input plane (Int32), −1 for a window with no pixel in the image;
// - average: the divisor is always KH·KW (padded zeros count, PyTorch's count_include_pad=True).
// Forward: one work item per output element. Backward: one work item per input element, which gathers from every
// window covering it (in the CPU's order, so max backward matches it bit for bit) — overlapping windows need no
// atomics, and dx is overwritten.

/// The geometry, passed by value; the same layout as the host's PoolGeometry (OpenClBackend.Pool.cs).
typedef struct
{
    i32 h, w, oh, ow;
    i32 kh, kw, sh, sw, ph, pw;
} pool_t;

DEVICE_FN int clip_low(int v) { return v > 0 ? v : 0; }
DEVICE_FN int clip_high(int v, int limit) { return v < limit ? v : limit; }

/// The first window along one axis that covers input position p (windows start at o·stride − pad).
DEVICE_FN int first_window(int p, int window, int stride, int pad)
{
    int reach = p + pad - window + 1; // the window must start at or after this
    return reach <= 0 ? 0 : (reach + stride - 1) / stride;
}

/// The last window along one axis that covers input position p, at most outputs − 1.
DEVICE_FN int last_window(int p, int stride, int pad, int outputs)
{
    return clip_high((p + pad) / stride, outputs - 1);
}

KERNEL max_pool2d_forward(GLOBAL const float* x, i64 x_offset, GLOBAL float* y, i64 y_offset,
                          GLOBAL i32* indices, i64 indices_offset, int write_indices, pool_t g, i64 count)
{
    i64 i = GID(0);
    if (i >= count) return;
    int ow = (int)(i % g.ow);
    i64 rest = i / g.ow;
    int oh = (int)(rest % g.oh);
    i64 plane = rest / g.oh;
    int top = oh * g.sh - g.ph, left = ow * g.sw - g.pw;
    int h0 = clip_low(top), h1 = clip_high(top + g.kh, g.h);
    int w0 = clip_low(left), w1 = clip_high(left + g.kw, g.w);
    GLOBAL const float* input = x + x_offset + plane * g.h * g.w;
    float best = -INF_F;
    int best_index = h0 < h1 && w0 < w1 ? h0 * g.w + w0 : -1;
    for (int h = h0; h < h1; h++)
        for (int w = w0; w < w1; w++)
        {
            float v = input[h * g.w + w];
            if (v > best || (IS_NAN(v) && !IS_NAN(best)))
            {
                best = v;
                best_index = h * g.w + w;
            }
        }
    y[y_offset + i] = best;
    if (write_indices) indices[indices_offset + i] = best_index;
}

KERNEL avg_pool2d_forward(GLOBAL const float* x, i64 x_offset, GLOBAL float* y, i64 y_offset, pool_t g, i64 count)
{
    i64 i = GID(0);
    if (i >= count) return;
    int ow = (int)(i % g.ow);
    i64 rest = i / g.ow;
    int oh = (int)(rest % g.oh);
    i64 plane = rest / g.oh;
    int top = oh * g.sh - g.ph, left = ow * g.sw - g.pw;
    int h0 = clip_low(top), h1 = clip_high(top + g.kh, g.h);
    int w0 = clip_low(left), w1 = clip_high(left + g.kw, g.w);
    GLOBAL const float* input = x + x_offset + plane * g.h * g.w;
    float sum = 0.0f;
    for (int h = h0; h < h1; h++)
        for (int w = w0; w < w1; w++) sum += input[h * g.w + w];
    y[y_offset + i] = sum * (1.0f / (float)(g.kh * g.kw));
}

/// dx[plane, h, w] = Σ dy[plane, o] over the windows o whose recorded winner is (h, w).
KERNEL max_pool2d_backward(GLOBAL const float* dy, i64 dy_offset, GLOBAL const i32* indices, i64 indices_offset,
                           GLOBAL float* dx, i64 dx_offset, pool_t g, i64 count)
{
    i64 i = GID(0);
    if (i >= count) return;
    int w = (int)(i % g.w);
    i64 rest = i / g.w;
    int h = (int)(rest % g.h);
    i64 plane = rest / g.h;
    int flat = h * g.w + w;
    int oh1 = last_window(h, g.sh, g.ph, g.oh), ow1 = last_window(w, g.sw, g.pw, g.ow);
    i64 outputs = plane * g.oh * g.ow;
    float sum = 0.0f;
    for (int oh = first_window(h, g.kh, g.sh, g.ph); oh <= oh1; oh++)
        for (int ow = first_window(w, g.kw, g.sw, g.pw); ow <= ow1; ow++)
        {
            i64 o = outputs + oh * g.ow + ow;
            if (indices[indices_offset + o] == flat) sum += dy[dy_offset + o];
        }
    dx[dx_offset + i] = sum;
}

/// dx[plane, h, w] = Σ dy[plane, o] / (KH·KW) over the windows o covering (h, w).
KERNEL avg_pool2d_backward(GLOBAL const float* dy, i64 dy_offset, GLOBAL float* dx, i64 dx_offset, pool_t g, i64 count)
{
    i64 i = GID(0);
    if (i >= count) return;
    int w = (int)(i % g.w);
    i64 rest = i / g.w;
    int h = (int)(rest % g.h);
    i64 plane = rest / g.h;
    int oh1 = last_window(h, g.sh, g.ph, g.oh), ow1 = last_window(w, g.sw, g.pw, g.ow);
    i64 outputs = plane * g.oh * g.ow;
    float scale = 1.0f / (float)(g.kh * g.kw);
    float sum = 0.0f;
    for (int oh = first_window(h, g.kh, g.sh, g.ph); oh <= oh1; oh++)
        for (int ow = first_window(w, g.kw, g.sw, g.pw); ow <= ow1; ow++)
            sum += dy[dy_offset + outputs + oh * g.ow + ow] * scale;
    dx[dx_offset + i] = sum;
}
