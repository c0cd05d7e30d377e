// CLBlast (libclblast.so.1), the optional tuned OpenCL BLAS: only CLBlastSgemm, bound through a function pointer
// after NativeLibrary.TryLoad so that a machine without CLBlast never fails — the backend then runs its own GEMM
// kernel (docs/architecture.md: vendor libraries are used when found at run time, always with an own-kernel fallback).
// CLBlast runs on the caller's queue and context, so its work is ordered with the backend's own kernels.
using System.Runtime.InteropServices;

namespace Standalone.Backends.Gpu.Vendor;

internal static unsafe class ClBlast
{
    public const string Library = "libclblast.so.1";

    // clblast_c.h enums: CLBlastLayout, CLBlastTranspose.
    public const int RowMajor = 101, NoTranspose = 111, Transpose = 112;

    private static readonly Lazy<nint> SgemmEntry = new(LoadSgemm);

    /// <summary>True when libclblast.so.1 loaded and exports CLBlastSgemm (looked for once, on first use).</summary>
    public static bool Available => SgemmEntry.Value != 0;

    private static nint LoadSgemm() =>
        NativeLibrary.TryLoad(Library, typeof(ClBlast).Assembly, null, out var library) &&
        NativeLibrary.TryGetExport(library, "CLBlastSgemm", out var sgemm) ? sgemm : 0;

    /// <summary>
    /// CLBlastSgemm(layout, a_transpose, b_transpose, m, n, k, alpha, a, a_offset, a_ld, b, b_offset, b_ld, beta, c,
    /// c_offset, c_ld, queue*, event*): offsets and leading dimensions in elements. Returns a CLBlastStatusCode.
    /// </summary>
    public static int Sgemm(bool transA, bool transB, long m, long n, long k, float alpha, nint a, long aOffset, long lda,
        nint b, long bOffset, long ldb, float beta, nint c, long cOffset, long ldc, nint queue)
    {
        var sgemm = (delegate* unmanaged<int, int, int, nuint, nuint, nuint, float, nint, nuint, nuint, nint, nuint, nuint,
            float, nint, nuint, nuint, nint*, nint*, int>)SgemmEntry.Value;
        if (sgemm == null) throw new InvalidOperationException($"{Library} is not loaded");
        return sgemm(RowMajor, transA ? Transpose : NoTranspose, transB ? Transpose : NoTranspose,
            (nuint)m, (nuint)n, (nuint)k, alpha, a, (nuint)aOffset, (nuint)lda, b, (nuint)bOffset, (nuint)ldb,
            beta, c, (nuint)cOffset, (nuint)ldc, &queue, null);
    }

    /// <summary>The name of a CLBlastStatusCode (CLBlast's own codes; OpenCL codes are passed through by CLBlast).</summary>
    public static string StatusName(int status) => status switch
    {
        -2050 => "CLBlastInsufficientMemoryTemp",
        -2049 => "CLBlastInvalidBatchCount",
        -2048 => "CLBlastInvalidOverrideKernel",
        -2047 => "CLBlastMissingOverrideParameter",
        -2046 => "CLBlastInvalidLocalMemUsage",
        -2045 => "CLBlastNoHalfPrecision",
        -2044 => "CLBlastNoDoublePrecision",
        -2043 => "CLBlastInvalidVectorScalar",
        -2042 => "CLBlastInsufficientMemoryScalar",
        -2041 => "CLBlastDatabaseError",
        -2040 => "CLBlastUnknownError",
        -2039 => "CLBlastUnexpectedError",
        -1024 => "CLBlastNotImplemented",
        -1022 => "CLBlastInvalidMatrixA",
        -1021 => "CLBlastInvalidMatrixB",
        -1020 => "CLBlastInvalidMatrixC",
        -1017 => "CLBlastInvalidDimension",
        -1016 => "CLBlastInvalidLeadDimA",
        -1015 => "CLBlastInvalidLeadDimB",
        -1014 => "CLBlastInvalidLeadDimC",
        -1011 => "CLBlastInsufficientMemoryA",
        -1010 => "CLBlastInsufficientMemoryB",
        -1009 => "CLBlastInsufficientMemoryC",
        _ => $"OpenCL status {status}",
    };
}
