// MatMul, and the batched GEMM the conv primitives build on: the vendor GEMM when there is one (cuBLAS on CUDA, CLBlast on
// OpenCL; see VendorGemm), else — or when that reports an error, or is switched off — the own kernels of
// Kernels/GemmKernels.cs. Those come in a few fixed tile shapes, in two families: tiled kernels (many work items share
// shared memory) for GPUs, single-item kernels for CPU-like devices, where they run several times faster (see
// GemmKernels.cs). The device's limits decide which shapes can run here (work-group size, shared memory), and each
// call takes the one that wastes least on its M × N (see ChooseGemm).
using ILGPU.Runtime;
using ILGPU.Runtime.Cuda;
using ILGPU.Runtime.OpenCL;
using Standalone.Backends.Gpu.Kernels;
using Standalone.Backends.Gpu.Vendor;
using CuBlas = Standalone.Backends.Gpu.Vendor.CuBlas;
using F32 = ILGPU.ArrayView<float>;

namespace Standalone.Backends.Gpu;

/// <summary>
/// One operand of a batched row-major GEMM: its buffer, the element offset of batch item 0, the element distance between
/// batch items (0 broadcasts one matrix) and the row stride (leading dimension).
/// </summary>
internal readonly record struct GemmMatrix(DeviceBuffer Buffer, long Offset, long BatchStride, int RowStride)
{
    /// <summary>A rank-3 [batch, rows, cols] view (last stride 1) as the contract passes it; a batch of 1 broadcasts.</summary>
    public static GemmMatrix Of(in TensorView v) =>
        new(v.Buffer, v.Offset, v.Shape[0] == 1 ? 0 : v.Strides[0], LeadingDimension(v));

    /// <summary>Row stride of a [batch, rows, cols] view; a single or empty row may carry any stride, so use the row length.</summary>
    private static int LeadingDimension(in TensorView v) =>
        Math.Max(1, v.Shape[1] <= 1 || v.Shape[2] == 0 ? v.Shape[2] : checked((int)v.Strides[1]));
}

public sealed partial class GpuBackend
{

    /// <summary>
    /// A GEMM kernel of GemmKernels.cs and the block of C one work group computes. Tiled kernels (GPUs) give each work
    /// item a 4 × 4 block and stage 16-deep slabs; single-item kernels (CPU-like devices) give one work item the whole
    /// tile and stage 64-deep slabs.
    /// </summary>
    private sealed record GemmVariant(Action<F32, F32, F32, GemmShape> Kernel, int TileM, int TileN, bool SingleItem)
    {
        private const int WorkPerItem = GemmKernels.WorkPerItem, TiledDepth = GemmKernels.Depth, SingleItemDepth = GemmKernels.SingleItemDepth;

        public int GroupX => SingleItem ? 1 : TileN / WorkPerItem;
        public int GroupY => SingleItem ? 1 : TileM / WorkPerItem;
        public int GroupSize => GroupX * GroupY;
        public long LocalBytes => (long)(SingleItem ? SingleItemDepth : TiledDepth) * (TileM + TileN) * sizeof(float);
    }

    /// <summary>The kernels of GemmKernels.cs: tiled ones for GPUs, then single-item ones for CPU-like devices.</summary>
    private static readonly GemmVariant[] GemmVariants =
    [
        new(GemmKernels.Tile64x64, 64, 64, false), new(GemmKernels.Tile16x64, 16, 64, false), new(GemmKernels.Tile64x16, 64, 16, false),
        new(GemmKernels.Tile32x32, 32, 32, false), new(GemmKernels.Tile16x16, 16, 16, false), new(GemmKernels.Tile8x8, 8, 8, false),
        new(GemmKernels.Single64x64, 64, 64, true), new(GemmKernels.Single16x64, 16, 64, true),
    ];

    private GemmVariant[]? _fittingGemms;
    private bool? _useVendorGemm, _singleItemGemms;

    /// <summary>The vendor GEMM this backend can use ("cuBLAS", "CLBlast"), or null when there is none on this machine.</summary>
    internal string? VendorGemmName => _accelerator.AcceleratorType switch
    {
        AcceleratorType.Cuda when CuBlas.Available => "cuBLAS",
        AcceleratorType.OpenCL when ClBlast.Available && Limits.IsGpu => "CLBlast",
        _ => null,
    };

    /// <summary>Whether the vendor GEMM runs by default: unless STANDALONE_CUBLAS=off (CUDA) or STANDALONE_CLBLAST=off (OpenCL).</summary>
    private bool VendorGemmByDefault => !string.Equals(Environment.GetEnvironmentVariable(
        _accelerator.AcceleratorType == AcceleratorType.Cuda ? "STANDALONE_CUBLAS" : "STANDALONE_CLBLAST"), "off", StringComparison.OrdinalIgnoreCase);

