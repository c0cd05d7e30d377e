// Reductions: Sum / Max / Min over any set of axes of a contiguous tensor, and the row-wise ArgMax.
//
// The host merges neighbouring dims that are both reduced or both kept, then describes the work as outputs j and
// reduction positions k in [0, length):
//   element (j, k) = x[view_at(kept, j) + view_at(outer, k / run) + (k % run)·run_stride]
// `kept` places output j (its offset is x's), the reduction is a sequence of runs of `run` elements (the innermost
// reduced dim, run_stride apart) placed by `outer` (the other reduced dims, offset 0). fold_range walks the runs, so
// view_at is paid once per run rather than once per element.
//
// Two kernels, chosen by the host from the layout:
// - reduce_groups: a work group per (output, chunk); its items stride along the run (coalesced when the innermost dim
//   is reduced), then fold their values in a tree in local memory;
// - reduce_items: a work item per (output, chunk), adjacent items on adjacent outputs (coalesced when the innermost
//   dim is kept, e.g. a sum over the batch of [N, F]).
// When an output's reduction is split into chunks, both write partial results [outputs, chunks] that the host folds
// with a second launch. Max and Min propagate NaN like the CPU (Math.Max / Math.Min): any NaN gives NaN.

#define R_SUM 0
#define R_MAX 1
#define R_MIN 2

// The largest work group the host launches (a power of two): the size of the local-memory trees.
#define REDUCE_GROUP 256

DEVICE_FN float reduce_identity(int op)
{
    return op == R_SUM ? 0.0f : op == R_MAX ? -INF_F : INF_F;
}

DEVICE_FN float reduce_combine(int op, float a, float b)
{
    switch (op)
    {
        case R_SUM: return a + b;
        case R_MAX: return IS_NAN(a) || a > b ? a : b;
        default: return IS_NAN(a) || a < b ? a : b;
    }
}

/// Folds the reduction positions k in [k0, k1) of the output at x[base] that this work item takes: runs
/// first_run, first_run + run_step, ... (counted from the run holding k0) and, within each, positions
/// first_in_run, first_in_run + in_run_step, ...
DEVICE_FN float fold_range(int op, GLOBAL const float* x, i64 base, const view_t* outer, i64 run, i64 run_stride,
                           i64 k0, i64 k1, int first_run, int run_step, int first_in_run, int in_run_step)
{
    float acc = reduce_identity(op);
    if (k1 <= k0) return acc;
    i64 last_run = (k1 - 1) / run;
    for (i64 q = k0 / run + first_run; q <= last_run; q += run_step)
    {
        i64 start = q * run;
        i64 lo = k0 > start ? k0 - start : 0;
        i64 hi = k1 - start < run ? k1 - start : run;
        GLOBAL const float* p = x + base + view_at(outer, q);
        for (i64 r = lo + first_in_run; r < hi; r += in_run_step) acc = reduce_combine(op, acc, p[r * run_stride]);
    }
    return acc;
}

/// A work group per (output j, chunk), launched as outputs·chunks groups: writes y[y_offset + j·chunks + chunk].
KERNEL reduce_groups(int op, GLOBAL const float* x, view_t kept, view_t outer, i64 run, i64 run_stride, i64 length,
                     i64 chunk_length, int chunks, GLOBAL float* y, i64 y_offset)
{
    SHARED(float, partial, REDUCE_GROUP);
    int lid = LID(0), size = LSIZE(0);
    i64 group = GROUP(0);
    i64 j = group / chunks, chunk = group % chunks;
    i64 k0 = chunk * chunk_length;
    i64 k1 = k0 + chunk_length < length ? k0 + chunk_length : length;
    // Items share a run when it is at least as long as the group; shorter runs are taken `rows` at a time, each
    // by `width` items, so that no item idles on a short run.
    int width = run < size ? (int)run : size;
    int rows = size / width;
    float acc = reduce_identity(op);
    if (lid / width < rows)
        acc = fold_range(op, x, view_at(&kept, j), &outer, run, run_stride, k0, k1, lid / width, rows, lid % width, width);
    partial[lid] = acc;
    BARRIER();
    for (int step = size / 2; step > 0; step /= 2)
    {
        if (lid < step) partial[lid] = reduce_combine(op, partial[lid], partial[lid + step]);
        BARRIER();
    }
    if (lid == 0) y[y_offset + group] = partial[0];
}

/// A work item per (output j, chunk), item i = chunk·outputs + j: writes y[y_offset + j·chunks + chunk].
KERNEL reduce_items(int op, GLOBAL const float* x, view_t kept, view_t outer, i64 run, i64 run_stride, i64 length,
                    i64 chunk_length, int chunks, i64 outputs, GLOBAL float* y, i64 y_offset)
{
    i64 i = GID(0);
    if (i >= outputs * chunks) return;
    i64 chunk = i / outputs, j = i % outputs;
    i64 k0 = chunk * chunk_length;
    i64 k1 = k0 + chunk_length < length ? k0 + chunk_length : length;
    y[y_offset + j * chunks + chunk] = fold_range(op, x, view_at(&kept, j), &outer, run, run_stride, k0, k1, 0, 1, 0, 1);
}

/// True when (a at index ia) beats (b at ib) for argmax: a NaN beats any number (the earlier NaN wins, PyTorch's
/// argmax), else the larger value wins and a tie goes to the lower index. A total order, so any fold order agrees.
DEVICE_FN int argmax_beats(float a, i64 ia, float b, i64 ib)
{
    if (IS_NAN(a) || IS_NAN(b)) return IS_NAN(a) && (!IS_NAN(b) || ia < ib);
    return a > b || (a == b && ia < ib);
}

/// A work group per row of a contiguous [rows, cols] x: y[y_offset + row] = index of the row's first maximum.
KERNEL argmax_rows(GLOBAL const float* x, i64 x_offset, i64 cols, GLOBAL i64* y, i64 y_offset)
{
    SHARED(float, best_value, REDUCE_GROUP);
    SHARED(i64, best_index, REDUCE_GROUP);
    int lid = LID(0), size = LSIZE(0);
    i64 row = GROUP(0);
    GLOBAL const float* p = x + x_offset + row * cols;
    // (−∞, cols) loses to every element of the row, so it stands for "nothing seen yet".
    float value = -INF_F;
    i64 index = cols;
    for (i64 c = lid; c < cols; c += size)
        if (argmax_beats(p[c], c, value, index))
        {
            value = p[c];
            index = c;
        }
    best_value[lid] = value;
    best_index[lid] = index;
    BARRIER();
    for (int step = size / 2; step > 0; step /= 2)
    {
        if (lid < step && argmax_beats(best_value[lid + step], best_index[lid + step], best_value[lid], best_index[lid]))
        {
            best_value[lid] = best_value[lid + step];
            best_index[lid] = best_index[lid + step];
        }
        BARRIER();
    }
    if (lid == 0) y[y_offset + row] = best_index[0];
}
