// 2-D convolution (NCHW, weight [Cout, Cin/groups, KH, KW]) as im2col + the batched GEMM of GpuBackend.MatMul.cs,
// a chunk of images at a time (the chunk's scratch stays within ConvScratchBytes). Kernels: Kernels/ConvKernels.cs.
//
// With col = im2col(x) over all input channels (group g's rows are the block [g·R, (g + 1)·R), R = Cin/g·KH·KW):
//   forward          y[n, g]  = W[g] · col[n, g]           one GEMM per group, batched over the chunk's images
//   backward input   col[n, g] = W[g]ᵀ · dY[n, g]          likewise; then dx = col2im(col), a gather that overwrites dx
//   backward weight  dW[g]    = Σn dY[n, g] · col[n, g]ᵀ   one GEMM whose depth runs over every image and position:
//                    col is written row-major across the chunk ([row][n][pos]) and dY is copied as [c][n][pos], so
//                    the sum over images is the GEMM's K. When that GEMM has too few tiles to fill the device, K is split
//                    over image subsets (a batch of partial products) and SumSplits adds them up.
// A 1×1, stride-1, unpadded convolution needs no im2col for forward and backward input: the image is col.
// dWeight is overwritten (the CPU backend's contract; the autograd layer accumulates above it), dBias too.
using Standalone.Backends.Gpu.Kernels;
using F32 = ILGPU.ArrayView<float>;

namespace Standalone.Backends.Gpu;

public sealed partial class GpuBackend
{

    /// <summary>
    /// Most scratch (col, the permuted dY, split partials) one chunk of images may use: 128 MiB, or the device's largest
    /// allocation when smaller. Tests lower it to run several chunks.
    /// </summary>
    internal long ConvScratchBytes
    {
        get => Math.Min(_convScratchBytes, (long)Limits.MaxAllocation);
        set => _convScratchBytes = value;
    }

    private long _convScratchBytes = 128L << 20;

    /// <summary>The weight gradient splits its GEMM until it has about this many work groups per compute unit.</summary>
    private const int WeightGradGroupsPerUnit = 4;

    /// <summary>Least GEMM depth (K) per split of the weight gradient, so that summing the splits stays cheap.</summary>
    private const int WeightGradMinDepth = 1024;

    private readonly struct ConvShape
    {
        public readonly int Batch, Groups;
        public readonly ConvGeometry Geometry;

        public ConvShape(in TensorView x, in TensorView weight, in TensorView y, in Conv2dParams p)
        {
            Batch = x.Shape[0];
            Groups = p.Groups;
            Geometry = new ConvGeometry
            {
                InC = x.Shape[1], H = x.Shape[2], W = x.Shape[3], OutC = weight.Shape[0], OH = y.Shape[2], OW = y.Shape[3],
                KH = weight.Shape[2], KW = weight.Shape[3], SH = p.StrideH, SW = p.StrideW, PH = p.PadH, PW = p.PadW,
                DH = p.DilationH, DW = p.DilationW,
            };
        }

        public int InC => Geometry.InC;
        public int OutC => Geometry.OutC;
        public int InCG => InC / Groups;
        public int OutCG => OutC / Groups;
        /// <summary>Rows of one group's col = columns of its weight matrix.</summary>
        public int ColRows => InCG * Geometry.KH * Geometry.KW;
        /// <summary>Rows of col over all groups.</summary>
        public int AllColRows => InC * Geometry.KH * Geometry.KW;
        public int InPlane => Geometry.H * Geometry.W;
        public int OutPlane => Geometry.OH * Geometry.OW;
        public bool Pointwise => Geometry is { KH: 1, KW: 1, SH: 1, SW: 1, PH: 0, PW: 0 };
    }

