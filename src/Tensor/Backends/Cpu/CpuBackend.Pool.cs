// Max and average 2-D pooling, forward and backward, over contiguous NCHW tensors; planes (n, c) run in parallel.
//
// Window (oh, ow) covers input rows oh·SH − PH + [0, KH) and columns ow·SW − PW + [0, KW), clipped to the image:
// padded positions never win a max, and count as zeros in an average (the divisor is always KH·KW, PyTorch's
// count_include_pad=True; with floor-mode output sizes no window reaches past the padding).
// Max pooling records the winner as the flat index h·W + w within its input plane (Int32); backward adds each dY
// to its winner, so overlapping windows accumulate. A window with no pixel in the image (possible only when the
// padding exceeds half the kernel, which PyTorch rejects) yields −∞ and index −1, and backward skips it.
using System.Numerics;
using System.Runtime.Intrinsics;

namespace Standalone.Backends.Cpu;

public sealed unsafe partial class CpuBackend
{
    private const long PoolParallelThreshold = 1 << 14;

    private readonly struct PoolShape(int planes, int h, int w, int oh, int ow, Pool2dParams p)
    {
        public readonly int Planes = planes, H = h, W = w, OH = oh, OW = ow;
        public readonly Pool2dParams P = p;

        /// <summary>Clipped input range [lo, hi) of window index o along one axis.</summary>
        public static (int Lo, int Hi) Window(int o, int stride, int pad, int kernel, int size)
        {
            int start = o * stride - pad;
            return (Math.Max(start, 0), Math.Min(start + kernel, size));
        }

        /// <summary>Planes per parallel chunk so that a chunk holds about PoolParallelThreshold elements.</summary>
        public long MinPlanes => Math.Max(1, PoolParallelThreshold / Math.Max(1, (long)H * W + (long)OH * OW));
    }

    private static PoolShape PoolGeometry(in TensorView input, in TensorView output, in Pool2dParams p) =>
        new(input.Shape[0] * input.Shape[1], input.Shape[2], input.Shape[3], output.Shape[2], output.Shape[3], p);

    public void Pool2dForward(PoolKind kind, in TensorView x, in TensorView y, TensorView? indices, in Pool2dParams p)
    {
        var s = PoolGeometry(x, y, p);
        int* idx = indices is { } i ? Pointer<int>(i) : null;
        switch (x.DType)
        {
            case DType.Float32: PoolForward(kind, s, Pointer<float>(x), Pointer<float>(y), idx); break;
            case DType.Float64: PoolForward(kind, s, Pointer<double>(x), Pointer<double>(y), idx); break;
            default: throw Unsupported($"{kind} pool2d forward", x.DType);
        }
    }

    public void Pool2dBackward(PoolKind kind, in TensorView dy, TensorView? indices, in TensorView dx, in Pool2dParams p)
    {
        var s = PoolGeometry(dx, dy, p);
        int* idx = indices is { } i ? Pointer<int>(i) : null;
        if (kind == PoolKind.Max && idx == null)
            throw new ArgumentException("cpu: max pool2d backward needs the argmax indices written by the forward pass", nameof(indices));
        switch (dy.DType)
        {
            case DType.Float32: PoolBackward(kind, s, Pointer<float>(dy), idx, Pointer<float>(dx)); break;
            case DType.Float64: PoolBackward(kind, s, Pointer<double>(dy), idx, Pointer<double>(dx)); break;
            default: throw Unsupported($"{kind} pool2d backward", dy.DType);
        }
    }

    private static void PoolForward<T>(PoolKind kind, PoolShape s, T* x, T* y, int* indices) where T : unmanaged, IFloatingPointIeee754<T>
    {
        CpuParallel.ForRange(s.Planes, s.MinPlanes, (p0, p1) =>
        {
            for (long plane = p0; plane < p1; plane++)
            {
                T* input = x + plane * s.H * s.W;
                T* output = y + plane * s.OH * s.OW;
                int* argmax = indices == null ? null : indices + plane * s.OH * s.OW;
                if (kind == PoolKind.Max) MaxPoolPlane(s, input, output, argmax);
                else AveragePoolPlane(s, input, output);
            }
        });
    }

