// Fine-tuning a pruned model: SGD with momentum over augmented training batches (the trainer's loader and
// optimizer); given a mask (a masked, uncompacted model), it is re-applied after every step so pruned channels stay
// exactly zero. Keeps its position in the
// batch stream (epoch, batch) so that interleaved bursts of steps continue through the data rather than restart.
// With a teacher (the unpruned model) and DistillAlpha > 0 the loss is knowledge distillation's mix of the labels'
// cross-entropy and the KL divergence from the teacher's tempered outputs on the same augmented batch; the teacher
// runs in evaluation mode without gradients, so its layers run fused.
using Standalone.Autograd;
using Standalone.Autograd.Optim;
using Standalone.Models.Data;
using Standalone.Models.Nn;
using Standalone.Models.Training;
using Standalone.Pruning.Masking;

namespace Standalone.Pruning.Schedules;

public sealed class FineTuner
{
    private readonly Module _model;
    private readonly DataLoader _loader;
    private readonly Module? _teacher;
    private readonly double _alpha, _temperature;
    private IEnumerator<HostBatch>? _batches;

    public FineTuner(Module model, ImageDataset train, DataInfo data, PruneOptions options, Module? teacher = null)
    {
        _model = model;
        if (options.DistillAlpha > 0)
        {
            _teacher = teacher ?? throw new ArgumentException("distillation (DistillAlpha > 0) needs the unpruned model as the teacher");
            _teacher.Eval();
            (_alpha, _temperature) = (options.DistillAlpha, options.DistillTemperature);
        }
        _loader = new DataLoader(train, data.TrainLoader(options.BatchSize, options.Seed, options.CropPadding, options.HorizontalFlip));
        Optimizer = new Sgd(model.Parameters(), options.LearningRate, options.Momentum, options.WeightDecay);
        BaseLearningRate = options.LearningRate;
    }

    public Optimizer Optimizer { get; }
    public double BaseLearningRate { get; }
    public int BatchesPerEpoch => _loader.BatchesPerEpoch;
    /// <summary>Where the next batch comes from: epoch and batch index within it.</summary>
    public int Epoch { get; private set; }
    public int Batch { get; private set; }
    public long StepsTaken { get; private set; }

    /// <summary>Continues from a saved position (a resumed run): the next batch is batch <paramref name="batch"/> of <paramref name="epoch"/>.</summary>
    public void Restore(int epoch, int batch, long steps)
    {
        _batches?.Dispose();
        _batches = null;
        (Epoch, Batch, StepsTaken) = (epoch, batch, steps);
    }

    /// <summary>
    /// Takes <paramref name="steps"/> SGD steps (fewer when cancelled: the count taken is in <paramref name="taken"/>); the learning rate of step i is <paramref name="learningRate"/>(i)
    /// (constant base rate when null). Returns the mean training loss.
    /// </summary>
    public double Run(int steps, ChannelMask? mask, Func<int, double>? learningRate = null, Action<int, double>? progress = null, CancellationToken cancel = default)
        => Run(steps, mask, out _, learningRate, progress, cancel);

    public double Run(int steps, ChannelMask? mask, out int taken, Func<int, double>? learningRate = null, Action<int, double>? progress = null, CancellationToken cancel = default)
    {
        _model.Train();
        double lossSum = 0;
        taken = 0;
        for (int i = 0; i < steps; i++)
        {
            if (cancel.IsCancellationRequested) return double.NaN;
            var batch = NextBatch();
            using (TensorScope.Begin())
            {
                var (x, y) = Evaluator.Upload(_loader, batch);
                _loader.Return(batch);
                Optimizer.LearningRate = learningRate?.Invoke(i) ?? BaseLearningRate;
                Optimizer.ZeroGrad();
                var loss = _teacher == null ? F.CrossEntropy(_model.Forward(Variable.Constant(x)), y)
                    : F.DistillationLoss(_model.Forward(Variable.Constant(x)), TeacherLogits(x), y, _alpha, _temperature);
                loss.Backward();
                Optimizer.Step();
                mask?.Apply(Optimizer);
                double value = loss.Data.Item();
                lossSum += value;
                progress?.Invoke(i + 1, value);
            }
            StepsTaken++;
            taken++;
        }
        return steps == 0 ? double.NaN : lossSum / steps;
    }

    private Tensor TeacherLogits(Tensor x)
    {
        using var noGrad = Grad.Disabled();
        return _teacher!.Forward(Variable.Constant(x)).Data;
    }

    private HostBatch NextBatch()
    {
        while (true)
        {
            _batches ??= _loader.Epoch(Epoch, Batch).GetEnumerator();
            if (_batches.MoveNext())
            {
                Batch++;
                return _batches.Current;
            }
            _batches.Dispose();
            _batches = null;
            Epoch++;
            Batch = 0;
        }
    }
}
