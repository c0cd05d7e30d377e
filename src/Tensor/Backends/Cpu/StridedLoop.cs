// The one piece of looping machinery behind every element-wise CPU kernel: walks a destination shape row by row
// (a row = the innermost dimension after merging dimensions that are contiguous for every operand), handing the
// kernel the starting offsets and inner strides of up to three operands. Large work is split across threads,
// by rows when there are many, by segments of the row when there are few.
namespace Standalone.Backends.Cpu;

/// <summary>Processes one row: operands start at the given element offsets and advance by the given strides.</summary>
internal delegate void RowBody(long dst, long a, long b, int length, long dstStride, long aStride, long bStride);

internal static class StridedLoop
{
    // Below ~128K elements a parallel region costs more than it saves (measured: 36,864-element affine, 2 threads).
    private const long ParallelThreshold = 1 << 17;

    private struct Layout
    {
        public Dims8 Dims;
        public Strides8 D, A, B;
        public int Rank;
    }

    public static void Run(in Shape shape, in Strides8 dstStrides, long dstOffset, in Strides8 aStrides, long aOffset,
        in Strides8 bStrides, long bOffset, RowBody body)
    {
        var l = Coalesce(shape, dstStrides, aStrides, bStrides);
        int inner = l.Rank - 1;
        int length = l.Dims[inner];
        long rows = 1;
        for (int i = 0; i < inner; i++) rows *= l.Dims[i];
        long total = rows * length;
        if (total == 0) return;

        if (total < ParallelThreshold || CpuParallel.ThreadCount == 1)
        {
            RunRows(l, 0, rows, dstOffset, aOffset, bOffset, body);
            return;
        }
        RunParallel(l, rows, length, dstOffset, aOffset, bOffset, body);
    }

    // Kept apart from Run: its lambdas capture the layout, and C# allocates the capture object on entry to the
    // method that declares them — here only when the work is big enough to go parallel.
    private static void RunParallel(Layout l, long rows, int length, long dstOffset, long aOffset, long bOffset, RowBody body)
    {
        int inner = l.Rank - 1;
        long ds = l.D[inner], sa = l.A[inner], sb = l.B[inner];
        if (rows >= 2 * CpuParallel.ThreadCount)
        {
            CpuParallel.ForRange(rows, Math.Max(1, ParallelThreshold / length), (r0, r1) => RunRows(l, r0, r1, dstOffset, aOffset, bOffset, body));
            return;
        }
        // Few long rows: split every row into segments.
        for (long r = 0; r < rows; r++)
        {
            Offsets(l, r, out long d0, out long a0, out long b0);
            d0 += dstOffset; a0 += aOffset; b0 += bOffset;
            CpuParallel.ForRange(length, ParallelThreshold / 2, (s, e) =>
                body(d0 + s * ds, a0 + s * sa, b0 + s * sb, (int)(e - s), ds, sa, sb));
        }
    }

    private static void RunRows(Layout l, long row0, long row1, long dstOffset, long aOffset, long bOffset, RowBody body)
    {
        int inner = l.Rank - 1;
        int length = l.Dims[inner];
        long ds = l.D[inner], sa = l.A[inner], sb = l.B[inner];
        Span<int> index = stackalloc int[Math.Max(1, inner)];
        long rem = row0;
        for (int i = inner - 1; i >= 0; i--) { index[i] = (int)(rem % l.Dims[i]); rem /= l.Dims[i]; }
        Offsets(l, row0, out long d, out long a, out long b);
        d += dstOffset; a += aOffset; b += bOffset;
        for (long r = row0; r < row1; r++)
        {
            body(d, a, b, length, ds, sa, sb);
            for (int i = inner - 1; i >= 0; i--)
            {
                index[i]++;
                d += l.D[i]; a += l.A[i]; b += l.B[i];
                if (index[i] < l.Dims[i]) break;
                index[i] = 0;
                d -= l.D[i] * l.Dims[i]; a -= l.A[i] * l.Dims[i]; b -= l.B[i] * l.Dims[i];
            }
        }
    }

    private static void Offsets(in Layout l, long row, out long d, out long a, out long b)
    {
        d = a = b = 0;
        for (int i = l.Rank - 2; i >= 0; i--)
        {
            long idx = row % l.Dims[i];
            row /= l.Dims[i];
            d += idx * l.D[i]; a += idx * l.A[i]; b += idx * l.B[i];
        }
    }

    /// <summary>Drops size-1 dimensions and merges neighbours that are contiguous for all three operands.</summary>
    private static Layout Coalesce(in Shape shape, in Strides8 d, in Strides8 a, in Strides8 b)
    {
        var l = new Layout();
        int r = 0;
        for (int i = 0; i < shape.Rank; i++)
        {
            int n = shape[i];
            if (n == 1) continue;
            if (r > 0 && l.D[r - 1] == d[i] * n && l.A[r - 1] == a[i] * n && l.B[r - 1] == b[i] * n)
            {
                l.Dims[r - 1] *= n;
                l.D[r - 1] = d[i]; l.A[r - 1] = a[i]; l.B[r - 1] = b[i];
                continue;
            }
            l.Dims[r] = n; l.D[r] = d[i]; l.A[r] = a[i]; l.B[r] = b[i];
            r++;
        }
        if (r == 0) { l.Dims[0] = 1; l.D[0] = 1; l.A[0] = 1; l.B[0] = 1; r = 1; }
        l.Rank = r;
        return l;
    }
}
