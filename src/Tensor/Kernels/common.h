// Shared by every kernel source (after the prelude): the strided view a primitive receives for an operand that may be
// any view — the same layout as the host's ClView struct (rank ≤ 8, element strides and offset).
#define MAX_RANK 8

typedef struct
{
    i64 shape[MAX_RANK];
    i64 stride[MAX_RANK];
    i64 offset;
    i32 rank;
    i32 unused;
} view_t;

/// The element index of the linear (row-major) position i of view v.
DEVICE_FN i64 view_at(const view_t* v, i64 i)
{
    i64 at = v->offset;
    for (int d = v->rank - 1; d >= 0; d--)
    {
        i64 n = v->shape[d];
        at += (i % n) * v->stride[d];
        i /= n;
    }
    return at;
}

#define IS_NAN(x) ((x) != (x))
