// "Nice" axis ticks (Heckbert, "Nice numbers for graph labels", Graphics Gems, 1990): the step is 1, 2 or 5 times a
// power of ten chosen so that about maxTicks ticks cover the data, and the axis runs from the multiple of the step at
// or below the minimum to the one at or above the maximum. 0..1 gives 0, 0.2, ..., 1; 0.87..0.95 gives 0.86, 0.88,
// ..., 0.96. Labels print just the digits the step needs, large values with k, M or G (MAC counts read "20M").
using System.Globalization;

namespace Standalone.Pruning.Reports;

/// <summary>An axis from Min to Max with ticks every Step (Ticks includes both ends).</summary>
public sealed record NiceScale(double Min, double Max, double Step, IReadOnlyList<double> Ticks)
{
    public const int DefaultMaxTicks = 6;

    /// <summary>The nice axis covering [min, max]; a single value is widened by 10 % of itself (or ±1 at 0).</summary>
    public static NiceScale For(double min, double max, int maxTicks = DefaultMaxTicks)
    {
        if (!double.IsFinite(min) || !double.IsFinite(max) || min > max)
            throw new ArgumentException($"axis scale: the range must be finite numbers with min ≤ max, got {min}..{max}");
        if (maxTicks < 2) throw new ArgumentException($"axis scale: at least 2 ticks are needed, got {maxTicks}");
        if (min == max)
        {
            double pad = min == 0 ? 1 : Math.Abs(min) * 0.1;
            (min, max) = (min - pad, max + pad);
        }
        double step = NiceNumber(NiceNumber(max - min, round: false) / (maxTicks - 1), round: true);
        // The small slack keeps a bound that is a multiple of the step (1.0 / 0.2 = 5.000000000000001) from gaining a tick.
        long first = (long)Math.Floor(min / step + 1e-9), last = (long)Math.Ceiling(max / step - 1e-9);
        int decimals = Decimals(step);
        var ticks = new double[last - first + 1];
        for (long k = first; k <= last; k++) ticks[k - first] = Math.Round(k * step, decimals) + 0.0; // + 0.0 turns −0 into 0
        return new NiceScale(ticks[0], ticks[^1], step, ticks);
    }

    /// <summary>
    /// A number near x of the form {1, 2, 5, 10} · 10^k: rounded to the nearest when round, else the smallest not below x.
    /// </summary>
    private static double NiceNumber(double x, bool round)
    {
        double power = Math.Pow(10, Math.Floor(Math.Log10(x)));
        double fraction = x / power;
        double nice = round
            ? fraction < 1.5 ? 1 : fraction < 3 ? 2 : fraction < 7 ? 5 : 10
            : fraction <= 1 ? 1 : fraction <= 2 ? 2 : fraction <= 5 ? 5 : 10;
        return nice * power;
    }

    /// <summary>Digits after the point that multiples of step need (0 for steps of 1 and more).</summary>
    private static int Decimals(double step) => Math.Clamp(-(int)Math.Floor(Math.Log10(step) + 1e-9), 0, 15);

    /// <summary>A tick label in the invariant culture: 0.86, 250, 500k, 20M, 2G (the unit follows the step).</summary>
    public string Label(double value)
    {
        if (value == 0) return "0";
        var (unit, suffix) = Step >= 1e9 ? (1e9, "G") : Step >= 1e6 ? (1e6, "M") : Step >= 1e3 ? (1e3, "k") : (1.0, "");
        return (value / unit).ToString("F" + Decimals(Step / unit), CultureInfo.InvariantCulture) + suffix;
    }

    /// <summary>Where value falls on this axis, 0 at Min and 1 at Max.</summary>
    public double Fraction(double value) => (value - Min) / (Max - Min);
}