    // A NaN wins its window (PyTorch propagates NaN through max pooling); otherwise the first maximum wins.
    // Windows whose every tap lies inside the row go Vector256<T>.Count outputs at a time (for stride 1, and stride 2
    // in Float32); the rest one by one. Both select rather than branch: on real data "v > best" is a coin flip.
    private static void MaxPoolPlane<T>(in PoolShape s, T* input, T* output, int* argmax) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var p = s.P;
        int lanes = Vector256<T>.Count;
        bool vectorized = Vector256.IsHardwareAccelerated && (p.StrideW == 1 || (p.StrideW == 2 && typeof(T) == typeof(float)));
        // Vector blocks start where the first tap is inside the row and end where the last read is: stride 2 reads
        // float pairs, so an even last tap also reads its odd neighbour.
        int firstInterior = (p.PadW + p.StrideW - 1) / p.StrideW;
        int lastRead = p.KernelW - 1 + (p.StrideW == 2 && (p.KernelW - 1) % 2 == 0 ? 1 : 0);
        int interiorEnd = s.W - 1 - lastRead + p.PadW < 0 ? 0 : (s.W - 1 - lastRead + p.PadW) / p.StrideW + 1;
        for (int oh = 0; oh < s.OH; oh++)
        {
            var (h0, h1) = PoolShape.Window(oh, p.StrideH, p.PadH, p.KernelH, s.H);
            int ow = 0;
            while (ow < s.OW)
            {
                if (vectorized && ow >= firstInterior && ow + lanes <= Math.Min(interiorEnd, s.OW))
                {
                    MaxPoolBlock(s, input, output, argmax, oh, ow, h0, h1);
                    ow += lanes;
                    continue;
                }
                var (w0, w1) = PoolShape.Window(ow, p.StrideW, p.PadW, p.KernelW, s.W);
                T best = T.NegativeInfinity;
                int bestIndex = h0 < h1 && w0 < w1 ? h0 * s.W + w0 : -1;
                for (int h = h0; h < h1; h++)
                for (int w = w0; w < w1; w++)
                {
                    T v = input[h * s.W + w];
                    int take = (v > best) | (T.IsNaN(v) & !T.IsNaN(best)) ? -1 : 0;
                    bestIndex += (h * s.W + w - bestIndex) & take;
                    best = T.Max(best, v);
                }
                output[oh * s.OW + ow] = best;
                if (argmax != null) argmax[oh * s.OW + ow] = bestIndex;
                ow++;
            }
        }
    }

    /// <summary>Outputs [ow, ow + lanes) of row oh, all of whose taps are inside the row; rows [h0, h1) are valid.</summary>
    private static void MaxPoolBlock<T>(in PoolShape s, T* input, T* output, int* argmax, int oh, int ow, int h0, int h1)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var p = s.P;
        int top = oh * p.StrideH - p.PadH, left = ow * p.StrideW - p.PadW;
        var best = Vector256.Create(T.NegativeInfinity);
        // The tap (ki·KW + kj) each lane's maximum came from, as T; starts at the first valid row's first tap.
        var bestTap = Vector256.Create(T.CreateTruncating((h0 - top) * p.KernelW));
        for (int h = h0; h < h1; h++)
        {
            T* row = input + (long)h * s.W + left;
            for (int kj = 0; kj < p.KernelW; kj++)
            {
                var v = p.StrideW == 1 ? Vector256.Load(row + kj) : LoadStride2((float*)row + (kj & ~1), odd: (kj & 1) != 0).As<float, T>();
                var take = Vector256.GreaterThan(v, best) | (~Vector256.Equals(v, v) & Vector256.Equals(best, best));
                best = Vector256.ConditionalSelect(take, v, best);
                bestTap = Vector256.ConditionalSelect(take, Vector256.Create(T.CreateTruncating((h - top) * p.KernelW + kj)), bestTap);
            }
        }
        best.Store(output + oh * s.OW + ow);
        if (argmax == null) return;
        for (int lane = 0; lane < Vector256<T>.Count; lane++)
        {
            int tap = int.CreateTruncating(bestTap[lane]);
            argmax[oh * s.OW + ow + lane] = (top + tap / p.KernelW) * s.W + left + lane * p.StrideW + tap % p.KernelW;
        }
    }

    private static void AveragePoolPlane<T>(in PoolShape s, T* input, T* output) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var p = s.P;
        T scale = T.One / T.CreateTruncating(p.KernelH * p.KernelW);
        for (int oh = 0; oh < s.OH; oh++)
        {
            var (h0, h1) = PoolShape.Window(oh, p.StrideH, p.PadH, p.KernelH, s.H);
            for (int ow = 0; ow < s.OW; ow++)
            {
                var (w0, w1) = PoolShape.Window(ow, p.StrideW, p.PadW, p.KernelW, s.W);
                T sum = T.Zero;
                for (int h = h0; h < h1; h++)
                for (int w = w0; w < w1; w++)
                    sum += input[h * s.W + w];
                output[oh * s.OW + ow] = sum * scale;
            }
        }
    }

    private static void PoolBackward<T>(PoolKind kind, PoolShape s, T* dy, int* indices, T* dx) where T : unmanaged, IFloatingPointIeee754<T>
    {
        CpuParallel.ForRange(s.Planes, s.MinPlanes, (p0, p1) =>
        {
            for (long plane = p0; plane < p1; plane++)
            {
                T* dInput = dx + plane * s.H * s.W;
                T* dOutput = dy + plane * s.OH * s.OW;
                new Span<T>(dInput, s.H * s.W).Clear();
                if (kind == PoolKind.Max)
                {
                    int* argmax = indices + plane * s.OH * s.OW;
                    for (int o = 0; o < s.OH * s.OW; o++)
                        if (argmax[o] >= 0) dInput[argmax[o]] += dOutput[o];
                }
                else AveragePoolBackwardPlane(s, dOutput, dInput);
            }
        });
    }

    private static void AveragePoolBackwardPlane<T>(in PoolShape s, T* dOutput, T* dInput) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var p = s.P;
        T scale = T.One / T.CreateTruncating(p.KernelH * p.KernelW);
        for (int oh = 0; oh < s.OH; oh++)
        {
            var (h0, h1) = PoolShape.Window(oh, p.StrideH, p.PadH, p.KernelH, s.H);
            for (int ow = 0; ow < s.OW; ow++)
            {
                var (w0, w1) = PoolShape.Window(ow, p.StrideW, p.PadW, p.KernelW, s.W);
                T share = dOutput[oh * s.OW + ow] * scale;
                for (int h = h0; h < h1; h++)
                for (int w = w0; w < w1; w++)
                    dInput[h * s.W + w] += share;
            }
        }
    }
}
