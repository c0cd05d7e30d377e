// 2-D convolution (NCHW, weight [Cout, Cin/groups, KH, KW]) as im2col + GEMM, one image at a time.
//
// For image n and group g, with col = im2col(x[n, group g]) of shape [Cin/g·KH·KW, OH·OW]:
//   forward          y[n, g]  = W[g] · col                      (W[g] is [Cout/g, Cin/g·KH·KW])
//   backward input   dx[n, g] = col2im(W[g]ᵀ · dY[n, g])        (col2im adds each column entry back to its pixel)
//   backward weight  dW[g]   += dY[n, g] · colᵀ                 (summed over the batch)
// A 1×1, stride-1, unpadded convolution needs no im2col: the image itself is col. Float32 kernels larger than 1×1
// skip im2col too (the forward and weight gradient at any stride, the backward input at stride 1): they take the
// implicit-GEMM path (CpuBackend.ConvImplicit.cs); this file serves the rest (float64, 1×1 kernels, padding beyond
// (K − 1)·dilation, the backward input at strides above 1).
//
// Threads: with at least as many images as threads, images run in parallel and each worker owns a thread-static
// col scratch and a single-threaded GEMM; the weight gradient then goes to one partial per worker, summed at the
// end. With fewer images, images run in turn and the GEMM itself is parallel.
//
// im2col has two row writers: a general one (per output row: zero the padded edges, copy or gather the rest) and,
// when stride is 1 and the output is as wide as the input (3×3 pad 1, and any "same" convolution), a shifted-plane
// writer that moves each kernel tap's whole valid block in one copy and then zeroes the wrapped edge columns.
using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Standalone.Backends.Cpu;

public sealed unsafe partial class CpuBackend
{
    [ThreadStatic] private static float[]? t_colFloat;
    [ThreadStatic] private static double[]? t_colDouble;

    private readonly struct ConvShape
    {
        public readonly int Batch, InC, H, W, OutC, KH, KW, OH, OW, Groups;
        public readonly Conv2dParams P;

        public ConvShape(in TensorView x, in TensorView weight, in TensorView y, in Conv2dParams p)
        {
            (Batch, InC, H, W) = (x.Shape[0], x.Shape[1], x.Shape[2], x.Shape[3]);
            (OutC, KH, KW) = (weight.Shape[0], weight.Shape[2], weight.Shape[3]);
            (OH, OW) = (y.Shape[2], y.Shape[3]);
            Groups = p.Groups;
            P = p;
        }

        public int InCG => InC / Groups;
        public int OutCG => OutC / Groups;
        /// <summary>Rows of col = columns of a group's weight matrix.</summary>
        public int ColRows => InCG * KH * KW;
        public int InPlane => H * W;
        public int OutPlane => OH * OW;
        public bool Pointwise => KH == 1 && KW == 1 && P.StrideH == 1 && P.StrideW == 1 && P.PadH == 0 && P.PadW == 0;
        public bool ImagesInParallel => Batch >= CpuParallel.ThreadCount && CpuParallel.ThreadCount > 1;
    }

    public void Conv2dForward(in TensorView x, in TensorView weight, TensorView? bias, in TensorView y, in Conv2dParams p, bool relu = false,
        TensorView? residual = null)
    {
        var s = new ConvShape(x, weight, y, p);
        switch (x.DType)
        {
            case DType.Float32:
                ConvForward(s, Pointer<float>(x), Pointer<float>(weight), bias is { } b ? Pointer<float>(b) : null, Pointer<float>(y), relu,
                    residual is { } r ? Pointer<float>(r) : null);
                break;
            case DType.Float64:
                ConvForward(s, Pointer<double>(x), Pointer<double>(weight), bias is { } b64 ? Pointer<double>(b64) : null, Pointer<double>(y), relu,
                    residual is { } r64 ? Pointer<double>(r64) : null);
                break;
            default: throw Unsupported("conv2d forward", x.DType);
        }
    }

    public void Conv2dBackwardInput(in TensorView dy, in TensorView weight, in TensorView dx, in Conv2dParams p)
    {
        var s = new ConvShape(dx, weight, dy, p);
        switch (dy.DType)
        {
            case DType.Float32: ConvBackwardInput(s, Pointer<float>(dy), Pointer<float>(weight), Pointer<float>(dx)); break;
            case DType.Float64: ConvBackwardInput(s, Pointer<double>(dy), Pointer<double>(weight), Pointer<double>(dx)); break;
            default: throw Unsupported("conv2d backward input", dy.DType);
        }
    }

