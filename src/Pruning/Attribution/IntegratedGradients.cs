// Integrated gradients over the input pixels (Sundararajan et al., 2017), with the right Riemann sum:
//   attribution_i = (x_i − x'_i) · (1/S) Σ_{k=1..S} ∂f_t(x' + (k/S)(x − x'))/∂x_i
// f_t is the logit of the target class (default: the predicted one), x' the baseline (default: the black image,
// which after normalisation is (0 − mean)/std per channel), S the number of steps. The S path points go through the
// model in eval mode as batches of at most batchSize images; each batch's logits are seeded with a one-hot gradient
// on the target column, so one backward pass yields ∂f_t/∂x for every image of the batch.
// Completeness: Σ_i attribution_i = f_t(x) − f_t(x') up to the Riemann sum's error (exact for a linear model).
using Standalone.Autograd;
using Standalone.Models.Nn;

namespace Standalone.Pruning.Attribution;

public static class IntegratedGradients
{
    public const int DefaultSteps = 32;
    public const int DefaultBatchSize = 32;

    /// <summary>
    /// Attributes f_t(input) − f_t(baseline) to the input's values. input and baseline are one image [C, H, W] as the
    /// model sees it (normalised); target null explains the predicted class. The model is run in eval mode (its mode
    /// is restored after) and its parameters' gradients are left as they were.
    /// </summary>
    public static PixelAttribution Compute(Module model, Tensor input, Tensor baseline, int? target = null,
        int steps = DefaultSteps, int batchSize = DefaultBatchSize)
    {
        if (input.Rank != 3) throw new ArgumentException($"integrated gradients: the input must be one image [C, H, W], got {input.Shape}");
        if (baseline.Shape != input.Shape) throw new ArgumentException($"integrated gradients: the baseline {baseline.Shape} must have the input's shape {input.Shape}");
        if (steps < 1) throw new ArgumentException($"integrated gradients: steps must be at least 1, got {steps}");
        if (batchSize < 1) throw new ArgumentException($"integrated gradients: batch size must be at least 1, got {batchSize}");
        int channels = input.Shape[0], height = input.Shape[1], width = input.Shape[2], size = channels * height * width;
        double[] x = input.ToDoubleArray(), xBaseline = baseline.ToDoubleArray();

        bool wasTraining = model.Training;
        var parameters = model.Parameters().ToArray();
        var savedGradients = parameters.Select(p => p.Grad).ToArray();
        foreach (var p in parameters) p.Grad = null;
        model.Eval();
        try
        {
            // Both ends of the path in one no-gradient pass: row 0 the baseline, row 1 the input.
            float[] ends;
            using (Grad.Disabled())
            using (TensorScope.Begin())
                ends = model.Forward(Path(x, xBaseline, [0.0, 1.0], input)).Data.ToFloatArray();
            int classes = ends.Length / 2;
            float[] baselineLogits = ends[..classes], logits = ends[classes..];
            int t = target ?? Array.IndexOf(logits, logits.Max());
            if ((uint)t >= (uint)classes) throw new ArgumentException($"integrated gradients: target class {t} is outside the model's {classes} classes (0–{classes - 1})");

            var gradientSum = new double[size];
            for (int first = 1; first <= steps; first += batchSize)
            {
                int count = Math.Min(batchSize, steps - first + 1);
                var alphas = Enumerable.Range(first, count).Select(k => (double)k / steps).ToArray();
                using var scope = TensorScope.Begin();
                var points = Path(x, xBaseline, alphas, input);
                var batchLogits = model.Forward(points);
                var seed = new float[count * classes];
                for (int j = 0; j < count; j++) seed[j * classes + t] = 1;
                batchLogits.Backward(Tensor.FromArray<float>(seed, batchLogits.Shape).To(batchLogits.DType));
                using var gradient = points.Grad!;
                var values = gradient.ToDoubleArray();
                for (int j = 0; j < count; j++)
                    for (int i = 0; i < size; i++) gradientSum[i] += values[j * size + i];
            }
            var attribution = new double[size];
            for (int i = 0; i < size; i++) attribution[i] = (x[i] - xBaseline[i]) * gradientSum[i] / steps;
            return new PixelAttribution(attribution, channels, height, width, t, logits, baselineLogits, steps);
        }
        finally
        {
            model.Train(wasTraining);
            for (int i = 0; i < parameters.Length; i++)
            {
                if (!ReferenceEquals(parameters[i].Grad, savedGradients[i])) parameters[i].Grad?.Dispose();
                parameters[i].Grad = savedGradients[i];
            }
        }
    }

    /// <summary>
    /// The black image as a normalised input [C, H, W]: pixel 0 in every channel becomes (0 − mean_c)/std_c.
    /// </summary>
    public static Tensor BlackBaseline(IReadOnlyList<float> mean, IReadOnlyList<float> std, int height, int width)
    {
        if (mean.Count != std.Count || mean.Count == 0)
            throw new ArgumentException($"black baseline: {mean.Count} means and {std.Count} standard deviations, expected one of each per channel");
        var values = new float[mean.Count * height * width];
        for (int c = 0; c < mean.Count; c++)
        {
            if (!(std[c] > 0)) throw new ArgumentException($"black baseline: standard deviation of channel {c} must be positive, got {std[c]}");
            values.AsSpan(c * height * width, height * width).Fill(-mean[c] / std[c]);
        }
        return Tensor.FromArray<float>(values, new Shape(mean.Count, height, width));
    }

    /// <summary>The images x' + α(x − x') for each α, as one batch [n, C, H, W] of the input's dtype that requires a gradient.</summary>
    private static Variable Path(double[] x, double[] xBaseline, double[] alphas, Tensor like)
    {
        int size = x.Length;
        var points = new double[alphas.Length * size];
        for (int j = 0; j < alphas.Length; j++)
            for (int i = 0; i < size; i++) points[j * size + i] = xBaseline[i] + alphas[j] * (x[i] - xBaseline[i]);
        var shape = new Shape(alphas.Length, like.Shape[0], like.Shape[1], like.Shape[2]);
        var batch = like.DType == DType.Float64
            ? Tensor.FromArray<double>(points, shape, like.Backend)
            : Tensor.FromArray<float>(Array.ConvertAll(points, v => (float)v), shape, like.Backend);
        return new Variable(batch, requiresGrad: true);
    }
}