    /// <summary>
    /// Whether GEMMs go through the vendor GEMM (VendorGemmByDefault until set). Setting it (tests compare both paths)
    /// can only turn it on where it is present. An error from it turns it off for this backend (see VendorGemmError)
    /// and the GEMM runs on the own kernel.
    /// </summary>
    internal bool UseVendorGemm
    {
        get => _useVendorGemm ??= VendorGemmName != null && VendorGemmByDefault;
        set => _useVendorGemm = value && VendorGemmName != null;
    }

    /// <summary>Which family of own kernels runs: single-item on CPU devices, tiled elsewhere; tests run both anywhere.</summary>
    internal bool SingleItemGemms
    {
        get => _singleItemGemms ?? !Limits.IsGpu;
        set => _singleItemGemms = value;
    }

    /// <summary>The error that turned the vendor GEMM off on this backend, or null.</summary>
    internal string? VendorGemmError { get; private set; }

    /// <summary>
    /// The vendor GEMM over the batch; returns how many items it did: all, or those before an error (it returns the
    /// error too, and the caller runs the rest — items already written must not run again when beta ≠ 0).
    /// </summary>
    private (int Done, string? Error) VendorGemm(int batch, int m, int n, int k, float alpha, in GemmMatrix a, bool transA,
        in GemmMatrix b, bool transB, float beta, in GemmMatrix c) =>
        _accelerator.AcceleratorType == AcceleratorType.Cuda
            ? CuBlasGemm(batch, m, n, k, alpha, a, transA, b, transB, beta, c)
            : ClBlastGemm(batch, m, n, k, alpha, a, transA, b, transB, beta, c);

    public void MatMul(in TensorView a, bool transA, in TensorView b, bool transB, in TensorView c, double alpha, double beta)
    {
        RequireFloat32("matmul", c.DType);
        int batch = c.Shape[0], m = c.Shape[1], n = c.Shape[2];
        int k = transA ? a.Shape[1] : a.Shape[2];
        if (batch == 0 || m == 0 || n == 0) return;
        Gemm(batch, m, n, k, (float)alpha, GemmMatrix.Of(a), transA, GemmMatrix.Of(b), transB, (float)beta, GemmMatrix.Of(c));
    }

    /// <summary>
    /// C[i] = alpha·op(A[i])·op(B[i]) + beta·C[i] for i &lt; batch, row-major; A is stored [M, K] ([K, M] when transA),
    /// B [K, N] ([N, K] when transB), C [M, N]. beta = 0 overwrites C without reading it.
    /// </summary>
    internal void Gemm(int batch, int m, int n, int k, float alpha, in GemmMatrix a, bool transA, in GemmMatrix b, bool transB, float beta, in GemmMatrix c)
    {
        if (batch == 0 || m == 0 || n == 0) return;
        int done = 0;
        if (k > 0 && UseVendorGemm)
        {
            (done, string? error) = VendorGemm(batch, m, n, k, alpha, a, transA, b, transB, beta, c);
            if (error != null) (VendorGemmError, _useVendorGemm) = (error, false);
            if (done == batch) return;
        }
        var variant = ChooseGemm(m, n);
        // The batch runs along the launch's third dimension, in slices the device can launch (CUDA: 65,535 groups).
        for (int first = done; first < batch; first += (int)Math.Min(batch - first, Limits.MaxGroupsZ))
        {
            int count = (int)Math.Min(batch - first, Limits.MaxGroupsZ);
            var shape = new GemmShape
            {
                M = m, N = n, K = k, Alpha = alpha, Beta = beta,
                Lda = a.RowStride, TransA = transA ? 1 : 0, ABatch = a.BatchStride,
                Ldb = b.RowStride, TransB = transB ? 1 : 0, BBatch = b.BatchStride,
                Ldc = c.RowStride, CBatch = c.BatchStride,
            };
            var config = Config("gemm", (long)(n + variant.TileN - 1) / variant.TileN * variant.GroupX,
                (long)(m + variant.TileM - 1) / variant.TileM * variant.GroupY, count, variant.GroupX, variant.GroupY);
            Load(variant.Kernel)(_stream, config, View<float>(a.Buffer, a.Offset + first * a.BatchStride),
                View<float>(b.Buffer, b.Offset + first * b.BatchStride), View<float>(c.Buffer, c.Offset + first * c.BatchStride), shape);
        }
    }

    /// <summary>
    /// The tile shape of the preferred family (SingleItemGemms; the other family when none of it fits this device) with
    /// the least estimated cost for an M × N product: the padded area (edge tiles compute their full size) times a
    /// per-element load overhead that falls with tile size (1/TileM + 1/TileN: each slab element loaded feeds TileN,
    /// respectively TileM, multiply-adds).
    /// </summary>
    private GemmVariant ChooseGemm(int m, int n)
    {
        var fitting = FittingGemms();
        bool preferred = SingleItemGemms, family = !preferred;
        foreach (var v in fitting)
            if (v.SingleItem == preferred) family = preferred;
        GemmVariant? best = null;
        double bestCost = double.MaxValue;
        foreach (var v in fitting)
        {
            if (v.SingleItem != family) continue;
            double cost = (double)RoundUp(m, v.TileM) * RoundUp(n, v.TileN) * (1 + 8.0 / v.TileM + 8.0 / v.TileN);
            if (cost < bestCost) (best, bestCost) = (v, cost);
        }
        return best!;
    }

