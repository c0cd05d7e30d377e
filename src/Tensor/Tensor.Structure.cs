// Ops that build new tensors from pieces: matmul, concat, pad, index_select.
namespace Standalone;

public sealed partial class Tensor
{
    /// <summary>
    /// Matrix product: [M,K]·[K,N] → [M,N], or batched [B,M,K]·[B,K,N] → [B,M,N] (a 2-D operand is broadcast over
    /// the batch). transA/transB use the transposed operand without copying.
    /// </summary>
    public static Tensor MatMul(Tensor a, Tensor b, bool transA = false, bool transB = false)
    {
        a.CheckBinary(b, "matmul");
        if (a.Rank is < 2 or > 3 || b.Rank is < 2 or > 3)
            throw new ArgumentException($"matmul: expected 2-D or 3-D operands, got {a.Shape} and {b.Shape}");
        int m = transA ? a.Shape[-1] : a.Shape[-2], ka = transA ? a.Shape[-2] : a.Shape[-1];
        int kb = transB ? b.Shape[-1] : b.Shape[-2], n = transB ? b.Shape[-2] : b.Shape[-1];
        if (ka != kb)
            throw new ArgumentException($"matmul: inner dimensions differ: {a.Shape}{(transA ? "ᵀ" : "")} · {b.Shape}{(transB ? "ᵀ" : "")} ({ka} vs {kb})");
        int batchA = a.Rank == 3 ? a.Shape[0] : 1, batchB = b.Rank == 3 ? b.Shape[0] : 1;
        if (batchA != batchB && batchA != 1 && batchB != 1)
            throw new ArgumentException($"matmul: batch sizes {batchA} and {batchB} do not broadcast");
        int batch = Math.Max(batchA, batchB);
        using var a3 = a.AsBatchedMatrix(batch);
        using var b3 = b.AsBatchedMatrix(batch);
        var c = Empty(new Shape(batch, m, n), a.DType, a.Backend);
        using (Diagnostics.OpProfiler.Measure("matmul", a.Backend)) a.Backend.MatMul(a3.View, transA, b3.View, transB, c.View, 1, 0);
        if (a.Rank == 3 || b.Rank == 3) return c;
        using (c) return c.Reshape(m, n);
    }

    /// <summary>A rank-3 view with unit last stride (copying only when rows are not contiguous).</summary>
    private Tensor AsBatchedMatrix(int batch)
    {
        using var rowMajor = Stride(-1) == 1 ? Share() : Contiguous();
        if (Rank == 3 && Shape[0] == batch) return rowMajor.Share();
        using var m = Rank == 3 ? rowMajor.Squeeze(0) : rowMajor.Share();
        using var single = m.Unsqueeze(0);
        return single.Expand(new Shape(batch, Shape[-2], Shape[-1]));
    }

    /// <summary>Concatenates tensors of equal shape except along axis.</summary>
    public static Tensor Concat(int axis, params Tensor[] parts)
    {
        if (parts.Length == 0) throw new ArgumentException("concat: no tensors given");
        var first = parts[0];
        int a = first.Shape.Normalize(axis);
        int total = 0;
        foreach (var p in parts)
        {
            first.CheckSameDevice(p, "concat");
            if (p.Rank != first.Rank || p.DType != first.DType)
                throw new ArgumentException($"concat: {p.Shape} {p.DType} does not match {first.Shape} {first.DType}");
            for (int i = 0; i < first.Rank; i++)
                if (i != a && p.Shape[i] != first.Shape[i])
                    throw new ArgumentException($"concat along axis {a}: shapes {first.Shape} and {p.Shape} differ in dimension {i}");
            total += p.Shape[a];
        }
        var result = Empty(first.Shape.With(a, total), first.DType, first.Backend);
        int at = 0;
        foreach (var p in parts)
        {
            using var slot = result.Slice(a, at, p.Shape[a]);
            first.Backend.Copy(p.View, slot.View);
            at += p.Shape[a];
        }
        return result;
    }

    /// <summary>Pads with a constant: padding[i] = (before, after) for dimension i (missing leading entries = none).</summary>
    public Tensor Pad(ReadOnlySpan<(int Before, int After)> padding, double value = 0)
    {
        if (padding.Length > Rank) throw new ArgumentException($"pad: {padding.Length} pad pairs for a tensor of rank {Rank}");
        Span<int> d = stackalloc int[Rank];
        int lead = Rank - padding.Length;
        for (int i = 0; i < Rank; i++)
        {
            var (before, after) = i < lead ? (0, 0) : padding[i - lead];
            if (before < 0 || after < 0) throw new ArgumentException($"pad: negative padding ({before}, {after}) for dimension {i}");
            d[i] = Shape[i] + before + after;
        }
        var result = Full(new Shape(d), value, DType, Backend);
        var interior = result.Share();
        for (int i = lead; i < Rank; i++)
        {
            var next = interior.Slice(i, padding[i - lead].Before, Shape[i]);
            interior.Dispose();
            interior = next;
        }
        using (interior) Backend.Copy(View, interior.View);
        return result;
    }

    /// <summary>Selects entries along an axis by an Int64 index tensor (1-D).</summary>
    public Tensor IndexSelect(int axis, Tensor index)
    {
        int a = Shape.Normalize(axis);
        if (index.DType != DType.Int64 || index.Rank != 1)
            throw new ArgumentException($"index_select: index must be a 1-D Int64 tensor, got {index.Shape} {index.DType}");
        CheckSameDevice(index, "index_select");
        var result = Empty(Shape.With(a, index.Shape[0]), DType, Backend);
        using var x = Contiguous();
        using var i = index.Contiguous();
        Backend.IndexSelect(x.View, a, i.View, result.View);
        return result;
    }
}
