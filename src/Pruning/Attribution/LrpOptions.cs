// The choices an LRP pass runs with (docs/algorithms.md, "LRP relevance"): the ε of the Linear ε-rule, the stabiliser of
// the z⁺ rule, the residual split and the average pools, the input normalisation and pixel range from which the
// z^B bounds of the first conv are derived, and where the relevance starts.
namespace Standalone.Pruning.Attribution;

/// <summary>Which logit each sample's relevance starts at (1 there, 0 elsewhere).</summary>
public enum LrpStart
{
    /// <summary>The true class; the predicted class when no labels are given.</summary>
    Label,
    /// <summary>The predicted class (arg-max logit), even when labels are given.</summary>
    Predicted,
}

public sealed record LrpOptions
{
    public static LrpOptions Default { get; } = new();

    /// <summary>ε of the Linear ε-rule: R_i = Σ_j x_i·w_ij / (z_j + ε·sign z_j) · R_j.</summary>
    public double Epsilon { get; init; } = 1e-6;

    /// <summary>
    /// Added sign-aware (z + s·sign z) to every other denominator: the z⁺ and z^B sums, the residual add's a + b and
    /// the average pools' window sums. Only a guard: conservation loses a fraction s/|z| at each output.
    /// </summary>
    public double Stabilizer { get; init; } = 1e-9;

    /// <summary>Per-channel mean the images were normalised with (one value applies to every channel).</summary>
    public IReadOnlyList<double> Mean { get; init; } = [0.0];

    /// <summary>Per-channel standard deviation the images were normalised with (one value applies to every channel).</summary>
    public IReadOnlyList<double> Std { get; init; } = [1.0];

    /// <summary>The smallest raw pixel value: z^B's lower bound is (PixelLow − mean)/std per channel.</summary>
    public double PixelLow { get; init; }

    /// <summary>The largest raw pixel value: z^B's upper bound is (PixelHigh − mean)/std per channel.</summary>
    public double PixelHigh { get; init; } = 1.0;

    public LrpStart Start { get; init; } = LrpStart.Label;

    /// <summary>Keep every layer's relevance tensor in the result (for inspection and tests), not only its sums.</summary>
    /// <summary>Compute each layer's per-sample relevance sums (conservation checks); scoring turns it off to save a
    /// reduction and a read-back per layer.</summary>
    public bool LayerSums { get; init; } = true;

    public bool KeepRelevance { get; init; }

    /// <summary>The z^B bounds (low, high) per input channel, after checking the options against the images.</summary>
    internal (double[] Low, double[] High) InputBounds(int channels)
    {
        if (!(Epsilon >= 0) || !(Stabilizer >= 0))
            throw new ArgumentException($"LRP: epsilon ({Epsilon}) and stabilizer ({Stabilizer}) must be ≥ 0");
        if (!(PixelLow < PixelHigh))
            throw new ArgumentException($"LRP: the pixel range must have low < high, got [{PixelLow}, {PixelHigh}]");
        var low = new double[channels];
        var high = new double[channels];
        for (int c = 0; c < channels; c++)
        {
            double mean = PerChannel(Mean, "mean", c, channels), std = PerChannel(Std, "std", c, channels);
            if (!(std > 0)) throw new ArgumentException($"LRP: std of input channel {c} must be positive, got {std}");
            (low[c], high[c]) = ((PixelLow - mean) / std, (PixelHigh - mean) / std);
        }
        return (low, high);
    }

    private static double PerChannel(IReadOnlyList<double> values, string what, int c, int channels) =>
        values.Count == 1 ? values[0]
        : values.Count == channels ? values[c]
        : throw new ArgumentException($"LRP: {what} has {values.Count} values; the images have {channels} channels (give 1 or {channels})");
}
