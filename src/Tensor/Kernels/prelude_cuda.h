// CUDA C++ prelude for NVRTC: the same dialect-neutral names as prelude_opencl.h, mapped onto CUDA.
typedef long long i64;
typedef int i32;
#define KERNEL extern "C" __global__ void
#define DEVICE_FN __device__ inline
#define GLOBAL
#define LOCAL
#define SHARED(type, name, count) __shared__ type name[count]
#define BARRIER() __syncthreads()
__device__ inline unsigned int dim3_at(dim3 v, int d) { return d == 0 ? v.x : d == 1 ? v.y : v.z; }
__device__ inline unsigned int uint3_at(uint3 v, int d) { return d == 0 ? v.x : d == 1 ? v.y : v.z; }
#define GID(d) ((i64)uint3_at(blockIdx, d) * dim3_at(blockDim, d) + uint3_at(threadIdx, d))
#define GSIZE(d) ((i64)dim3_at(gridDim, d) * dim3_at(blockDim, d))
#define LID(d) ((int)uint3_at(threadIdx, d))
#define LSIZE(d) ((int)dim3_at(blockDim, d))
#define GROUP(d) ((int)uint3_at(blockIdx, d))
#define NGROUPS(d) ((int)dim3_at(gridDim, d))
#define INF_F __int_as_float(0x7f800000)
