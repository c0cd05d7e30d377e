// What an input attribution method returns for one image: a relevance per input value [C, H, W] and per pixel
// (summed over channels), the class it explains, the model's logits at the input and at the baseline, and the
// completeness check of integrated gradients — Σ attributions should equal f_t(x) − f_t(x').
namespace Standalone.Pruning.Attribution;

public sealed class PixelAttribution
{
    public PixelAttribution(double[] perChannel, int channels, int height, int width, int target, float[] logits, float[] baselineLogits, int steps)
    {
        if (perChannel.Length != channels * height * width)
            throw new ArgumentException($"pixel attribution: {perChannel.Length} values do not hold {channels}×{height}×{width}");
        if ((uint)target >= (uint)logits.Length || logits.Length != baselineLogits.Length)
            throw new ArgumentException($"pixel attribution: target {target} must index the {logits.Length} logits, and the baseline's {baselineLogits.Length} logits must match them");
        PerChannel = perChannel;
        Channels = channels;
        Height = height;
        Width = width;
        Target = target;
        Logits = logits;
        BaselineLogits = baselineLogits;
        Steps = steps;
        PerPixel = new double[height * width];
        for (int c = 0; c < channels; c++)
            for (int p = 0; p < PerPixel.Length; p++) PerPixel[p] += perChannel[c * PerPixel.Length + p];
    }

    /// <summary>Attribution of every input value, [Channels, Height, Width] in C order.</summary>
    public double[] PerChannel { get; }
    /// <summary>Attribution of every pixel, [Height, Width]: the channels' attributions summed.</summary>
    public double[] PerPixel { get; }
    public int Channels { get; }
    public int Height { get; }
    public int Width { get; }
    /// <summary>The class whose logit is explained.</summary>
    public int Target { get; }
    /// <summary>The model's logits at the input x.</summary>
    public float[] Logits { get; }
    /// <summary>The model's logits at the baseline x'.</summary>
    public float[] BaselineLogits { get; }
    /// <summary>Riemann steps along the path from x' to x.</summary>
    public int Steps { get; }

    /// <summary>The class with the largest logit at the input (the first of equal ones).</summary>
    public int Predicted => Array.IndexOf(Logits, Logits.Max());

    /// <summary>Softmax probability of a class at the input.</summary>
    public double Probability(int classIndex)
    {
        double max = Logits.Max(), sum = Logits.Sum(l => Math.Exp(l - max));
        return Math.Exp(Logits[classIndex] - max) / sum;
    }

    /// <summary>Σ of every attribution.</summary>
    public double Sum => PerPixel.Sum();

    /// <summary>f_t(x) − f_t(x'): what the attributions should add up to.</summary>
    public double OutputDifference => (double)Logits[Target] - BaselineLogits[Target];

    /// <summary>Σ attributions − (f_t(x) − f_t(x')): the Riemann sum's error, shrinking as Steps grows.</summary>
    public double CompletenessGap => Sum - OutputDifference;
}
