// Accuracy and mean cross-entropy of a model over a data set, in eval mode without gradients — used after every
// training epoch and by `standalone eval`.
using Standalone.Autograd;
using Standalone.Models.Data;
using Standalone.Models.Nn;

namespace Standalone.Models.Training;

public sealed record Evaluation(double Accuracy, double Loss, int Images, int Correct);

public static class Evaluator
{
    /// <summary>Evaluates model on every image of the loader's data set (restores the model's train/eval mode after).</summary>
    public static Evaluation Evaluate(Module model, DataLoader loader, Action<int, int>? progress = null, CancellationToken cancel = default)
    {
        bool wasTraining = model.Training;
        model.Eval();
        double lossSum = 0;
        int images = 0, correct = 0, done = 0;
        var predicted = new long[loader.Options.BatchSize];
        try
        {
            using var noGrad = Grad.Disabled();
            foreach (var batch in loader.Epoch(0))
            {
                cancel.ThrowIfCancellationRequested();
                using var scope = TensorScope.Begin();
                var (x, y) = Upload(loader, batch);
                var logits = model.Forward(Variable.Constant(x));
                lossSum += F.CrossEntropy(logits, y, reduction: Reduction.Sum).Data.Item();
                correct += CountCorrect(logits.Data, batch, predicted);
                images += batch.Count;
                loader.Return(batch);
                progress?.Invoke(++done, loader.BatchesPerEpoch);
            }
        }
        finally { model.Train(wasTraining); }
        return new Evaluation((double)correct / images, lossSum / images, images, correct);
    }

    /// <summary>The batch as tensors on the default device: images [n, C, H, W] and Int64 labels [n].</summary>
    public static (Tensor Images, Tensor Labels) Upload(DataLoader loader, HostBatch batch) =>
        (Tensor.FromArray<float>(batch.Images.AsSpan(0, batch.Count * loader.ImageSize), new Shape(batch.Count, loader.Channels, loader.Height, loader.Width)),
         Tensor.FromArray<long>(batch.Labels.AsSpan(0, batch.Count), new Shape(batch.Count)));

    /// <summary>How many rows of logits have their maximum at the batch's label (scratch holds at least batch.Count).</summary>
    public static int CountCorrect(Tensor logits, HostBatch batch, long[] scratch)
    {
        using var argmax = logits.ArgMax(1);
        var predicted = scratch.AsSpan(0, batch.Count);
        argmax.CopyTo<long>(predicted);
        int correct = 0;
        for (int i = 0; i < predicted.Length; i++) if (predicted[i] == batch.Labels[i]) correct++;
        return correct;
    }
}
