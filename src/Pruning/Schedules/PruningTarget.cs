// What a run prunes to: a fraction of the baseline's MACs or parameters removed, or a fraction of the channels
// (groups) removed. Exactly one is set.
namespace Standalone.Pruning.Schedules;

public enum TargetKind { Macs, Parameters, Channels }

public sealed record PruningTarget(TargetKind Kind, double Fraction)
{
    public static PruningTarget Create(double? macs, double? parameters, double? ratio)
    {
        var given = new (TargetKind Kind, double? Value, string Flag)[] { (TargetKind.Macs, macs, "--target-macs"), (TargetKind.Parameters, parameters, "--target-params"), (TargetKind.Channels, ratio, "--ratio") }
            .Where(t => t.Value.HasValue).ToList();
        if (given.Count > 1) throw new ArgumentException($"pruning target: give one of --target-macs, --target-params, --ratio, not {string.Join(" and ", given.Select(g => g.Flag))}");
        var (kind, value, flag) = given.Count == 1 ? given[0] : (TargetKind.Macs, 0.5, "--target-macs");
        if (!(value > 0 && value < 1)) throw new ArgumentException($"pruning target: {flag} is the fraction removed, in (0, 1); got {value}");
        return new PruningTarget(kind, value!.Value);
    }

    public override string ToString() => $"{Fraction:P0} of the {(Kind == TargetKind.Macs ? "MACs" : Kind == TargetKind.Parameters ? "parameters" : "channels")} removed";
}
