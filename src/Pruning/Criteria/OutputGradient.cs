// The gradient that seeds a scoring backward pass at the logits, per sample (docs/algorithms.md):
//   labelled  ∂CE/∂logits = softmax(logits) − onehot(label)   (the per-sample loss gradient, no 1/N)
//   random    g ~ N(0, I), normalised to unit L2 norm per sample (no labels, no loss; Sapkota & Bhattarai)
// With normalisation each sample's row is divided by its L2 norm + 1e-5 so that every sample weighs the same
// (implied for random gradients, which are unit-norm by construction).
using Standalone.Autograd;

namespace Standalone.Pruning.Criteria;

public sealed record OutputGradientOptions
{
    public bool Random { get; init; }
    public bool Normalize { get; init; }
    /// <summary>Seed of the random gradients (logged in reports).</summary>
    public ulong Seed { get; init; }

    public const double NormalizeEpsilon = 1e-5;
}

internal sealed class OutputGradient(OutputGradientOptions options)
{
    private readonly Rng _rng = new(options.Seed);
    public Rng Rng => _rng;

    /// <summary>The seed gradient for logits [N, K] and labels [N]; the caller disposes it.</summary>
    public Tensor For(Tensor logits, Tensor labels)
    {
        Tensor g;
        if (options.Random) g = Tensor.RandomNormal(logits.Shape, 0, 1, _rng, logits.DType, logits.Backend);
        else
        {
            var detached = new Variable(logits.Share(), requiresGrad: true);
            F.CrossEntropy(detached, labels, reduction: Reduction.Sum).Backward();
            g = detached.Grad!;
        }
        if (!options.Random && !options.Normalize) return g;
        using var norm = g.Square().Sum(1, keepDims: true);
        norm.ApplyInPlace(Standalone.Backends.UnaryOp.Sqrt).ApplyInPlace(Standalone.Backends.UnaryOp.Affine, 1, options.Random ? 0 : OutputGradientOptions.NormalizeEpsilon);
        using (g) return g.Div(norm);
    }
}
