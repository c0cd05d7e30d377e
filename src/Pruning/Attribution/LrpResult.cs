// What an LRP pass returns: the per-channel scores of every conv (the pruning criterion), the per-sample relevance
// sums of every traced layer (conservation checks), and the relevance at the input pixels (heat maps).
using Standalone.Models.Nn;

namespace Standalone.Pruning.Attribution;

/// <summary>
/// The relevance at one traced layer's output. Name is the module's state-dict name for layers with parameters (a
/// conv fused with its batch norm is named by the conv), "op#k" for the k-th parameterless op of that kind in forward
/// order ("relu#3", "add#0"), and "input" for the pixels. SampleSums[n] = Σ R over sample n's entries (empty unless LrpOptions.LayerSums); Relevance is
/// the tensor itself when <see cref="LrpOptions.KeepRelevance"/> is set (always for the input).
/// </summary>
public sealed record LrpLayer(string Name, string Op, double[] SampleSums, Tensor? Relevance);

public sealed class LrpResult : IDisposable
{
    private readonly Dictionary<string, LrpLayer> _byName;

    internal LrpResult(IReadOnlyDictionary<Conv2d, double[]> channelScores, IReadOnlyList<LrpLayer> layers, long[] classes)
    {
        ChannelScores = channelScores;
        Layers = layers;
        Classes = classes;
        _byName = layers.ToDictionary(l => l.Name);
    }

    /// <summary>Every Conv2d of the model → Σ over samples and positions of |R| at its (BN-fused) output, per output channel.</summary>
    public IReadOnlyDictionary<Conv2d, double[]> ChannelScores { get; }

    /// <summary>Every layer the relevance passed through, in forward order: "input" first, the logits' layer last.</summary>
    public IReadOnlyList<LrpLayer> Layers { get; }

    /// <summary>The class each sample's relevance started at.</summary>
    public long[] Classes { get; }

    /// <summary>The relevance at the input pixels, shaped like the images.</summary>
    public Tensor InputRelevance => Layers[0].Relevance!;

    public LrpLayer Layer(string name) => _byName.TryGetValue(name, out var layer)
        ? layer
        : throw new KeyNotFoundException($"LRP result has no layer '{name}' (layers: {string.Join(", ", _byName.Keys)})");

    public void Dispose()
    {
        foreach (var layer in Layers) layer.Relevance?.Dispose();
    }
}