    public void Conv2dBackwardWeight(in TensorView dy, in TensorView x, in TensorView dWeight, TensorView? dBias, in Conv2dParams p)
    {
        var s = new ConvShape(x, dWeight, dy, p);
        switch (dy.DType)
        {
            case DType.Float32: ConvBackwardWeight(s, Pointer<float>(dy), Pointer<float>(x), Pointer<float>(dWeight), dBias is { } b ? Pointer<float>(b) : null); break;
            case DType.Float64: ConvBackwardWeight(s, Pointer<double>(dy), Pointer<double>(x), Pointer<double>(dWeight), dBias is { } b64 ? Pointer<double>(b64) : null); break;
            default: throw Unsupported("conv2d backward weight", dy.DType);
        }
    }

    /// <summary>
    /// y = conv(x, w) (+ bias) (+ residual), through max(0, ·) when relu. The masked-tile paths add the residual in
    /// registers as they write y, which saves inference's residual blocks their separate add-and-ReLU pass (ResNet-20,
    /// batch 256: 54.4 → 52.0 ms a pass, interleaved); the others add it in a pass afterwards. Either way each output is
    /// ((Σ + bias) + residual) rounded in that order, as a separate add would give.
    /// </summary>
    private static void ConvForward<T>(ConvShape s, T* x, T* w, T* bias, T* y, bool relu, T* residual) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (residual != null && !ResidualInEpilogue<T>(s, bias != null))
        {
            ConvForward(s, x, w, bias, y, relu: false, residual: null);
            AddResidual(y, residual, (long)s.Batch * s.OutC * s.OutPlane, relu);
        }
        else if (UsesWinograd<T>(s)) WinogradForward(s, (float*)x, (float*)w, (float*)bias, (float*)y, relu, (float*)residual);
        else if (UsesDirectConv<T>(s)) DirectForward(s, (float*)x, (float*)w, (float*)bias, (float*)y, relu, (float*)residual);
        else if (UsesDirectStride2<T>(s)) DirectStride2Forward(s, (float*)x, (float*)w, (float*)bias, (float*)y, relu, (float*)residual);
        else if (UsesDirectPointwiseStride2<T>(s)) PointwiseStride2Forward(s, (float*)x, (float*)w, (float*)bias, (float*)y, relu, (float*)residual);
        else if (UsesImplicitGemm<T>(s)) ImplicitForward(s, (float*)x, (float*)w, (float*)bias, (float*)y, relu, (float*)residual);
        else if (s.ImagesInParallel) CpuParallel.For(s.Batch, n => ConvForwardImage(s, n, x, w, bias, y, relu, parallelGemm: false));
        else for (int n = 0; n < s.Batch; n++) ConvForwardImage(s, n, x, w, bias, y, relu, parallelGemm: true);
    }

    /// <summary>Whether ConvForward's path for s adds a residual in its epilogue (the masked-tile paths).</summary>
    private static bool ResidualInEpilogue<T>(in ConvShape s, bool hasBias) =>
        UsesWinograd<T>(s) || UsesDirectConv<T>(s) || UsesDirectStride2<T>(s) || UsesDirectPointwiseStride2<T>(s)
        || (UsesImplicitGemm<T>(s) && ImplicitMaskedRows(InputGrid(s), s.Groups, hasBias));

    /// <summary>y = y + residual over length elements, through max(0, ·) when relu, in chunks over the threads.</summary>
    private static void AddResidual<T>(T* y, T* residual, long length, bool relu) where T : unmanaged, IFloatingPointIeee754<T>
    {
        const long chunk = 1 << 16;
        CpuParallel.For((int)((length + chunk - 1) / chunk), item =>
        {
            long start = item * chunk;
            Epilogue(y + start, (int)Math.Min(chunk, length - start), null, residual + start, relu);
        });
    }

    private static void ConvForwardImage<T>(in ConvShape s, int n, T* x, T* w, T* bias, T* y, bool relu, bool parallelGemm)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int plane = s.OutPlane;
        T* col = s.Pointwise ? null : ConvScratch<T>((long)s.ColRows * plane);
        for (int g = 0; g < s.Groups; g++)
        {
            T* image = x + ((long)n * s.InC + (long)g * s.InCG) * s.InPlane;
            T* output = y + ((long)n * s.OutC + (long)g * s.OutCG) * plane;
            if (!s.Pointwise) Im2Col(s, image, col);
            Gemm(false, false, s.OutCG, plane, s.ColRows, 1.0, w + (long)g * s.OutCG * s.ColRows, s.ColRows,
                s.Pointwise ? image : col, plane, 0.0, output, plane, parallelGemm);
        }
        if (bias == null && !relu) return;
        T* yImage = y + (long)n * s.OutC * plane;
        for (int c = 0; c < s.OutC; c++) Epilogue(yImage + (long)c * plane, plane, bias == null ? null : bias[c], null, relu);
    }

    /// <summary>
    /// A convolution's epilogue over one row of its output, in one vectorized pass: row[i] (+ shift when given)
    /// (+ residual[i] when given), through max(0, ·) when relu (as the Relu and AddRelu kernels: NaN becomes 0), each
    /// sum rounded as a separate add would round it.
    /// </summary>
    private static void Epilogue<T>(T* row, int length, T? shift, T* residual, bool relu) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var v = Vector256.Create(shift ?? T.Zero);
        int i = 0;
        for (; i <= length - Vector256<T>.Count; i += Vector256<T>.Count)
        {
            var t = Vector256.Load(row + i);
            if (shift != null) t += v;
            if (residual != null) t += Vector256.Load(residual + i);
            if (relu) t = Vector256.ConditionalSelect(Vector256.GreaterThan(t, Vector256<T>.Zero), t, Vector256<T>.Zero);
            t.Store(row + i);
        }
        for (; i < length; i++)
        {
            T t = row[i];
            if (shift is { } add) t += add;
            if (residual != null) t += residual[i];
            row[i] = !relu || t > T.Zero ? t : T.Zero;
        }
    }

    private static void ConvBackwardInput<T>(ConvShape s, T* dy, T* w, T* dx) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (UsesWinograd<T>(s)) WinogradBackwardInput(s, (float*)dy, (float*)w, (float*)dx);
        else if (UsesDirectConv<T>(s)) DirectBackwardInput(s, (float*)dy, (float*)w, (float*)dx);
        else if (UsesImplicitBackwardInput<T>(s)) ImplicitBackwardInput(s, (float*)dy, (float*)w, (float*)dx);
        else if (UsesPhaseBackwardInput<T>(s)) PhaseBackwardInput(s, (float*)dy, (float*)w, (float*)dx);
        else if (s.ImagesInParallel) CpuParallel.For(s.Batch, n => ConvBackwardInputImage(s, n, dy, w, dx, parallelGemm: false));
        else for (int n = 0; n < s.Batch; n++) ConvBackwardInputImage(s, n, dy, w, dx, parallelGemm: true);
    }

    private static void ConvBackwardInputImage<T>(in ConvShape s, int n, T* dy, T* w, T* dx, bool parallelGemm)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int plane = s.OutPlane;
        T* col = s.Pointwise ? null : ConvScratch<T>((long)s.ColRows * plane);
        for (int g = 0; g < s.Groups; g++)
        {
            T* dImage = dx + ((long)n * s.InC + (long)g * s.InCG) * s.InPlane;
            T* dOutput = dy + ((long)n * s.OutC + (long)g * s.OutCG) * plane;
            T* wg = w + (long)g * s.OutCG * s.ColRows;
            if (s.Pointwise)
            {
                Gemm(true, false, s.ColRows, plane, s.OutCG, 1.0, wg, s.ColRows, dOutput, plane, 0.0, dImage, plane, parallelGemm);
                continue;
            }
            Gemm(true, false, s.ColRows, plane, s.OutCG, 1.0, wg, s.ColRows, dOutput, plane, 0.0, col, plane, parallelGemm);
            new Span<T>(dImage, s.InCG * s.InPlane).Clear();
            Col2Im(s, col, dImage);
        }
    }

    private void ConvBackwardWeight<T>(ConvShape s, T* dy, T* x, T* dw, T* dBias) where T : unmanaged, IFloatingPointIeee754<T>
    {
        long weightSize = (long)s.OutC * s.ColRows;
        if (s.Batch == 0) new Span<T>(dw, checked((int)weightSize)).Clear();
        else if (UsesWinograd<T>(s)) WinogradWeightGrad(s, (float*)dy, (float*)x, (float*)dw);
        else if (s.ImagesInParallel)
        {
            // Worker 0 accumulates straight into dWeight, the others into pooled partials added at the end.
            int workers = Math.Min(CpuParallel.ThreadCount, s.Batch);
            var dtype = DTypeExtensions.Of<T>();
            var partials = (T[])Pool.Rent(dtype, checked((int)Math.Max(1, (workers - 1) * weightSize)));
            T* partial = (T*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(partials));
            CpuParallel.For(workers, i =>
            {
                int n0 = (int)((long)i * s.Batch / workers), n1 = (int)((long)(i + 1) * s.Batch / workers);
                WeightGradRange(s, n0, n1, dy, x, i == 0 ? dw : partial + (i - 1) * weightSize, parallelGemm: false);
            });
            for (int i = 1; i < workers; i++) AddInto(dw, partial + (i - 1) * weightSize, weightSize);
            Pool.Return(dtype, partials);
        }
        else
        {
            WeightGradRange(s, 0, s.Batch, dy, x, dw, parallelGemm: true);
        }
        if (dBias != null) BiasGrad(s, dy, dBias);
    }

    /// <summary>dw = the weight gradient of images [n0, n1) (overwritten, then accumulated image by image).</summary>
    private static void WeightGradRange<T>(in ConvShape s, int n0, int n1, T* dy, T* x, T* dw, bool parallelGemm)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (UsesImplicitGemm<T>(s) && CpuGemm.HasOffsetRowsT) ImplicitWeightGradRange(s, n0, n1, (float*)dy, (float*)x, (float*)dw);
        else for (int n = n0; n < n1; n++) WeightGradImage(s, n, dy, x, dw, accumulate: n > n0, parallelGemm);
    }

    private static void WeightGradImage<T>(in ConvShape s, int n, T* dy, T* x, T* dw, bool accumulate, bool parallelGemm)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int plane = s.OutPlane;
        T* col = s.Pointwise ? null : ConvScratch<T>((long)s.ColRows * plane);
        for (int g = 0; g < s.Groups; g++)
        {
            T* image = x + ((long)n * s.InC + (long)g * s.InCG) * s.InPlane;
            T* dOutput = dy + ((long)n * s.OutC + (long)g * s.OutCG) * plane;
            if (!s.Pointwise) Im2Col(s, image, col);
            Gemm(false, true, s.OutCG, s.ColRows, plane, 1.0, dOutput, plane, s.Pointwise ? image : col, plane,
                accumulate ? 1.0 : 0.0, dw + (long)g * s.OutCG * s.ColRows, s.ColRows, parallelGemm);
        }
    }

    /// <summary>dBias[c] = Σ over n, h, w of dY[n, c, h, w], accumulated in double.</summary>
    private static void BiasGrad<T>(ConvShape s, T* dy, T* dBias) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int plane = s.OutPlane;
        long minChannels = Math.Max(1, (1L << 16) / Math.Max(1L, (long)s.Batch * plane));
        CpuParallel.ForRange(s.OutC, minChannels, (c0, c1) =>
        {
            for (long c = c0; c < c1; c++)
            {
                double sum = 0;
                for (int n = 0; n < s.Batch; n++)
                    sum += double.CreateTruncating(TensorPrimitives.Sum(new ReadOnlySpan<T>(dy + ((long)n * s.OutC + c) * plane, plane)));
                dBias[c] = T.CreateTruncating(sum);
            }
        });
    }

    /// <summary>The calling thread's col scratch, grown on demand (pinned, so the pointer stays valid).</summary>
    private static T* ConvScratch<T>(long length) where T : unmanaged =>
        typeof(T) == typeof(float) ? (T*)Grow(ref t_colFloat, length) : (T*)Grow(ref t_colDouble, length);

    /// <summary>
    /// Where one kernel tap (ki, kj) reads: input row oh·SH + RowShift, column ow·SW + ColShift, which lies inside
    /// the image for oh in [RowLo, RowHi) and ow in [ColLo, ColHi).
    /// </summary>
    private readonly struct ConvTap
    {
        public readonly int RowShift, ColShift, RowLo, RowHi, ColLo, ColHi;

        public ConvTap(in ConvShape s, int ki, int kj)
        {
            RowShift = ki * s.P.DilationH - s.P.PadH;
            ColShift = kj * s.P.DilationW - s.P.PadW;
            (RowLo, RowHi) = ValidRange(s.OH, s.H, s.P.StrideH, RowShift);
            (ColLo, ColHi) = ValidRange(s.OW, s.W, s.P.StrideW, ColShift);
        }

        /// <summary>Output positions o in [0, outSize) with 0 ≤ o·stride + shift &lt; inSize.</summary>
        public static (int Lo, int Hi) ValidRange(int outSize, int inSize, int stride, int shift)
        {
            int lo = shift >= 0 ? 0 : (-shift + stride - 1) / stride;
            int hi = shift >= inSize ? 0 : (inSize - 1 - shift) / stride + 1;
            lo = Math.Min(lo, outSize);
            return (lo, Math.Clamp(hi, lo, outSize));
        }
    }

    /// <summary>Stride 1 and OW = W: a tap's valid rows are one contiguous block of the input plane, shifted.</summary>
    private static bool ShiftedPlanes(in ConvShape s) => s.P.StrideH == 1 && s.P.StrideW == 1 && s.OW == s.W;

    /// <summary>col[(c·KH + ki)·KW + kj, oh·OW + ow] = x[c, oh·SH + ki·DH − PH, ow·SW + kj·DW − PW], 0 outside the image.</summary>
    private static void Im2Col<T>(in ConvShape s, T* image, T* col) where T : unmanaged, INumber<T>
    {
        int plane = s.OutPlane;
        bool shifted = ShiftedPlanes(s);
        for (int c = 0; c < s.InCG; c++)
        {
            T* src = image + (long)c * s.InPlane;
            for (int ki = 0; ki < s.KH; ki++)
            for (int kj = 0; kj < s.KW; kj++)
            {
                T* row = col + ((long)(c * s.KH + ki) * s.KW + kj) * plane;
                var tap = new ConvTap(s, ki, kj);
                if (shifted)
                {
                    var (start, end, shift) = ShiftedBlock(s, tap);
                    new Span<T>(row, start).Clear();
                    new ReadOnlySpan<T>(src + start + shift, end - start).CopyTo(new Span<T>(row + start, end - start));
                    new Span<T>(row + end, plane - end).Clear();
                    ClearEdgeColumns(s, tap, row);
                    continue;
                }
                new Span<T>(row, tap.RowLo * s.OW).Clear();
                for (int oh = tap.RowLo; oh < tap.RowHi; oh++)
                {
                    T* output = row + oh * s.OW;
                    T* input = src + (long)(oh * s.P.StrideH + tap.RowShift) * s.W + tap.ColShift;
                    for (int ow = 0; ow < tap.ColLo; ow++) output[ow] = T.Zero;
                    int count = tap.ColHi - tap.ColLo;
                    if (s.P.StrideW == 1) new ReadOnlySpan<T>(input + tap.ColLo, count).CopyTo(new Span<T>(output + tap.ColLo, count));
                    else if (s.P.StrideW == 2) GatherStride2(input + 2 * tap.ColLo, output + tap.ColLo, count);
                    else for (int ow = tap.ColLo; ow < tap.ColHi; ow++) output[ow] = input[ow * s.P.StrideW];
                    for (int ow = tap.ColHi; ow < s.OW; ow++) output[ow] = T.Zero;
                }
                new Span<T>(row + tap.RowHi * s.OW, (s.OH - tap.RowHi) * s.OW).Clear();
            }
        }
    }

    /// <summary>output[i] = input[2·i] for i in [0, count), reading nothing past input[2·count − 2].</summary>
    private static void GatherStride2<T>(T* input, T* output, int count) where T : unmanaged
    {
        int i = 0;
        if (typeof(T) == typeof(float) && count >= 9)
        {
            // A block reads input[2j, 2j + 16), so the last block overlaps its neighbour instead of overrunning.
            for (; i <= count - 9; i += 8) LoadStride2((float*)input + 2 * i, odd: false).Store((float*)output + i);
            if (i < count - 1) LoadStride2((float*)input + 2 * (count - 9), odd: false).Store((float*)output + count - 9);
            i = count - 1;
        }
        for (; i < count; i++) output[i] = input[2 * i];
    }

    /// <summary>p[0], p[2], …, p[14] (odd: p[1], p[3], …, p[15]); reads exactly p[0, 16).</summary>
    private static Vector256<float> LoadStride2(float* p, bool odd)
    {
        // Each float pair read as one 64-bit lane; narrowing keeps the low half of every lane (the even float),
        // or, shifted first, the high half (the odd one).
        var low = Vector256.Load((ulong*)p);
        var high = Vector256.Load((ulong*)p + 4);
        if (odd) { low >>>= 32; high >>>= 32; }
        return Vector256.Narrow(low, high).AsSingle();
    }

    /// <summary>The adjoint of Im2Col: adds every col entry that maps inside the image to its pixel (dImage pre-zeroed).</summary>
    private static void Col2Im<T>(in ConvShape s, T* col, T* dImage) where T : unmanaged, INumber<T>
    {
        int plane = s.OutPlane;
        bool shifted = ShiftedPlanes(s);
        for (int c = 0; c < s.InCG; c++)
        {
            T* dst = dImage + (long)c * s.InPlane;
            for (int ki = 0; ki < s.KH; ki++)
            for (int kj = 0; kj < s.KW; kj++)
            {
                T* row = col + ((long)(c * s.KH + ki) * s.KW + kj) * plane;
                var tap = new ConvTap(s, ki, kj);
                if (shifted)
                {
                    // Zeroing the padded columns first lets the whole block be added in one pass: their wrapped
                    // targets (the neighbouring row's edge pixels) then receive 0.
                    ClearEdgeColumns(s, tap, row);
                    var (start, end, shift) = ShiftedBlock(s, tap);
                    AddInto(dst + start + shift, row + start, end - start);
                    continue;
                }
                for (int oh = tap.RowLo; oh < tap.RowHi; oh++)
                {
                    T* input = row + oh * s.OW;
                    T* output = dst + (long)(oh * s.P.StrideH + tap.RowShift) * s.W + tap.ColShift;
                    if (s.P.StrideW == 1) AddInto(output + tap.ColLo, input + tap.ColLo, tap.ColHi - tap.ColLo);
                    else for (int ow = tap.ColLo; ow < tap.ColHi; ow++) output[ow * s.P.StrideW] += input[ow];
                }
            }
        }
    }

    /// <summary>
    /// For ShiftedPlanes: col row positions [start, end) come from input plane positions + shift. The block spans the
    /// tap's valid rows, clipped to the plane; what the clip drops are padded edge columns.
    /// </summary>
    private static (int Start, int End, int Shift) ShiftedBlock(in ConvShape s, in ConvTap tap)
    {
        int shift = tap.RowShift * s.W + tap.ColShift;
        int start = Math.Max(tap.RowLo * s.W, -shift);
        int end = Math.Max(start, Math.Min(tap.RowHi * s.W, s.InPlane - shift));
        return (start, end, shift);
    }

    /// <summary>Zeroes the columns of the tap's valid rows that fall in the left/right padding (OW = W here).</summary>
    private static void ClearEdgeColumns<T>(in ConvShape s, in ConvTap tap, T* row) where T : unmanaged, INumber<T>
    {
        if (tap.ColLo == 0 && tap.ColHi == s.W) return;
        for (int oh = tap.RowLo; oh < tap.RowHi; oh++)
        {
            T* output = row + oh * s.W;
            for (int ow = 0; ow < tap.ColLo; ow++) output[ow] = T.Zero;
            for (int ow = tap.ColHi; ow < s.W; ow++) output[ow] = T.Zero;
        }
    }

    /// <summary>dst[i] += src[i] for i in [0, length).</summary>
    private static void AddInto<T>(T* dst, T* src, long length) where T : unmanaged, INumber<T>
    {
        long i = 0;
        for (; i <= length - Vector256<T>.Count; i += Vector256<T>.Count)
            (Vector256.Load(dst + i) + Vector256.Load(src + i)).Store(dst + i);
        for (; i < length; i++) dst[i] += src[i];
    }
}
