// Renders a training run: Spectre.Console progress bars on an interactive terminal, plain lines (one per tenth of an
// epoch and one per epoch) when the output goes to a file or a pipe, where redrawn bars would be noise.
using Spectre.Console;
using Standalone.Models.Training;

namespace Standalone.Cli.Rendering;

internal static class TrainingProgress
{
    /// <summary>Runs work with an observer that draws its progress; returns work's result.</summary>
    public static T Run<T>(Func<ITrainingObserver, T> work)
    {
        if (!AnsiConsole.Profile.Capabilities.Interactive || Console.IsOutputRedirected) return work(new LineObserver());
        T result = default!;
        AnsiConsole.Progress()
            .AutoClear(false)
            .HideCompleted(false)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn(), new SpinnerColumn())
            .Start(context => result = work(new BarObserver(context)));
        return result;
    }

    public static string Describe(EpochMetrics m) =>
        $"epoch {m.Epoch}: train loss {m.TrainLoss:F4} acc {m.TrainAccuracy:P2}" +
        (m.TestAccuracy is { } acc ? $" | test loss {m.TestLoss:F4} acc {acc:P2}" : "") +
        $" | lr {m.LearningRate:G3} | {m.ImagesPerSecond:F0} img/s, {m.Seconds:F0} s";

    private sealed class BarObserver(ProgressContext context) : ITrainingObserver
    {
        private ProgressTask? _train, _eval;

        public void EpochStarted(int epoch, int epochs, int batches, int firstBatch)
        {
            _train = context.AddTask($"epoch {epoch}/{epochs}", maxValue: batches);
            _train.Value = firstBatch;
            _eval = null;
        }

        public void BatchDone(int epoch, int batch, double loss, double accuracy, double imagesPerSecond, double learningRate)
        {
            if (_train == null) return;
            _train.Value = batch;
            _train.Description = $"epoch {epoch} loss {loss:F3} acc {accuracy:P1} {imagesPerSecond:F0} img/s";
        }

        public void Evaluating(int epoch, int done, int total)
        {
            _eval ??= context.AddTask("  test", maxValue: total);
            _eval.Value = done;
        }

        public void EpochDone(EpochMetrics metrics)
        {
            if (_train != null) _train.Description = Markup.Escape(Describe(metrics));
            _eval?.StopTask();
            _eval = null;
        }
    }

    private sealed class LineObserver : ITrainingObserver
    {
        private int _batches, _nextReport;

        public void EpochStarted(int epoch, int epochs, int batches, int firstBatch)
        {
            _batches = batches;
            _nextReport = firstBatch + Math.Max(1, batches / 10);
            Console.WriteLine($"epoch {epoch}/{epochs}: {batches} batches" + (firstBatch > 0 ? $", resuming at batch {firstBatch + 1}" : ""));
        }

        public void BatchDone(int epoch, int batch, double loss, double accuracy, double imagesPerSecond, double learningRate)
        {
            if (batch < _nextReport || batch == _batches) return;
            _nextReport = batch + Math.Max(1, _batches / 10);
            Console.WriteLine($"  batch {batch}/{_batches}: loss {loss:F4} acc {accuracy:P2} lr {learningRate:G3} {imagesPerSecond:F0} img/s");
        }

        public void EpochDone(EpochMetrics metrics) => Console.WriteLine(Describe(metrics));
    }
}
