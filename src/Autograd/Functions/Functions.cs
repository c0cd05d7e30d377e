// Shared helpers for the differentiable ops in this folder (each op lives in its own file as part of F).
namespace Standalone.Autograd;

internal static class Functions
{
    /// <summary>Sums a broadcast gradient back to the shape of the input it was broadcast from.</summary>
    public static Tensor SumToShape(Tensor g, Shape target)
    {
        int lead = g.Rank - target.Rank;
        if (lead < 0) throw new ArgumentException($"gradient {g.Shape} has lower rank than its input {target}");
        var axes = new List<int>();
        for (int i = 0; i < g.Rank; i++)
            if (i < lead || (target[i - lead] == 1 && g.Shape[i] != 1)) axes.Add(i);
            else if (target[i - lead] != g.Shape[i]) throw new ArgumentException($"gradient {g.Shape} does not broadcast to its input {target}");
        if (axes.Count == 0) return g.Reshape(target);
        using var summed = g.Sum(axes.ToArray(), keepDims: true);
        return summed.Reshape(target);
    }
}
