// Turning scores into pruned groups. Global ranking walks every live group from the lowest score up; per-layer
// ranking removes from each unit its share. Both respect the per-unit floor (minimum channels, at least 1) and
// stop as soon as the target is met; `limit` caps how many groups one call may take (an iterative step) — a chunk
// that RoundTo makes indivisible is finished even past the limit, so no unit is ever left off a multiple of RoundTo.
// Scores may be normalised per unit first (mean, l1, l2, max) so that units of different scale compete fairly, and a
// global ranking may be cost-aware: a unit's next chunk is ranked by its summed score divided by what removing it
// saves in the target's unit (MACs or parameters), so a MAC target takes channels where accuracy per MAC is cheapest.
// Per-layer floors: at least MinChannels, and at most MaxLayerRatio of a unit's original width removed.
using Standalone.Pruning.Graph;
using Standalone.Pruning.Masking;

namespace Standalone.Pruning.Schedules;

public enum ScoreNormalization { None, Mean, L1, L2, Max }

public sealed record SelectionOptions
{
    public int MinChannels { get; init; } = 1;
    /// <summary>Live channels per unit are kept a multiple of this (when the unit's width allows).</summary>
    public int RoundTo { get; init; } = 1;
    public ScoreNormalization Normalization { get; init; } = ScoreNormalization.None;
    /// <summary>Global ranking: rank by score per unit of the target saved (MACs or parameters) rather than by score.</summary>
    public bool CostAware { get; init; }
    /// <summary>The largest fraction of any unit's original channels that may be removed (1: down to MinChannels).</summary>
    public double MaxLayerRatio { get; init; } = 1;
    /// <summary>Per-layer ranking: fraction of channels removed per unit name (overrides the global fraction).</summary>
    public IReadOnlyDictionary<string, double> LayerRatios { get; init; } = new Dictionary<string, double>();
}

public static class Selection
{
    /// <summary>Scores divided by their unit's norm (NaN entries, i.e. pruned or unscored groups, are left alone).</summary>
    public static double[] Normalize(DependencyGraph graph, double[] scores, ScoreNormalization normalization)
    {
        if (normalization == ScoreNormalization.None) return scores;
        var result = (double[])scores.Clone();
        foreach (var unit in graph.Units)
        {
            var values = unit.Groups.Select(g => scores[g.Id]).Where(v => !double.IsNaN(v)).ToList();
            if (values.Count == 0) continue;
            double norm = normalization switch
            {
                ScoreNormalization.Mean => values.Average(Math.Abs),
                ScoreNormalization.L1 => values.Sum(Math.Abs),
                ScoreNormalization.L2 => Math.Sqrt(values.Sum(v => v * v)),
                _ => values.Max(Math.Abs),
            };
            if (norm > 0) foreach (var g in unit.Groups) result[g.Id] = scores[g.Id] / norm;
        }
        return result;
    }

    /// <summary>
    /// The lowest-scored live groups, across all units, until the target is met (or limit groups are taken). With
    /// RoundTo r > 1 a unit gives up its channels in chunks — first down to a multiple of r, then r at a time — and
    /// the chunk with the lowest mean score goes next, so every unit stays a multiple of r and the target is still met.
    /// A limit is checked between chunks: the last chunk may take the count up to limit + r − 1.
    /// </summary>
    public static List<PruningGroup> Global(ChannelMask mask, double[] scores, PruningTarget target, SelectionOptions options, int limit = int.MaxValue)
    {
        var tracker = new CostTracker(mask);
        var queues = mask.Graph.Units.ToDictionary(u => u, u => new Queue<PruningGroup>(Ranked(mask, scores, u.Groups)));
        var alive = mask.Graph.Units.ToDictionary(u => u, mask.Alive);
        int step = Math.Max(1, options.RoundTo);
        var chosen = new List<PruningGroup>();
        while (!tracker.Reached(target) && chosen.Count < limit)
        {
            PruningUnit? best = null;
            double bestScore = double.PositiveInfinity;
            foreach (var (unit, queue) in queues)
            {
                int size = Chunk(alive[unit], step);
                if (queue.Count < size || alive[unit] - size < Floor(unit, options)) continue;
                double rank = options.CostAware ? PerSaving(queue.Take(size).ToList(), scores, tracker, target.Kind) : queue.Take(size).Average(g => scores[g.Id]);
                if (rank < bestScore || best == null) (best, bestScore) = (unit, rank);
            }
            if (best == null) break; // every unit at its floor
            for (int i = Chunk(alive[best], step); i > 0; i--)
            {
                var group = queues[best].Dequeue();
                alive[best]--;
                tracker.Remove(group);
                chosen.Add(group);
            }
        }
        return chosen;
    }

