// The parameters a SInGE path scales: for each producing channel of the path's groups, the conv/linear row W[c]
// and bias b[c] and, when a batch norm directly follows the layer, its γ_c and β_c. Each parameter tensor gets a 0/1
// indicator (1 on the path's channels, shaped to broadcast along axis 0) and the list of channels it carries,
// attributed to the producing layer they belong to (so that a BN's entries add to its conv's channel).
using Standalone.Autograd;
using Standalone.Models.Nn;
using Standalone.Pruning.Graph;

namespace Standalone.Pruning.Criteria;

internal sealed record PathParameter(Variable Parameter, Tensor Indicator, IReadOnlyList<(int Channel, Module Producer)> Channels);

internal static class PathParameters
{
    public static List<PathParameter> Of(DependencyGraph graph, IReadOnlyList<PruningGroup> groups)
    {
        var channels = new Dictionary<Module, List<int>>(ReferenceEqualityComparer.Instance);
        foreach (var g in groups)
            foreach (var p in g.Producers)
            {
                if (!channels.TryGetValue(p.Layer, out var list)) channels[p.Layer] = list = new List<int>();
                list.Add(p.Channel);
            }
        var result = new List<PathParameter>();
        foreach (var (layer, list) in channels)
        {
            var (weight, bias) = layer is Conv2d c ? (c.Weight, c.Bias) : (((Linear)layer).Weight, ((Linear)layer).Bias);
            var norm = graph.NormAfter(layer)?.Norm;
            foreach (var parameter in new[] { weight, bias, norm?.Weight, norm?.Bias })
            {
                if (parameter is null) continue;
                var shape = Enumerable.Repeat(1, parameter.Shape.Rank).ToArray();
                shape[0] = parameter.Shape[0];
                var indicator = new float[parameter.Shape[0]];
                foreach (int channel in list) indicator[channel] = 1;
                result.Add(new PathParameter(parameter, Tensor.FromArray<float>(indicator, new Shape(shape), parameter.Data.Backend),
                    list.Select(ch => (ch, layer)).ToList()));
            }
        }
        return result;
    }
}
