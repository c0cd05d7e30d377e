// MatMul, and the batched GEMM the conv primitives build on: the backend's vendor GEMM when it has one (CLBlast on
// OpenCL GPUs, cuBLAS on CUDA; see VendorGemm), else — or when that reports an error, or is switched off — the own kernels of
// Kernels/gemm.c. Those come in a few fixed tile shapes, in two families: tiled kernels (many work items share local
// memory) for GPUs, single-item kernels for CPU devices, where they run several times faster (see gemm.c). The
// device's limits decide which shapes can run here (work-group size, local memory), and each call takes the one that
// wastes least on its M × N (see ChooseGemm).

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

public abstract unsafe partial class GpuBackend
{
    private const string GemmFile = "gemm.c";

    /// <summary>
    /// A GEMM kernel of gemm.c and the block of C one work group computes. Tiled kernels (GPUs) give each work item a
    /// 4 × 4 block (GEMM_WPT) and stage 16-deep slabs (GEMM_TK); single-item kernels (CPU devices) give one work item
    /// the whole tile and stage 64-deep slabs (CPU_TK).
    /// </summary>
    private sealed record GemmVariant(string Kernel, int TileM, int TileN, bool SingleItem)
    {
        private const int WorkPerItem = 4, TiledDepth = 16, SingleItemDepth = 64;

        public int GroupX => SingleItem ? 1 : TileN / WorkPerItem;
        public int GroupY => SingleItem ? 1 : TileM / WorkPerItem;
        public int GroupSize => GroupX * GroupY;
        public long LocalBytes => (long)(SingleItem ? SingleItemDepth : TiledDepth) * (TileM + TileN) * sizeof(float);
    }

    /// <summary>The kernels of gemm.c: tiled ones for GPUs, then single-item ones for CPU devices.</summary>
    private static readonly GemmVariant[] GemmVariants =
    [
        new("gemm_f32_64x64", 64, 64, false), new("gemm_f32_16x64", 16, 64, false), new("gemm_f32_64x16", 64, 16, false),
        new("gemm_f32_32x32", 32, 32, false), new("gemm_f32_16x16", 16, 16, false),
        new("gemm_f32_cpu_64x64", 64, 64, true), new("gemm_f32_cpu_16x64", 16, 64, true),
    ];

    private GemmVariant[]? _fittingGemms;
    private bool? _useVendorGemm, _singleItemGemms;

    /// <summary>The vendor GEMM this backend can use ("CLBlast", "cuBLAS"), or null when there is none on this machine.</summary>
    internal abstract string? VendorGemmName { get; }

    /// <summary>Whether the vendor GEMM runs by default on this device (each backend's environment switch decides).</summary>
    protected abstract bool VendorGemmByDefault { get; }

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
    private protected abstract (int Done, string? Error) VendorGemm(int batch, int m, int n, int k, float alpha, in GemmMatrix a, bool transA,
        in GemmMatrix b, bool transB, float beta, in GemmMatrix c);

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
            Kernel(GemmFile, variant.Kernel).Arg(m).Arg(n).Arg(k).Arg(alpha).Arg(beta)
                .Buffer(a.Buffer).Arg(a.Offset + first * a.BatchStride).Arg(a.BatchStride).Arg(a.RowStride).Arg(transA ? 1 : 0)
                .Buffer(b.Buffer).Arg(b.Offset + first * b.BatchStride).Arg(b.BatchStride).Arg(b.RowStride).Arg(transB ? 1 : 0)
                .Buffer(c.Buffer).Arg(c.Offset + first * c.BatchStride).Arg(c.BatchStride).Arg(c.RowStride)
                .Run([(n + variant.TileN - 1) / variant.TileN * variant.GroupX, (m + variant.TileM - 1) / variant.TileM * variant.GroupY, count],
                    [variant.GroupX, variant.GroupY, 1]);
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
        bool family = fitting.Any(v => v.SingleItem == SingleItemGemms) ? SingleItemGemms : !SingleItemGemms;
        GemmVariant? best = null;
        double bestCost = double.MaxValue;
        foreach (var v in fitting.Where(v => v.SingleItem == family))
        {
            double cost = (double)RoundUp(m, v.TileM) * RoundUp(n, v.TileN) * (1 + 8.0 / v.TileM + 8.0 / v.TileN);
            if (cost < bestCost) (best, bestCost) = (v, cost);
        }
        return best!;
    }

    /// <summary>The variants whose work group and local memory fit this device (its limits, and each compiled kernel's own).</summary>
    private GemmVariant[] FittingGemms()
    {
        if (_fittingGemms != null) return _fittingGemms;
        var fitting = GemmVariants.Where(v => v.LocalBytes <= Limits.LocalMemory && v.GroupSize <= Limits.MaxWorkGroupSize &&
            v.GroupSize <= KernelGroupLimit(GemmFile, v.Kernel)).ToArray();
        if (fitting.Length == 0)
        {
            var smallest = GemmVariants.MinBy(v => v.LocalBytes)!;
            throw new NotSupportedException($"{Device} ({Limits.Name}): no GEMM kernel fits this device (largest work group {Limits.MaxWorkGroupSize}, " +
                $"local memory {Limits.LocalMemory} bytes; the smallest kernel needs {smallest.GroupSize} work items and {smallest.LocalBytes} bytes)");
        }
        return _fittingGemms = fitting;
    }
}
