// Batched matrix multiply on top of CpuGemm, plus the two helpers every GEMM-based CPU primitive shares: a raw
// pointer into a view (buffers are pinned arrays, so the pointer stays valid) and a dtype dispatch to Sgemm/Dgemm.
using System.Runtime.CompilerServices;

namespace Standalone.Backends.Cpu;

public sealed unsafe partial class CpuBackend
{
    public void MatMul(in TensorView a, bool transA, in TensorView b, bool transB, in TensorView c, double alpha, double beta)
    {
        switch (c.DType)
        {
            case DType.Float32: MatMulTyped<float>(a, transA, b, transB, c, alpha, beta); break;
            case DType.Float64: MatMulTyped<double>(a, transA, b, transB, c, alpha, beta); break;
            default: throw Unsupported("matmul", c.DType);
        }
    }

    // Views hold the stored layout: a is [batch, M, K], or [batch, K, M] when transA (likewise b). A batch of size 1
    // broadcasts whatever its stride says.
    private static void MatMulTyped<T>(in TensorView a, bool transA, in TensorView b, bool transB, in TensorView c, double alpha, double beta)
        where T : unmanaged
    {
        int batch = c.Shape[0], m = c.Shape[1], n = c.Shape[2];
        int k = transA ? a.Shape[1] : a.Shape[2];
        if (batch == 0 || m == 0 || n == 0) return;
        long batchA = a.Shape[0] == 1 ? 0 : a.Strides[0];
        long batchB = b.Shape[0] == 1 ? 0 : b.Strides[0];
        long batchC = c.Strides[0];
        int lda = LeadingDim(a), ldb = LeadingDim(b), ldc = LeadingDim(c);
        T* pa = Pointer<T>(a), pb = Pointer<T>(b), pc = Pointer<T>(c);

        if (batch >= CpuParallel.ThreadCount && batch > 1)
        {
            CpuParallel.For(batch, i =>
                Gemm(transA, transB, m, n, k, alpha, pa + i * batchA, lda, pb + i * batchB, ldb, beta, pc + i * batchC, ldc, parallel: false));
            return;
        }
        for (int i = 0; i < batch; i++)
            Gemm(transA, transB, m, n, k, alpha, pa + i * batchA, lda, pb + i * batchB, ldb, beta, pc + i * batchC, ldc, parallel: true);
    }

    /// <summary>Row stride of a [batch, rows, cols] view; a single or empty row may carry any stride, so use the row length.</summary>
    private static int LeadingDim(in TensorView v) =>
        Math.Max(1, v.Shape[1] <= 1 || v.Shape[2] == 0 ? v.Shape[2] : checked((int)v.Strides[1]));

    /// <summary>Address of the view's first element. CPU buffers are pinned arrays, so no fixed block is needed.</summary>
    private static T* Pointer<T>(in TensorView v) where T : unmanaged => (T*)Unsafe.AsPointer(ref At(Arr<T>(v), v.Offset));

    /// <summary>Row-major C[m,n] = alpha·op(A)·op(B) + beta·C in T's precision (beta = 0 overwrites C); see CpuGemm.</summary>
    private static void Gemm<T>(bool transA, bool transB, int m, int n, int k, double alpha, T* a, int lda, T* b, int ldb,
        double beta, T* c, int ldc, bool parallel) where T : unmanaged
    {
        if (m == 0 || n == 0) return;
        if (typeof(T) == typeof(float))
            CpuGemm.Sgemm(transA, transB, m, n, k, (float)alpha, (float*)a, lda, (float*)b, ldb, (float)beta, (float*)c, ldc, parallel);
        else
            CpuGemm.Dgemm(transA, transB, m, n, k, alpha, (double*)a, lda, (double*)b, ldb, beta, (double*)c, ldc);
    }
}
