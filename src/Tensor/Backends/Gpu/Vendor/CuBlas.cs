// cuBLAS (libcublas.so.*), the optional NVIDIA BLAS: only handle management and SGEMM, bound through function pointers
// after loading the newest copy this machine has (NativeProbe), so that a machine without cuBLAS never fails — the
// backend then runs its own GEMM kernel (docs/architecture.md: vendor libraries are used when found, always with a fallback).
// cuBLAS works in the context current on the calling thread (the device's primary context) and, after SetStream, on
// the backend's stream, so its work is ordered with the backend's own kernels.
//
// cuBLAS is column-major. A row-major matrix read as column-major is its transpose, so the row-major product
// C = op(A)·op(B) (C is m×n) is computed as the column-major Cᵀ = op(B)ᵀ·op(A)ᵀ: pass B before A, swap m and n,
// keep each operand's transpose flag, and use the row-major row lengths as leading dimensions:
//     Sgemm(handle, opB, opA, n, m, k, alpha, B, ldb, A, lda, beta, C, ldc)
// with lda = (transA ? m : k), ldb = (transB ? k : n), ldc = n for contiguous row-major operands.
using System.Runtime.InteropServices;

namespace Standalone.Backends.Gpu.Vendor;

internal static unsafe class CuBlas
{
    // cublasOperation_t, cublasMath_t, libraryPropertyType.
    public const int OpN = 0, OpT = 1;
    public const int DefaultMath = 0, PedanticMath = 2, Tf32TensorOpMath = 3;
    private const int MajorVersion = 0, MinorVersion = 1, PatchLevel = 2;

    /// <summary>The sonames cuBLAS has shipped under, newest first.</summary>
    private static readonly string[] Sonames = ["libcublas.so", "libcublas.so.13", "libcublas.so.12", "libcublas.so.11", "libcublas.so.10"];

    private static readonly Lazy<(Entries? Loaded, string? Unavailable)> State = new(() =>
        NativeProbe.Load("cuBLAS", "libcublas", Sonames, "cublas", "cublasGetProperty", ReadVersion, found => new Entries(found)));

    /// <summary>True when a cuBLAS library loaded (looked for once, on first use).</summary>
    public static bool Available => State.Value.Loaded != null;

    /// <summary>Why cuBLAS is not available, or null when it is.</summary>
    public static string? Unavailable => State.Value.Unavailable;

    /// <summary>cuBLAS's version (major, minor, patch), null when unavailable.</summary>
    public static Version? Version => State.Value.Loaded?.Found.Version;

    /// <summary>The file cuBLAS was loaded from, or null when unavailable.</summary>
    public static string? LibraryPath => State.Value.Loaded?.Found.Path;

    private static Entries Loaded => State.Value.Loaded ?? throw new InvalidOperationException($"CUDA: cuBLAS is not available ({Unavailable})");

    /// <summary>A new cuBLAS handle for the context current on this thread.</summary>
    public static nint Create()
    {
        nint handle;
        Check(Loaded.Create(&handle), "cublasCreate");
        return handle;
    }

    public static void Destroy(nint handle) => Check(Loaded.Destroy(handle), "cublasDestroy");

    public static void SetStream(nint handle, nint stream) => Check(Loaded.SetStream(handle, stream), "cublasSetStream");

    /// <summary>DefaultMath, PedanticMath (no TF32, bit-faithful FP32) or Tf32TensorOpMath.</summary>
    public static void SetMathMode(nint handle, int mode) => Check(Loaded.SetMathMode(handle, mode), "cublasSetMathMode");

    /// <summary>Column-major C = alpha·op(A)·op(B) + beta·C (C is m×n, op(A) m×k); alpha and beta from host memory.</summary>
    public static void Sgemm(nint handle, int transA, int transB, int m, int n, int k, float alpha, ulong a, int lda,
        ulong b, int ldb, float beta, ulong c, int ldc) =>
        Check(Loaded.Sgemm(handle, transA, transB, m, n, k, &alpha, a, lda, b, ldb, &beta, c, ldc), "cublasSgemm");

    /// <summary>
    /// <see cref="Sgemm"/> over batchCount matrices, the i-th at a + i·strideA (strides in elements; 0 repeats one
    /// matrix across the batch).
    /// </summary>
    public static void SgemmStridedBatched(nint handle, int transA, int transB, int m, int n, int k, float alpha,
        ulong a, int lda, long strideA, ulong b, int ldb, long strideB, float beta, ulong c, int ldc, long strideC, int batchCount) =>
        Check(Loaded.SgemmStridedBatched(handle, transA, transB, m, n, k, &alpha, a, lda, strideA, b, ldb, strideB, &beta, c, ldc, strideC, batchCount),
            "cublasSgemmStridedBatched");

    /// <summary>Throws <see cref="CuBlasException"/> naming the call and the status when status is not CUBLAS_STATUS_SUCCESS.</summary>
    public static void Check(int status, string call)
    {
        if (status != 0) throw new CuBlasException(call, status);
    }

    private static Version? ReadVersion(nint library)
    {
        if (!NativeLibrary.TryGetExport(library, "cublasGetProperty", out var entry)) return null;
        var getProperty = (delegate* unmanaged<int, int*, int>)entry;
        int major, minor, patch;
        return getProperty(MajorVersion, &major) == 0 && getProperty(MinorVersion, &minor) == 0 && getProperty(PatchLevel, &patch) == 0
            ? new Version(major, minor, patch) : null;
    }

    /// <summary>The entry points of the loaded library (cublas_api.h; handles and streams = nint, device pointers = ulong).</summary>
    private sealed class Entries
    {
        public readonly NativeProbe.Found Found;
        public readonly delegate* unmanaged<nint*, int> Create;
        public readonly delegate* unmanaged<nint, int> Destroy;
        public readonly delegate* unmanaged<nint, nint, int> SetStream;
        public readonly delegate* unmanaged<nint, int, int> SetMathMode;
        public readonly delegate* unmanaged<nint, int, int, int, int, int, float*, ulong, int, ulong, int, float*, ulong, int, int> Sgemm;
        public readonly delegate* unmanaged<nint, int, int, int, int, int, float*, ulong, int, long, ulong, int, long, float*, ulong, int, long, int, int> SgemmStridedBatched;

        public Entries(NativeProbe.Found found)
        {
            Found = found;
            nint library = found.Handle;
            Create = (delegate* unmanaged<nint*, int>)NativeLibrary.GetExport(library, "cublasCreate_v2");
            Destroy = (delegate* unmanaged<nint, int>)NativeLibrary.GetExport(library, "cublasDestroy_v2");
            SetStream = (delegate* unmanaged<nint, nint, int>)NativeLibrary.GetExport(library, "cublasSetStream_v2");
            SetMathMode = (delegate* unmanaged<nint, int, int>)NativeLibrary.GetExport(library, "cublasSetMathMode");
            Sgemm = (delegate* unmanaged<nint, int, int, int, int, int, float*, ulong, int, ulong, int, float*, ulong, int, int>)
                NativeLibrary.GetExport(library, "cublasSgemm_v2");
            SgemmStridedBatched = (delegate* unmanaged<nint, int, int, int, int, int, float*, ulong, int, long, ulong, int, long, float*, ulong, int, long, int, int>)
                NativeLibrary.GetExport(library, "cublasSgemmStridedBatched");
        }
    }
}
