// Reductions: Sum / Max / Min over any set of axes of a contiguous tensor, and the row-wise ArgMax.
//
// The host merges neighbouring dims that are both reduced or both kept, then describes the work as outputs j and
// reduction positions k in [0, length):
//   element (j, k) = x[kept.At(j) + outer.At(k / run) + (k % run)·runStride]
// `kept` places output j (its offset is x's), the reduction is a sequence of runs of `run` elements (the innermost
// reduced dim, runStride apart) placed by `outer` (the other reduced dims, offset 0). FoldRange walks the runs, so
// At is paid once per run rather than once per element.
//
// Two kernels, chosen by the host from the layout:
// - Groups: a work group per (output, chunk); its items stride along the run (coalesced when the innermost dim is
//   reduced), then fold their values in a tree in shared memory;
// - Items: a work item per (output, chunk), adjacent items on adjacent outputs (coalesced when the innermost dim is
//   kept, e.g. a sum over the batch of [N, F]).
// When an output's reduction is split into chunks, both write partial results [outputs, chunks] that the host folds
// with a second launch. Max and Min propagate NaN like the CPU (Math.Max / Math.Min): any NaN gives NaN — ILGPU.
// Algorithms' reductions use the hardware's max/min, which drop NaN, so these folds are own code.
using ILGPU;

namespace Standalone.Backends.Gpu.Kernels;

/// <summary>The reduction's layout (see the header), one struct so that the kernels stay within ILGPU's 14 parameters.</summary>
public struct ReduceShape
{
    public KernelView Kept, Outer;
    public long Run, RunStride, Length, ChunkLength, Outputs;
    public int Op, Chunks;
}

internal static class ReduceKernels
{
    /// <summary>The largest work group the host launches (a power of two): the size of the shared-memory trees.</summary>
    public const int MaxGroup = 256;

    public static float Identity(int op) => op == (int)ReduceOp.Sum ? 0f : op == (int)ReduceOp.Max ? float.NegativeInfinity : float.PositiveInfinity;

    public static float Combine(int op, float a, float b)
    {
        if (op == (int)ReduceOp.Sum) return a + b;
        if (op == (int)ReduceOp.Max) return Item.IsNaN(a) || a > b ? a : b;
        return Item.IsNaN(a) || a < b ? a : b;
    }

    /// <summary>
    /// Folds the positions k in [k0, k1) of the output at x[start] that this work item takes: runs firstRun,
    /// firstRun + runStep, ... (counted from the run holding k0) and, within each, positions firstInRun,
    /// firstInRun + inRunStep, ...
    /// </summary>
    private static float FoldRange(ArrayView<float> x, long start, in ReduceShape s, long k0, long k1, int firstRun, int runStep, int firstInRun, int inRunStep)
    {
        float acc = Identity(s.Op);
        if (k1 <= k0) return acc;
        long lastRun = (k1 - 1) / s.Run;
        for (long q = k0 / s.Run + firstRun; q <= lastRun; q += runStep)
        {
            long runStart = q * s.Run;
            long lo = k0 > runStart ? k0 - runStart : 0;
            long hi = k1 - runStart < s.Run ? k1 - runStart : s.Run;
            long p = start + s.Outer.At(q);
            for (long r = lo + firstInRun; r < hi; r += inRunStep) acc = Combine(s.Op, acc, x[p + r * s.RunStride]);
        }
        return acc;
    }

    /// <summary>A work group per (output j, chunk), launched as outputs·chunks groups: writes y[j·chunks + chunk].</summary>
    public static void Groups(ArrayView<float> x, ReduceShape s, ArrayView<float> y)
    {
        var partial = SharedMemory.Allocate<float>(MaxGroup);
        int lid = Item.Local0, size = Item.LocalSize0;
        long group = Item.Group0;
        long j = group / s.Chunks, chunk = group % s.Chunks;
        long k0 = chunk * s.ChunkLength;
        long k1 = k0 + s.ChunkLength < s.Length ? k0 + s.ChunkLength : s.Length;
        // Items share a run when it is at least as long as the group; shorter runs are taken `rows` at a time, each by
        // `width` items, so that no item idles on a short run.
        int width = s.Run < size ? (int)s.Run : size;
        int rows = size / width;
        float acc = Identity(s.Op);
        if (lid / width < rows)
            acc = FoldRange(x, s.Kept.At(j), s, k0, k1, lid / width, rows, lid % width, width);
        partial[lid] = acc;
        Group.Barrier();
        for (int step = size / 2; step > 0; step /= 2)
        {
            if (lid < step) partial[lid] = Combine(s.Op, partial[lid], partial[lid + step]);
            Group.Barrier();
        }
        if (lid == 0) y[group] = partial[0];
    }

    /// <summary>A work item per (output j, chunk), item i = chunk·outputs + j: writes y[j·chunks + chunk].</summary>
    public static void Items(ArrayView<float> x, ReduceShape s, ArrayView<float> y)
    {
        long i = Item.Global0;
        if (i >= s.Outputs * s.Chunks) return;
        long chunk = i / s.Outputs, j = i % s.Outputs;
        long k0 = chunk * s.ChunkLength;
        long k1 = k0 + s.ChunkLength < s.Length ? k0 + s.ChunkLength : s.Length;
        y[j * s.Chunks + chunk] = FoldRange(x, s.Kept.At(j), s, k0, k1, 0, 1, 0, 1);
    }

    /// <summary>
    /// True when (a at index ia) beats (b at ib) for argmax: a NaN beats any number (the earlier NaN wins, PyTorch's
    /// argmax), else the larger value wins and a tie goes to the lower index. A total order, so any fold order agrees.
    /// </summary>
    private static bool ArgMaxBeats(float a, long ia, float b, long ib)
    {
        if (Item.IsNaN(a) || Item.IsNaN(b)) return Item.IsNaN(a) && (!Item.IsNaN(b) || ia < ib);
        return a > b || (a == b && ia < ib);
    }

    /// <summary>A work group per row of a contiguous [rows, cols] x: y[row] = index of the row's first maximum.</summary>
    public static void ArgMaxRows(ArrayView<float> x, long cols, ArrayView<long> y)
    {
        var bestValue = SharedMemory.Allocate<float>(MaxGroup);
        var bestIndex = SharedMemory.Allocate<long>(MaxGroup);
        int lid = Item.Local0, size = Item.LocalSize0;
        long row = Item.Group0;
        long start = row * cols;
        // (−∞, cols) loses to every element of the row, so it stands for "nothing seen yet".
        float value = float.NegativeInfinity;
        long index = cols;
        for (long c = lid; c < cols; c += size)
        {
            float v = x[start + c];
            if (ArgMaxBeats(v, c, value, index))
            {
                value = v;
                index = c;
            }
        }
        bestValue[lid] = value;
        bestIndex[lid] = index;
        Group.Barrier();
        for (int step = size / 2; step > 0; step /= 2)
        {
            if (lid < step && ArgMaxBeats(bestValue[lid + step], bestIndex[lid + step], bestValue[lid], bestIndex[lid]))
            {
                bestValue[lid] = bestValue[lid + step];
                bestIndex[lid] = bestIndex[lid + step];
            }
            Group.Barrier();
        }
        if (lid == 0) y[row] = bestIndex[0];
    }
}
