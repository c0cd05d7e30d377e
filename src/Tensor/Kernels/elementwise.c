// Copy, fill, unary and binary element-wise kernels. The op numbers are the host's UnaryOp / BinaryOp enum values
// (Ops.cs); a work item handles one output element. Contiguous operands take the *_contig kernels; any view (strided,
// broadcast with stride 0) takes the *_view kernels, which map the output position through view_at.

// UnaryOp
#define U_NEG 1
#define U_ABS 2
#define U_SIGN 3
#define U_EXP 4
#define U_LOG 5
#define U_SQRT 6
#define U_RSQRT 7
#define U_SQUARE 8
#define U_RECIPROCAL 9
#define U_RELU 10
#define U_TANH 11
#define U_SIGMOID 12
#define U_AFFINE 13
#define U_POW 14
#define U_CLAMP 15
#define U_GREATER 16
#define U_STABILIZE 17

// BinaryOp
#define B_ADD 0
#define B_SUB 1
#define B_MUL 2
#define B_DIV 3
#define B_MAX 4
#define B_MIN 5
#define B_POW 6
#define B_RELU_BACKWARD 7
#define B_EQUAL 8
#define B_ADD_RELU 9

DEVICE_FN float sign_of(float x) { return IS_NAN(x) ? x : (float)((x > 0.0f) - (x < 0.0f)); }

DEVICE_FN float unary_op(int op, float x, float alpha, float beta)
{
    switch (op)
    {
        case U_NEG: return -x;
        case U_ABS: return fabsf(x);
        case U_SIGN: return sign_of(x);
        case U_EXP: return expf(x);
        case U_LOG: return logf(x);
        case U_SQRT: return sqrtf(x);
        case U_RSQRT: return 1.0f / sqrtf(x);
        case U_SQUARE: return x * x;
        case U_RECIPROCAL: return 1.0f / x;
        case U_RELU: return x > 0.0f ? x : 0.0f;
        case U_TANH: return tanhf(x);
        case U_SIGMOID: return 1.0f / (1.0f + expf(-x));
        case U_AFFINE: return x * alpha + beta;
        case U_POW: return powf(x, alpha);
        case U_CLAMP: return fminf(fmaxf(x, alpha), beta);
        case U_GREATER: return x > alpha ? 1.0f : 0.0f;
        case U_STABILIZE: return x == 0.0f ? INF_F : x + alpha * (IS_NAN(x) ? 0.0f : sign_of(x));
        default: return x;
    }
}

DEVICE_FN float binary_op(int op, float a, float b)
{
    switch (op)
    {
        case B_ADD: return a + b;
        case B_SUB: return a - b;
        case B_MUL: return a * b;
        case B_DIV: return a / b;
        case B_MAX: return IS_NAN(a) || a > b ? a : b;
        case B_MIN: return IS_NAN(a) || a < b ? a : b;
        case B_POW: return powf(a, b);
        case B_RELU_BACKWARD: return b > 0.0f ? a : 0.0f;
        case B_EQUAL: return a == b ? 1.0f : 0.0f;
        case B_ADD_RELU: { float s = a + b; return s > 0.0f ? s : 0.0f; }
        default: return a;
    }
}

KERNEL fill_f32(GLOBAL float* y, view_t v, float value, i64 n)
{
    i64 i = GID(0);
    if (i < n) y[view_at(&v, i)] = value;
}

KERNEL fill_i32(GLOBAL i32* y, view_t v, i32 value, i64 n)
{
    i64 i = GID(0);
    if (i < n) y[view_at(&v, i)] = value;
}

KERNEL fill_i64(GLOBAL i64* y, view_t v, i64 value, i64 n)
{
    i64 i = GID(0);
    if (i < n) y[view_at(&v, i)] = value;
}

/// Copies 4-byte elements (float or int32) between any two views of the same shape.
KERNEL copy_4(GLOBAL const i32* x, view_t xv, GLOBAL i32* y, view_t yv, i64 n)
{
    i64 i = GID(0);
    if (i < n) y[view_at(&yv, i)] = x[view_at(&xv, i)];
}

/// Copies 8-byte elements (int64) between any two views of the same shape.
KERNEL copy_8(GLOBAL const i64* x, view_t xv, GLOBAL i64* y, view_t yv, i64 n)
{
    i64 i = GID(0);
    if (i < n) y[view_at(&yv, i)] = x[view_at(&xv, i)];
}

KERNEL unary_contig(int op, GLOBAL const float* x, i64 x_offset, GLOBAL float* y, i64 y_offset, i64 n, float alpha, float beta)
{
    i64 i = GID(0);
    if (i < n) y[y_offset + i] = unary_op(op, x[x_offset + i], alpha, beta);
}

KERNEL unary_view(int op, GLOBAL const float* x, view_t xv, GLOBAL float* y, i64 y_offset, i64 n, float alpha, float beta)
{
    i64 i = GID(0);
    if (i < n) y[y_offset + i] = unary_op(op, x[view_at(&xv, i)], alpha, beta);
}

KERNEL binary_contig(int op, GLOBAL const float* a, i64 a_offset, GLOBAL const float* b, i64 b_offset, GLOBAL float* y, i64 y_offset, i64 n)
{
    i64 i = GID(0);
    if (i < n) y[y_offset + i] = binary_op(op, a[a_offset + i], b[b_offset + i]);
}

KERNEL binary_view(int op, GLOBAL const float* a, view_t av, GLOBAL const float* b, view_t bv, GLOBAL float* y, i64 y_offset, i64 n)
{
    i64 i = GID(0);
    if (i < n) y[y_offset + i] = binary_op(op, a[view_at(&av, i)], b[view_at(&bv, i)]);
}