    /// <summary>A chunk's summed score per fraction of the target it saves; +∞ when it saves nothing.</summary>
    private static double PerSaving(List<PruningGroup> chunk, double[] scores, CostTracker tracker, TargetKind kind)
    {
        double saving = tracker.Saving(chunk, kind);
        return saving > 0 ? chunk.Sum(g => scores[g.Id]) / saving : double.PositiveInfinity;
    }

    /// <summary>Channels a unit with this many live ones gives up next: down to a multiple of step, else step.</summary>
    private static int Chunk(int alive, int step) => alive % step == 0 ? step : alive % step;

    /// <summary>From every unit, the lowest-scored fraction of its original width (its LayerRatios entry, or fraction).</summary>
    public static List<PruningGroup> PerLayer(ChannelMask mask, double[] scores, double fraction, SelectionOptions options)
    {
        var chosen = new List<PruningGroup>();
        foreach (var unit in mask.Graph.Units)
        {
            double share = options.LayerRatios.TryGetValue(unit.Name, out var r) ? r : fraction;
            int keep = Math.Max(Floor(unit, options), unit.Groups.Count - (int)Math.Round(unit.Groups.Count * share, MidpointRounding.AwayFromZero));
            int take = Math.Max(0, mask.Alive(unit) - keep);
            chosen.AddRange(Ranked(mask, scores, unit.Groups).Take(take));
        }
        return RoundUp(mask, chosen, scores, options);
    }

    /// <summary>The q lowest-scored live groups of one unit, never below its floor or quota.</summary>
    public static List<PruningGroup> InUnit(ChannelMask mask, PruningUnit unit, double[] scores, int q, int keepAtLeast) =>
        Ranked(mask, scores, unit.Groups).Take(Math.Max(0, Math.Min(q, mask.Alive(unit) - keepAtLeast))).ToList();

    public static int Floor(PruningUnit unit, SelectionOptions options) =>
        Math.Clamp(Math.Max(options.MinChannels, (int)Math.Ceiling(unit.Groups.Count * (1 - options.MaxLayerRatio) - 1e-9)), 1, unit.Groups.Count);

    private static IEnumerable<PruningGroup> Ranked(ChannelMask mask, double[] scores, IEnumerable<PruningGroup> groups) =>
        groups.Where(g => !mask.IsPruned(g) && !double.IsNaN(scores[g.Id])).OrderBy(g => scores[g.Id]).ThenBy(g => g.Id);

    /// <summary>Gives back the best-scored chosen groups of each unit until its live count is a multiple of RoundTo.</summary>
    private static List<PruningGroup> RoundUp(ChannelMask mask, List<PruningGroup> chosen, double[] scores, SelectionOptions options)
    {
        if (options.RoundTo <= 1) return chosen;
        var result = new List<PruningGroup>();
        foreach (var byUnit in chosen.GroupBy(g => g.Unit))
        {
            int alive = mask.Alive(byUnit.Key) - byUnit.Count();
            int giveBack = (options.RoundTo - alive % options.RoundTo) % options.RoundTo;
            result.AddRange(byUnit.OrderBy(g => scores[g.Id]).Take(Math.Max(0, byUnit.Count() - giveBack)));
        }
        return result;
    }
}
