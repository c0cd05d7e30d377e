// Exact multiply-accumulates and parameters of a network under a mask, without compacting it: per Conv2d/Linear
// Cout·(Cin/groups)·k²·positions MACs and Cout·(Cin/groups)·k² (+ Cout bias) weights over the live channels, plus
// γ and β of every live batch-norm channel, plus any parameter outside those layers. The counts equal
// ModelStats.Measure on the compacted network (a test), with the same conventions (MACs per image at the traced size).
using Standalone.Pruning.Graph;

namespace Standalone.Pruning.Masking;

public sealed record LayerCost(string Name, int OutputsBefore, int OutputsAfter, int InputsBefore, int InputsAfter, long MacsBefore, long MacsAfter, long ParametersBefore, long ParametersAfter);

public sealed record PruningCost(long Macs, long Parameters, long BaselineMacs, long BaselineParameters, IReadOnlyList<LayerCost> Layers)
{
    /// <summary>Fraction of the baseline's MACs removed.</summary>
    public double MacsRemoved => 1 - (double)Macs / BaselineMacs;
    public double ParametersRemoved => 1 - (double)Parameters / BaselineParameters;

    public static PruningCost Of(ChannelMask mask)
    {
        var graph = mask.Graph;
        var layers = new List<LayerCost>();
        long macs = 0, baseMacs = 0, parameters = 0, baseParameters = 0;
        foreach (var site in graph.Layers)
        {
            int outAfter = site.OutputGroups.Count(mask.Alive), inAfter = site.InputGroups.Count(mask.Alive);
            int outBefore = site.OutputGroups.Length, inBefore = site.InputGroups.Length;
            var row = new LayerCost(site.Name, outBefore, outAfter, inBefore, inAfter,
                site.Macs(outBefore, inBefore), site.Macs(outAfter, inAfter), site.Parameters(outBefore, inBefore), site.Parameters(outAfter, inAfter));
            layers.Add(row);
            (macs, baseMacs) = (macs + row.MacsAfter, baseMacs + row.MacsBefore);
            (parameters, baseParameters) = (parameters + row.ParametersAfter, baseParameters + row.ParametersBefore);
        }
        foreach (var norm in graph.Norms)
        {
            parameters += 2L * norm.Groups.Count(mask.Alive);
            baseParameters += 2L * norm.Groups.Length;
        }
        long other = graph.Model.ParameterCount() - baseParameters;
        return new PruningCost(macs, parameters + other, baseMacs, baseParameters + other, layers);
    }
}
