// A cuBLAS call that returned an error status, named both ways: "cublasSgemmStridedBatched failed:
// CUBLAS_STATUS_EXECUTION_FAILED (13)". The GPU backend catches it, turns cuBLAS off for the device and runs its own
// GEMM kernels (GpuBackend.MatMul.cs).
namespace Standalone.Backends.Gpu.Vendor;

public sealed class CuBlasException(string call, int status)
    : Exception($"cuBLAS: {call} failed: {StatusName(status)} ({status})")
{
    public string Call { get; } = call;
    public int Status { get; } = status;

    /// <summary>cublasStatus_t names (cublas_api.h).</summary>
    public static string StatusName(int status) => status switch
    {
        0 => "CUBLAS_STATUS_SUCCESS",
        1 => "CUBLAS_STATUS_NOT_INITIALIZED",
        3 => "CUBLAS_STATUS_ALLOC_FAILED",
        7 => "CUBLAS_STATUS_INVALID_VALUE",
        8 => "CUBLAS_STATUS_ARCH_MISMATCH",
        11 => "CUBLAS_STATUS_MAPPING_ERROR",
        13 => "CUBLAS_STATUS_EXECUTION_FAILED",
        14 => "CUBLAS_STATUS_INTERNAL_ERROR",
        15 => "CUBLAS_STATUS_NOT_SUPPORTED",
        16 => "CUBLAS_STATUS_LICENSE_ERROR",
        _ => "unknown cuBLAS status",
    };
}
