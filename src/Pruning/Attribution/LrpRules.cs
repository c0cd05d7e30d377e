// The LRP rules of docs/algorithms.md as tensor operations, one method per rule. Each takes the relevance R at a layer's
// output and the forward values it needs, and returns the relevance at the layer's input. Notation: z_ij is input
// i's contribution to output j, z_j = Σ_i z_ij, and every rule has the form R_i = Σ_j z_ij / z_j · R_j. The sum over j
// is the layer's backward product (transposed conv, Wᵀ, pool backward), so R_i = x_i · backward(s)_i with
// s = R / z — no loops over elements, nothing device-specific. Temporaries are left to the caller's TensorScope.
using Standalone.Backends;

namespace Standalone.Pruning.Attribution;

internal static class LrpRules
{
    /// <summary>
    /// s = R / (z + ε·sign z), and 0 where z = 0 (nothing flowed through that output, so its relevance has nowhere to
    /// go): the Stabilize op maps z = 0 to +∞, so the division gives 0 there — two passes over the activation.
    /// </summary>
    public static Tensor Ratio(Tensor relevance, Tensor z, double epsilon)
    {
        using var denominator = z.Apply(UnaryOp.Stabilize, epsilon);
        return relevance.Div(denominator);
    }

    /// <summary>
    /// α1β0 (z⁺) for a conv whose bias is ignored: z_ij = (x_i·w_ij)⁺. With x⁺ = max(x, 0), x⁻ = min(x, 0) and the
    /// same split of w, (x·w)⁺ = x⁺·w⁺ + x⁻·w⁻, so z_j = conv(x⁺, w⁺) + conv(x⁻, w⁻) and
    /// R = x⁺·convᵀ(s, w⁺) + x⁻·convᵀ(s, w⁻). Inputs after a ReLU have no x⁻, and then only the first term is computed.
    /// </summary>
    public static Tensor ConvZPlus(Tensor x, Tensor weight, Tensor relevance, in Conv2dParams p, double stabilizer, bool? nonNegative = null)
    {
        var positiveWeight = weight.Relu();
        if (nonNegative ?? IsNonNegative(x))
        {
            var z = Tensor.Conv2d(x, positiveWeight, null, p);
            var s = Ratio(relevance, z, stabilizer);
            return x.Mul(Tensor.Conv2dBackwardInput(s, positiveWeight, x.Shape, p));
        }
        var positiveX = x.Relu();
        var negativeX = x.Sub(positiveX);
        var negativeWeight = weight.Sub(positiveWeight);
        var zSplit = Tensor.Conv2d(positiveX, positiveWeight, null, p).Add(Tensor.Conv2d(negativeX, negativeWeight, null, p));
        var sSplit = Ratio(relevance, zSplit, stabilizer);
        return positiveX.Mul(Tensor.Conv2dBackwardInput(sSplit, positiveWeight, x.Shape, p))
            .Add(negativeX.Mul(Tensor.Conv2dBackwardInput(sSplit, negativeWeight, x.Shape, p)));
    }

    private static bool IsNonNegative(Tensor x)
    {
        using var minimum = x.Min();
        return minimum.Item() >= 0;
    }

    /// <summary>
    /// z^B for the conv that reads the pixels, bounded by low ≤ x ≤ high (per input channel, [1, C, 1, 1]):
    /// z_ij = x_i·w_ij − low_i·w⁺_ij − high_i·w⁻_ij ≥ 0, bias ignored. Zero padding pads the bounds too, so padded
    /// positions contribute nothing. R = x·convᵀ(s, w) − low·convᵀ(s, w⁺) − high·convᵀ(s, w⁻).
    /// </summary>
    public static Tensor ConvZBox(Tensor x, Tensor weight, Tensor low, Tensor high, Tensor relevance, in Conv2dParams p, double stabilizer)
    {
        var positiveWeight = weight.Relu();
        var negativeWeight = weight.Sub(positiveWeight);
        var lows = low.Expand(x.Shape);
        var highs = high.Expand(x.Shape);
        var z = Tensor.Conv2d(x, weight, null, p)
            .Sub(Tensor.Conv2d(lows, positiveWeight, null, p))
            .Sub(Tensor.Conv2d(highs, negativeWeight, null, p));
        var s = Ratio(relevance, z, stabilizer);
        return x.Mul(Tensor.Conv2dBackwardInput(s, weight, x.Shape, p))
            .Sub(low.Mul(Tensor.Conv2dBackwardInput(s, positiveWeight, x.Shape, p)))
            .Sub(high.Mul(Tensor.Conv2dBackwardInput(s, negativeWeight, x.Shape, p)));
    }