    public void Conv2dForward(in TensorView x, in TensorView weight, TensorView? bias, in TensorView y, in Conv2dParams p, bool relu = false,
        TensorView? residual = null)
    {
        RequireFloat32("conv2d forward", x.DType);
        var s = new ConvShape(x, weight, y, p);
        if (s.Batch == 0) return;
        long plane = s.OutPlane;
        if (s.Pointwise)
            for (int g = 0; g < s.Groups; g++)
                Gemm(s.Batch, s.OutCG, (int)plane, s.ColRows, 1, GroupWeight(weight, s, g), false,
                    new GemmMatrix(x.Buffer, x.Offset + g * s.InCG * plane, s.InC * plane, (int)plane), false, 0,
                    new GemmMatrix(y.Buffer, y.Offset + g * s.OutCG * plane, s.OutC * plane, (int)plane));
        else
            foreach (var (first, count) in Chunks(s, s.AllColRows * plane))
            {
                long imageStride = s.AllColRows * plane;
                var col = Allocate(DType.Float32, count * imageStride);
                Im2Col(x, s, first, count, col, imageStride, rowStride: plane);
                for (int g = 0; g < s.Groups; g++)
                    Gemm(count, s.OutCG, (int)plane, s.ColRows, 1, GroupWeight(weight, s, g), false,
                        new GemmMatrix(col, g * s.ColRows * plane, imageStride, (int)plane), false, 0,
                        new GemmMatrix(y.Buffer, y.Offset + ((long)first * s.OutC + g * s.OutCG) * plane, s.OutC * plane, (int)plane));
                col.Release();
            }
        if (bias != null || residual != null)
        {
            var b = bias ?? y;
            var r = residual ?? y;
            var rows = new ChannelRows
            {
                Batch = s.Batch, Channels = s.OutC, Plane = (int)plane, HasBias = bias != null ? 1 : 0, HasResidual = residual != null ? 1 : 0,
                Relu = relu ? 1 : 0,
            };
            Load<F32, F32, F32, ChannelRows>(ConvKernels.Epilogue)(_stream, RowsConfig("conv epilogue", (int)plane, (long)s.Batch * s.OutC),
                View<float>(y), View<float>(b), View<float>(r), rows);
        }
        else if (relu) Unary(UnaryOp.Relu, y, y);
    }

    public void Conv2dBackwardInput(in TensorView dy, in TensorView weight, in TensorView dx, in Conv2dParams p)
    {
        RequireFloat32("conv2d backward input", dy.DType);
        var s = new ConvShape(dx, weight, dy, p);
        if (s.Batch == 0) return;
        long plane = s.OutPlane;
        if (s.Pointwise)
        {
            for (int g = 0; g < s.Groups; g++)
                Gemm(s.Batch, s.InCG, (int)plane, s.OutCG, 1, GroupWeight(weight, s, g), true,
                    new GemmMatrix(dy.Buffer, dy.Offset + g * s.OutCG * plane, s.OutC * plane, (int)plane), false, 0,
                    new GemmMatrix(dx.Buffer, dx.Offset + g * s.InCG * plane, s.InC * plane, (int)plane));
            return;
        }
        foreach (var (first, count) in Chunks(s, s.AllColRows * plane))
        {
            long imageStride = s.AllColRows * plane;
            var col = Allocate(DType.Float32, count * imageStride);
            for (int g = 0; g < s.Groups; g++)
                Gemm(count, s.ColRows, (int)plane, s.OutCG, 1, GroupWeight(weight, s, g), true,
                    new GemmMatrix(dy.Buffer, dy.Offset + ((long)first * s.OutC + g * s.OutCG) * plane, s.OutC * plane, (int)plane), false, 0,
                    new GemmMatrix(col, g * s.ColRows * plane, imageStride, (int)plane));
            var geometry = s.Geometry with { First = first, Images = count, ImageStride = imageStride, RowStride = plane };
            Load<F32, F32, ConvGeometry>(ConvKernels.Col2Im)(_stream, RowsConfig("col2im", s.Geometry.W, (long)s.InC * s.Geometry.H, count),
                View<float>(col), View<float>(dx), geometry);
            col.Release();
        }
    }

