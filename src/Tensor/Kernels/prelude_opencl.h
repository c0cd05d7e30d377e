// OpenCL C 1.2 prelude: maps the dialect-neutral names the kernel sources use onto OpenCL. Kernel sources are written
// once (DESIGN.md "One kernel source, two dialects"); prelude_cuda.h maps the same names onto CUDA C++ for NVRTC.
typedef long i64;
typedef int i32;
#define KERNEL __kernel void
#define DEVICE_FN static inline
#define GLOBAL __global
#define LOCAL __local
#define SHARED(type, name, count) __local type name[count]
#define BARRIER() barrier(CLK_LOCAL_MEM_FENCE)
#define GID(d) ((i64)get_global_id(d))
#define GSIZE(d) ((i64)get_global_size(d))
#define LID(d) ((int)get_local_id(d))
#define LSIZE(d) ((int)get_local_size(d))
#define GROUP(d) ((int)get_group_id(d))
#define NGROUPS(d) ((int)get_num_groups(d))
#define INF_F INFINITY
// The sources use the C names of the float maths (expf, ...), which OpenCL spells without the suffix.
#define expf(x) exp(x)
#define logf(x) log(x)
#define sqrtf(x) sqrt(x)
#define rsqrtf(x) rsqrt(x)
#define tanhf(x) tanh(x)
#define powf(x, y) pow(x, y)
#define fabsf(x) fabs(x)
#define fminf(x, y) fmin(x, y)
#define fmaxf(x, y) fmax(x, y)
#define floorf(x) floor(x)
#define fmaf(x, y, z) fma(x, y, z)