    /// <summary>The variants whose work group and shared memory fit this device.</summary>
    private GemmVariant[] FittingGemms()
    {
        if (_fittingGemms != null) return _fittingGemms;
        var fitting = GemmVariants.Where(v => v.LocalBytes <= Limits.LocalMemory && v.GroupSize <= Limits.MaxWorkGroupSize).ToArray();
        if (fitting.Length == 0)
        {
            var smallest = GemmVariants.MinBy(v => v.LocalBytes)!;
            throw new NotSupportedException($"{Device} ({Limits.Name}): no GEMM kernel fits this device (largest work group {Limits.MaxWorkGroupSize}, " +
                $"local memory {Limits.LocalMemory} bytes; the smallest kernel needs {smallest.GroupSize} work items and {smallest.LocalBytes} bytes)");
        }
        return _fittingGemms = fitting;
    }

    /// <summary>
    /// One cublasSgemmStridedBatched over the batch, on this accelerator's stream. cuBLAS is column-major: a row-major
    /// C = op(A)·op(B) is the column-major Cᵀ = op(B)ᵀ·op(A)ᵀ, so B goes first with its own transpose flag, then A,
    /// and M and N swap.
    /// </summary>
    private (int Done, string? Error) CuBlasGemm(int batch, int m, int n, int k, float alpha, in GemmMatrix a, bool transA,
        in GemmMatrix b, bool transB, float beta, in GemmMatrix c)
    {
        _accelerator.Bind();
        try
        {
            if (_cublas == 0)
            {
                _cublas = CuBlas.Create();
                CuBlas.SetStream(_cublas, ((CudaStream)_stream).StreamPtr);
                CuBlas.SetMathMode(_cublas, AllowTf32 ? CuBlas.Tf32TensorOpMath : CuBlas.DefaultMath);
            }
            CuBlas.SgemmStridedBatched(_cublas, transB ? CuBlas.OpT : CuBlas.OpN, transA ? CuBlas.OpT : CuBlas.OpN, n, m, k, alpha,
                Address(b), b.RowStride, b.BatchStride, Address(a), a.RowStride, a.BatchStride, beta,
                Address(c), c.RowStride, c.BatchStride, batch);
            return (batch, null);
        }
        catch (Exception e) when (e is Vendor.CuBlasException or InvalidOperationException)
        {
            return (0, $"cuBLAS, m={m}, n={n}, k={k}, transA={transA}, transB={transB}, batch={batch}: {e.Message}");
        }
    }

    private nint _cublas;

    /// <summary>
    /// TF32 tensor-core math for cuBLAS SGEMMs: off by default (results then match the other backends to float32
    /// rounding); STANDALONE_TF32=on allows it, trading ~10 mantissa bits of the products for speed on Ampere and later.
    /// </summary>
    public static bool AllowTf32 => string.Equals(Environment.GetEnvironmentVariable("STANDALONE_TF32"), "on", StringComparison.OrdinalIgnoreCase);

    /// <summary>The device address of a GEMM operand's first element (a CUdeviceptr).</summary>
    private static ulong Address(in GemmMatrix matrix) =>
        (ulong)((GpuBuffer)matrix.Buffer).Memory.NativePtr + (ulong)(matrix.Offset * sizeof(float));

    /// <summary>CLBlastSgemm per batch item, on this accelerator's command queue (row-major, offsets in elements).</summary>
    private (int Done, string? Error) ClBlastGemm(int batch, int m, int n, int k, float alpha, in GemmMatrix a, bool transA,
        in GemmMatrix b, bool transB, float beta, in GemmMatrix c)
    {
        nint queue = ((CLStream)_stream).CommandQueue;
        nint am = ((GpuBuffer)a.Buffer).Memory.NativePtr, bm = ((GpuBuffer)b.Buffer).Memory.NativePtr, cm = ((GpuBuffer)c.Buffer).Memory.NativePtr;
        for (int i = 0; i < batch; i++)
        {
            int status = ClBlast.Sgemm(transA, transB, m, n, k, alpha, am, a.Offset + i * a.BatchStride, a.RowStride,
                bm, b.Offset + i * b.BatchStride, b.RowStride, beta, cm, c.Offset + i * c.BatchStride, c.RowStride, queue);
            if (status != 0)
                return (i, $"CLBlast, m={m}, n={n}, k={k}, transA={transA}, transB={transB}: {ClBlast.StatusName(status)} ({status})");
        }
        return (batch, null);
    }
}