    public void Conv2dBackwardWeight(in TensorView dy, in TensorView x, in TensorView dWeight, TensorView? dBias, in Conv2dParams p)
    {
        RequireFloat32("conv2d backward weight", dy.DType);
        var s = new ConvShape(x, dWeight, dy, p);
        if (s.Batch == 0)
        {
            Fill(dWeight, 0);
            if (dBias is { } empty) Fill(empty, 0);
            return;
        }
        long plane = s.OutPlane, weightSize = (long)s.OutC * s.ColRows;
        bool accumulate = false;
        foreach (var (first, count) in Chunks(s, (s.AllColRows + s.OutC) * plane))
        {
            long depth = count * plane; // the GEMM's K: every position of every image in the chunk
            var col = Allocate(DType.Float32, s.AllColRows * depth);
            Im2Col(x, s, first, count, col, imageStride: plane, rowStride: depth);
            var dyT = Allocate(DType.Float32, s.OutC * depth);
            Load<F32, F32, ChannelRows>(ConvKernels.ChannelsOuter)(_stream, RowsConfig("conv channels outer", (int)plane, (long)s.OutC * count),
                View<float>(dy), View<float>(dyT), new ChannelRows { Channels = s.OutC, Plane = (int)plane, First = first, Images = count });
            int splits = WeightGradSplits(s, count);
            if (splits == 1)
            {
                // All groups in one batched GEMM: group g's rows of dyT and of col, and its block of dWeight.
                Gemm(s.Groups, s.OutCG, s.ColRows, checked((int)depth), 1,
                    new GemmMatrix(dyT, 0, s.OutCG * depth, checked((int)depth)), false,
                    new GemmMatrix(col, 0, s.ColRows * depth, checked((int)depth)), true, accumulate ? 1 : 0,
                    new GemmMatrix(dWeight.Buffer, dWeight.Offset, (long)s.OutCG * s.ColRows, s.ColRows));
            }
            else
            {
                // Split s covers images [s·count/splits, (s + 1)·count/splits): a contiguous range of K.
                long splitDepth = depth / splits;
                var partial = Allocate(DType.Float32, splits * weightSize);
                for (int g = 0; g < s.Groups; g++)
                    Gemm(splits, s.OutCG, s.ColRows, checked((int)splitDepth), 1,
                        new GemmMatrix(dyT, g * s.OutCG * depth, splitDepth, checked((int)depth)), false,
                        new GemmMatrix(col, g * s.ColRows * depth, splitDepth, checked((int)depth)), true, 0,
                        new GemmMatrix(partial, (long)g * s.OutCG * s.ColRows, weightSize, s.ColRows));
                Load<F32, int, long, F32, int>(ConvKernels.SumSplits)(_stream, Config1D("conv sum splits", weightSize),
                    View<float>(partial), splits, weightSize, View<float>(dWeight), accumulate ? 1 : 0);
                partial.Release();
            }
            dyT.Release();
            col.Release();
            accumulate = true;
        }
        if (dBias is { } bias)
        {
            int group = BiasGradGroupSize();
            Load<F32, F32, ChannelRows>(ConvKernels.BiasGrad)(_stream, Config("conv bias grad", (long)s.OutC * group, 1, 1, group),
                View<float>(dy), View<float>(bias), new ChannelRows { Batch = s.Batch, Channels = s.OutC, Plane = (int)plane });
        }
    }

    /// <summary>Group g's weight matrix [Cout/g, Cin/g·KH·KW], shared by every image (batch stride 0).</summary>
    private static GemmMatrix GroupWeight(in TensorView weight, in ConvShape s, int g) =>
        new(weight.Buffer, weight.Offset + (long)g * s.OutCG * s.ColRows, 0, s.ColRows);

    /// <summary>col[n·imageStride + row·rowStride + pos] for images [first, first + count) of x (see ConvKernels.cs).</summary>
    private void Im2Col(in TensorView x, in ConvShape s, int first, int count, DeviceBuffer col, long imageStride, long rowStride) =>
        Load<F32, F32, ConvGeometry>(ConvKernels.Im2Col)(_stream, RowsConfig("im2col", s.Geometry.OW, (long)s.AllColRows * s.Geometry.OH, count),
            View<float>(x), View<float>(col), s.Geometry with { First = first, Images = count, ImageStride = imageStride, RowStride = rowStride });

    /// <summary>Consecutive image ranges whose scratch of <paramref name="floatsPerImage"/> each fits ConvScratchBytes.</summary>
    private IEnumerable<(int First, int Count)> Chunks(ConvShape s, long floatsPerImage)
    {
        long budget = ConvScratchBytes / sizeof(float);
        int perChunk = (int)Math.Clamp(budget / Math.Max(1, floatsPerImage), 1, s.Batch);
        for (int first = 0; first < s.Batch; first += perChunk)
            yield return (first, Math.Min(perChunk, s.Batch - first));
    }

    /// <summary>
    /// How many image subsets the weight gradient's GEMM is split into: enough for WeightGradGroupsPerUnit work groups
    /// per compute unit, each split at least WeightGradMinDepth deep, the partials within ConvScratchBytes; a divisor
    /// of the chunk's images so that every split has the same depth.
    /// </summary>
    private int WeightGradSplits(in ConvShape s, int images)
    {
        long tiles = (long)s.Groups * ((s.OutCG + 63) / 64) * ((s.ColRows + 63) / 64);
        long wanted = Math.Min((WeightGradGroupsPerUnit * Limits.ComputeUnits + tiles - 1) / tiles, (long)images * s.OutPlane / WeightGradMinDepth);
        wanted = Math.Min(wanted, ConvScratchBytes / sizeof(float) / ((long)s.OutC * s.ColRows));
        for (int splits = (int)Math.Clamp(wanted, 1, images); splits > 1; splits--)
            if (images % splits == 0) return splits;
        return 1;
    }

    /// <summary>BiasGrad's work group: a power of two, at most its shared array and the device's limit.</summary>
    private int BiasGradGroupSize()
    {
        int size = ReduceKernels.MaxGroup;
        while (size > Limits.MaxWorkGroupSize) size /= 2;
        return size;
    }
}