    /// <summary>
    /// ε-rule for y = x·Wᵀ + b: z_ij = x_i·w_ji and z_j = y_j, the layer's actual output, bias included (the standard
    /// ε-rule of Bach et al. 2015 and the LRP toolbox Yeom et al. build on: the bias keeps its share of the relevance,
    /// so conservation is exact only without biases). R = x · (s·W).
    /// </summary>
    public static Tensor LinearEpsilon(Tensor x, Tensor weight, Tensor y, Tensor relevance, double epsilon) =>
        x.Mul(Tensor.MatMul(Ratio(relevance, y, epsilon), weight));

    /// <summary>Max pool: each output's relevance goes to the input that won it (the forward's arg-max, recomputed).</summary>
    public static Tensor MaxPool(Tensor x, Tensor relevance, in Pool2dParams p)
    {
        var (_, indices) = Tensor.Pool2d(PoolKind.Max, x, p);
        return Tensor.Pool2dBackward(PoolKind.Max, relevance, indices, x.Shape, p);
    }

    /// <summary>
    /// Average pool, z-rule: z_ij = x_i/(kH·kW), z_j = y_j (padded zeros count but contribute nothing), so
    /// R = x · avgpoolᵀ(s).
    /// </summary>
    public static Tensor AvgPool(Tensor x, Tensor y, Tensor relevance, in Pool2dParams p, double stabilizer) =>
        x.Mul(Tensor.Pool2dBackward(PoolKind.Average, Ratio(relevance, y, stabilizer), null, x.Shape, p));

    /// <summary>Global average pool, z-rule: R[n,c,h,w] = x[n,c,h,w]/(H·W) · s[n,c] with y = the channel mean.</summary>
    public static Tensor GlobalAvgPool(Tensor x, Tensor y, Tensor relevance, double stabilizer) =>
        x.Mul(Ratio(relevance, y, stabilizer)).Affine(1.0 / (x.Shape[2] * x.Shape[3]), 0);

    /// <summary>Residual add y = a + b: R_a = a·s, R_b = b·s, the split in proportion a/(a+b), b/(a+b).</summary>
    public static (Tensor A, Tensor B) Add(Tensor a, Tensor b, Tensor y, Tensor relevance, double stabilizer)
    {
        if (a.Shape != b.Shape)
            throw new NotSupportedException($"LRP: the add rule splits same-shape sums (residual adds); got {a.Shape} + {b.Shape}");
        var s = Ratio(relevance, y, stabilizer);
        return (a.Mul(s), b.Mul(s));
    }

    /// <summary>Constant padding: the padded entries came from no input, so the input gets the interior.</summary>
    public static Tensor Pad(Shape inputShape, IReadOnlyList<(int Before, int After)> padding, Tensor relevance)
    {
        int lead = inputShape.Rank - padding.Count;
        var interior = relevance;
        for (int axis = lead; axis < inputShape.Rank; axis++)
            interior = interior.Slice(axis, padding[axis - lead].Before, inputShape[axis]);
        return interior.Contiguous();
    }

    /// <summary>Slice: each kept entry's relevance goes back to where it was taken from; the rest of the input gets 0.</summary>
    public static Tensor Slice(Shape inputShape, int axis, int start, int length, int step, Tensor relevance)
    {
        var result = Tensor.Zeros(inputShape, relevance.DType, relevance.Backend);
        using (var window = result.Slice(axis, start, length, step)) window.CopyFrom(relevance);
        return result;
    }
}
