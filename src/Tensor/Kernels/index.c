// Index primitives with Int64 indices, with the CPU backend's semantics (CpuBackend.Index.cs):
// - gather_columns: y[r] = x[r, index[r]] for a contiguous x [rows, cols]; one work item per row;
// - scatter_add_columns: x[r, index[r]] += values[r]; one work item per row, and row r only ever touches row r of x,
//   so no two items write the same element and no atomics are needed;
// - index_select_4 / _8: y = x.index_select(axis, index) for 4-byte (float, int32) and 8-byte (int64) elements, with x
//   seen as [outer, axis_size, inner] and y as [outer, count, inner]; one work item per element of y.
// The index vectors are rank 1 with any stride. index_check runs first and raises a flag for an index out of range;
// the host reads it and throws before any kernel reads through a bad index (so a rejected scatter-add leaves x as it
// was).

/// bad[0] = 1 when some index[offset + i·stride], i < count, lies outside [0, limit).
KERNEL index_check(GLOBAL const i64* index, i64 offset, i64 stride, i64 count, i64 limit, GLOBAL i32* bad)
{
    i64 i = GID(0);
    if (i >= count) return;
    i64 v = index[offset + i * stride];
    if (v < 0 || v >= limit) bad[0] = 1;
}

KERNEL gather_columns(GLOBAL const float* x, i64 x_offset, i64 cols, GLOBAL const i64* index, i64 index_offset,
                      i64 index_stride, GLOBAL float* y, i64 y_offset, i64 y_stride, i64 rows)
{
    i64 r = GID(0);
    if (r >= rows) return;
    y[y_offset + r * y_stride] = x[x_offset + r * cols + index[index_offset + r * index_stride]];
}

KERNEL scatter_add_columns(GLOBAL float* x, i64 x_offset, i64 cols, GLOBAL const i64* index, i64 index_offset,
                           i64 index_stride, GLOBAL const float* values, i64 values_offset, i64 values_stride, i64 rows)
{
    i64 r = GID(0);
    if (r >= rows) return;
    x[x_offset + r * cols + index[index_offset + r * index_stride]] += values[values_offset + r * values_stride];
}

// One body for both element sizes: y[o, k, j] = x[o, index[k], j], element i of y = (o·count + k)·inner + j.
#define INDEX_SELECT(name, type)                                                                                     \
    KERNEL name(GLOBAL const type* x, i64 x_offset, i64 axis_size, GLOBAL const i64* index, i64 index_offset,        \
                i64 index_stride, GLOBAL type* y, i64 y_offset, i64 count, i64 inner, i64 total)                     \
    {                                                                                                                \
        i64 i = GID(0);                                                                                              \
        if (i >= total) return;                                                                                      \
        i64 j = i % inner, rest = i / inner;                                                                         \
        i64 k = rest % count, o = rest / count;                                                                      \
        y[y_offset + i] = x[x_offset + (o * axis_size + index[index_offset + k * index_stride]) * inner + j];        \
    }

INDEX_SELECT(index_select_4, i32)
INDEX_SELECT(index_select_8, i64)
