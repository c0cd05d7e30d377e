// Per-channel primitives behind batch normalisation, over contiguous [N, C, S] tensors (S = H·W), with the CPU
// backend's semantics (CpuBackend.Norm.cs):
// - channel_sums + channel_sums_finish: per channel, two sums over its N·S elements, then the results;
//   SUMS_MEAN_VAR: Σ(x − K) and Σ(x − K)² with K = x[0, c, 0] → mean = K + Σ(x − K)/n and the biased variance
//   max(0, Σ(x − K)²/n − (Σ(x − K)/n)²) — the shift keeps the variance accurate when |mean| ≫ std;
//   SUMS_GRAD: Σ dy and Σ dy·(x − center[c]) (batch-norm backward), dy through an optional ReLU gate, the gated dy
//   optionally written out.
//   channel_sums runs a work group per (channel, chunk) — a channel's N·S elements are split into chunks so that a
//   few channels of many elements still fill the device — and writes the two partial sums of each; the finish kernel
//   folds a channel's chunks. Within a group, items read along each image's S elements (coalesced) and fold in a tree.
// - channel_affine: y = x·scale[c] + shift[c] (+ x2·scale2[c], a missing scale2 counting as 1), through max(0, ·) when
//   relu (NaN to 0, as the relu kernel), x taken as 0 where an optional ReLU gate is closed, one work item per
//   element on a 2-D range (position s, row n·C + c), so the channel comes from the row without a 64-bit division.
//   y may be x or x2: each element is read before it is written.

#define SUMS_MEAN_VAR 0
#define SUMS_GRAD 1

// ReLU gates (ReluGateView): none; open where values > 0; open where values·scale[c] + shift[c] > 0.
#define GATE_NONE 0
#define GATE_POSITIVE 1
#define GATE_AFFINE 2

/// The batch-norm affine value x·a + b, as one fused multiply-add: channel_affine computes a ReLU's input with it
/// and gate_open recomputes it, so the two agree bit for bit whatever the compiler would contract on its own.
DEVICE_FN float affine_value(float x, float a, float b) { return fmaf(x, a, b); }

/// Whether the gate lets element i (of channel c) through.
DEVICE_FN int gate_open(int gate, GLOBAL const float* values, i64 values_offset, GLOBAL const float* scale, i64 scale_offset,
                        GLOBAL const float* shift, i64 shift_offset, i64 i, int c)
{
    if (gate == GATE_NONE) return 1;
    float v = values[values_offset + i];
    if (gate == GATE_AFFINE) v = affine_value(v, scale[scale_offset + c], shift[shift_offset + c]);
    return v > 0.0f;
}

// The largest work group the host launches (a power of two): the size of the local-memory trees.
#define CHANNEL_GROUP 256

/// Folds a and b over the group into a_tree[0] and b_tree[0] (size is a power of two).
DEVICE_FN void fold_pair(LOCAL float* a_tree, LOCAL float* b_tree, float a, float b, int lid, int size)
{
    a_tree[lid] = a;
    b_tree[lid] = b;
    BARRIER();
    for (int step = size / 2; step > 0; step /= 2)
    {
        if (lid < step)
        {
            a_tree[lid] += a_tree[lid + step];
            b_tree[lid] += b_tree[lid + step];
        }
        BARRIER();
    }
}

