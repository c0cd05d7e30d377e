// Learning-rate schedules as pure functions of the step index (an iteration or an epoch, as the caller counts),
// each with an optional linear warm-up: lr(t) = base·(t+1)/warmup for t < warmup, then the schedule from t − warmup.
namespace Standalone.Autograd.Optim;

public abstract class LrSchedule(double baseLr, int warmupSteps)
{
    public double BaseLr { get; } = baseLr;
    public int WarmupSteps { get; } = warmupSteps;

    public double At(int step)
    {
        if (step < 0) throw new ArgumentOutOfRangeException(nameof(step), "schedule step must be ≥ 0");
        if (step < WarmupSteps) return BaseLr * (step + 1) / WarmupSteps;
        return AfterWarmup(step - WarmupSteps);
    }

    protected abstract double AfterWarmup(int step);

    /// <summary>Sets the optimizer's learning rate for the given step.</summary>
    public void Apply(Optimizer optimizer, int step) => optimizer.LearningRate = At(step);
}

public sealed class ConstantLr(double baseLr, int warmupSteps = 0) : LrSchedule(baseLr, warmupSteps)
{
    protected override double AfterWarmup(int step) => BaseLr;
}

/// <summary>Multiplies by gamma every stepSize steps.</summary>
public sealed class StepLr(double baseLr, int stepSize, double gamma = 0.1, int warmupSteps = 0) : LrSchedule(baseLr, warmupSteps)
{
    protected override double AfterWarmup(int step) => BaseLr * Math.Pow(gamma, step / stepSize);
}

/// <summary>Multiplies by gamma at each milestone.</summary>
public sealed class MultiStepLr(double baseLr, IReadOnlyList<int> milestones, double gamma = 0.1, int warmupSteps = 0) : LrSchedule(baseLr, warmupSteps)
{
    protected override double AfterWarmup(int step) => BaseLr * Math.Pow(gamma, milestones.Count(m => step >= m));
}

/// <summary>Cosine annealing from base to minLr over totalSteps (after warm-up): min + (base−min)·(1+cos(π t/T))/2.</summary>
public sealed class CosineLr(double baseLr, int totalSteps, double minLr = 0, int warmupSteps = 0) : LrSchedule(baseLr, warmupSteps)
{
    protected override double AfterWarmup(int step)
    {
        int span = Math.Max(1, totalSteps - WarmupSteps);
        double t = Math.Min(step, span) / (double)span;
        return minLr + (BaseLr - minLr) * 0.5 * (1 + Math.Cos(Math.PI * t));
    }
}