/// Work group (c, chunk) of channels·chunks folds positions k = n·S + s in [chunk·chunk_length, ...) of channel c and
/// writes partial[2·(c·chunks + chunk)] and the next element.
KERNEL channel_sums(int mode, GLOBAL const float* x, i64 x_offset, GLOBAL const float* dy, i64 dy_offset,
                    GLOBAL const float* center, i64 center_offset,
                    int gate, GLOBAL const float* gate_values, i64 gate_values_offset, GLOBAL const float* gate_scale, i64 gate_scale_offset,
                    GLOBAL const float* gate_shift, i64 gate_shift_offset, int has_gated, GLOBAL float* gated, i64 gated_offset,
                    i64 n, int channels, i64 s, i64 chunk_length, int chunks, GLOBAL float* partial)
{
    SHARED(float, a_tree, CHANNEL_GROUP);
    SHARED(float, b_tree, CHANNEL_GROUP);
    int lid = LID(0), size = LSIZE(0);
    int group = GROUP(0);
    int c = group / chunks, chunk = group % chunks;
    i64 length = n * s;
    i64 k0 = chunk * chunk_length;
    i64 k1 = k0 + chunk_length < length ? k0 + chunk_length : length;
    float shift = mode == SUMS_MEAN_VAR ? x[x_offset + c * s] : center[center_offset + c];
    // Items share an image's run of S elements when it is at least as long as the group; shorter runs are taken
    // `rows` images at a time, each by `width` items.
    int width = s < size ? (int)s : size;
    int rows = size / width;
    float a = 0.0f, b = 0.0f;
    if (lid / width < rows && k1 > k0)
    {
        i64 last = (k1 - 1) / s;
        for (i64 image = k0 / s + lid / width; image <= last; image += rows)
        {
            i64 start = image * s;
            i64 lo = k0 > start ? k0 - start : 0;
            i64 hi = k1 - start < s ? k1 - start : s;
            i64 row = (image * channels + c) * s;
            for (i64 r = lo + lid % width; r < hi; r += width)
            {
                float v = x[x_offset + row + r] - shift;
                if (mode == SUMS_MEAN_VAR)
                {
                    a += v;
                    b += v * v;
                }
                else
                {
                    float g = dy[dy_offset + row + r];
                    if (!gate_open(gate, gate_values, gate_values_offset, gate_scale, gate_scale_offset, gate_shift, gate_shift_offset, row + r, c))
                        g = 0.0f;
                    if (has_gated) gated[gated_offset + row + r] = g;
                    a += g;
                    b += g * v;
                }
            }
        }
    }
    fold_pair(a_tree, b_tree, a, b, lid, size);
    if (lid == 0)
    {
        partial[2 * (i64)group] = a_tree[0];
        partial[2 * (i64)group + 1] = b_tree[0];
    }
}

/// A work group per channel: folds its chunks' partial sums and writes (mean, variance) or (Σ dy, Σ dy·(x − center)).
KERNEL channel_sums_finish(int mode, GLOBAL const float* partial, int chunks, GLOBAL const float* x, i64 x_offset, i64 s,
                           i64 count, GLOBAL float* first, i64 first_offset, GLOBAL float* second, i64 second_offset)
{
    SHARED(float, a_tree, CHANNEL_GROUP);
    SHARED(float, b_tree, CHANNEL_GROUP);
    int lid = LID(0), size = LSIZE(0);
    int c = GROUP(0);
    float a = 0.0f, b = 0.0f;
    for (int chunk = lid; chunk < chunks; chunk += size)
    {
        a += partial[2 * ((i64)c * chunks + chunk)];
        b += partial[2 * ((i64)c * chunks + chunk) + 1];
    }
    fold_pair(a_tree, b_tree, a, b, lid, size);
    if (lid != 0) return;
    if (mode == SUMS_MEAN_VAR)
    {
        float d = a_tree[0] / (float)count;
        first[first_offset + c] = x[x_offset + c * s] + d;
        float variance = b_tree[0] / (float)count - d * d;
        second[second_offset + c] = variance < 0.0f ? 0.0f : variance; // NaN stays NaN, as on the CPU
    }
    else
    {
        first[first_offset + c] = a_tree[0];
        second[second_offset + c] = b_tree[0];
    }
}

/// Work item (s, row) with row = n·C + c: y[row·S + s] = x·scale[c] + shift[c] (+ x2·scale2[c]).
KERNEL channel_affine(GLOBAL const float* x, i64 x_offset, GLOBAL const float* scale, i64 scale_offset,
                      GLOBAL const float* shift, i64 shift_offset, GLOBAL const float* x2, i64 x2_offset,
                      GLOBAL const float* scale2, i64 scale2_offset, int has_x2, int has_scale2, int relu,
                      int gate, GLOBAL const float* gate_values, i64 gate_values_offset, GLOBAL const float* gate_scale, i64 gate_scale_offset,
                      GLOBAL const float* gate_shift, i64 gate_shift_offset,
                      GLOBAL float* y, i64 y_offset, int channels, i64 s, int rows)
{
    i64 position = GID(0);
    int row = (int)GID(1);
    if (position >= s || row >= rows) return;
    int c = row % channels;
    i64 i = (i64)row * s + position;
    float xi = gate_open(gate, gate_values, gate_values_offset, gate_scale, gate_scale_offset, gate_shift, gate_shift_offset, i, c)
        ? x[x_offset + i] : 0.0f;
    float v = affine_value(xi, scale[scale_offset + c], shift[shift_offset + c]);
    if (has_x2) v += x2[x2_offset + i] * (has_scale2 ? scale2[scale2_offset + c] : 1.0f);
    y[y_offset + i] = relu ? (v > 0.0f ? v : 0.0f) : v;
}
