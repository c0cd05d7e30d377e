// Model files and training checkpoints, both safetensors (docs/formats.md) with PyTorch state-dict keys:
//   model file        the state dict + "__metadata__" {standalone.model: ModelSpec JSON, standalone.data: DataInfo JSON,
//                     any extra entries (e.g. standalone.metrics)}
//   training check-   the same plus the optimizer state as "optimizer/<parameter>/<state>" tensors and
//   point             standalone.trainer: the TrainerState JSON (position, RNG states, options)
// A checkpoint is therefore also a model file: eval and info read either. Writes are atomic (AtomicFile).
using Standalone.Autograd;
using Standalone.Autograd.Optim;
using Standalone.Models.Data;
using Standalone.Models.IO;
using Standalone.Models.Nn;
using Standalone.Models.Zoo;

namespace Standalone.Models.Training;

/// <summary>A model read back from a file, with what the file says about it.</summary>
public sealed record LoadedModel(Module Model, ModelSpec Spec, DataInfo? Data, IReadOnlyDictionary<string, string> Metadata, string Path);

public static class Checkpoint
{
    public const string ModelKey = "standalone.model";
    public const string DataKey = "standalone.data";
    public const string TrainerKey = "standalone.trainer";
    public const string OptimizerPrefix = "optimizer/";

    /// <summary>Writes the model's state dict with its description (and extra metadata entries).</summary>
    public static void SaveModel(string path, Module model, ModelSpec spec, DataInfo? data, IReadOnlyDictionary<string, string>? extra = null,
        Optimizer? optimizer = null)
    {
        var metadata = new Dictionary<string, string> { [ModelKey] = spec.ToJson() };
        if (data != null) metadata[DataKey] = data.ToJson();
        if (extra != null) foreach (var (k, v) in extra) metadata[k] = v;
        var tensors = model.StateDict().ToList();
        if (optimizer != null)
        {
            var names = model.NamedParameters().ToDictionary(p => p.Parameter, p => p.Name, (IEqualityComparer<Variable>)ReferenceEqualityComparer.Instance);
            foreach (var p in optimizer.Parameters)
                foreach (var (state, value) in optimizer.StateOf(p).OrderBy(s => s.Key, StringComparer.Ordinal))
                    tensors.Add(($"{OptimizerPrefix}{names[p]}/{state}", value));
        }
        SafeTensors.Write(path, tensors, metadata);
    }

    /// <summary>
    /// Builds the network a file describes and loads its weights (strictly: every key present, none extra, shapes
    /// equal, no NaN or infinity unless <paramref name="allowNonFinite"/>). A file without Standalone's description (one exported from PyTorch) needs its architecture named; the
    /// input channels, classes, shortcut and head are then read off the tensors.
    /// </summary>
    public static LoadedModel LoadModel(string path, string? architecture = null, bool allowNonFinite = false)
    {
        InputFile.Check(path, "model file");
        var (weights, metadata) = ReadWeights(path);
        using var owner = new TensorList(weights);
        ModelSpec spec;
        if (metadata.TryGetValue(ModelKey, out string? json)) spec = ModelSpec.FromJson(json, path);
        else if (architecture != null) spec = InferSpec(architecture, weights, path);
        else
            throw new InvalidDataException(metadata.Count == 0 && TorchCheckpoint.IsZip(path)
                ? $"model file {path} is a PyTorch checkpoint, which does not record its architecture: name it with --arch (e.g. --arch resnet18)"
                : $"model file {path} does not say which architecture it holds (no '{ModelKey}' metadata): it was not written by Standalone; name the architecture (--arch)");
        DataInfo? data = metadata.TryGetValue(DataKey, out string? dataJson) ? DataInfo.FromJson(dataJson, path) : null;
        // Everything the network's size depends on is compared with the tensors before the network is built.
        ModelFileChecks.CheckSpec(spec, weights, path);
        data?.Check(spec, path);
        if (!allowNonFinite) ModelFileChecks.CheckFinite(weights, path);
        var model = ModelZoo.Create(spec);
        var state = weights.ToDictionary(t => t.Name, t => t.Value, StringComparer.Ordinal);
        if (spec.Pruned) PrunedShape.Fit(model, state, spec, path);
        try
        {
            model.LoadStateDict(state, strict: true);
        }
        catch (ArgumentException e)
        {
            throw new InvalidDataException($"model file {path} does not fit {spec}: {e.Message}", e);
        }
        return new LoadedModel(model, spec, data, metadata, path);
    }

    /// <summary>
    /// The weights of a model file (safetensors or a PyTorch checkpoint), optimizer state left out, as (key, tensor)
    /// on the CPU; the caller disposes them.
    /// </summary>
    public static List<(string Name, Tensor Value)> ReadStateDict(string path)
    {
        InputFile.Check(path, "model file");
        return ReadWeights(path).Weights;
    }

    /// <summary>
    /// The weights (optimizer state left out) and metadata of a model file: safetensors, or a PyTorch checkpoint
    /// (.pth/.pt, the zip format; it has no metadata, so its architecture must be named).
    /// </summary>
    private static (List<(string Name, Tensor Value)> Weights, IReadOnlyDictionary<string, string> Metadata) ReadWeights(string path)
    {
        if (path.EndsWith(".pth", StringComparison.OrdinalIgnoreCase) || path.EndsWith(".pt", StringComparison.OrdinalIgnoreCase) || TorchCheckpoint.IsZip(path))
            return (TorchCheckpoint.Read(path), new Dictionary<string, string>());
        var file = SafeTensors.Read(path);
        var weights = new List<(string, Tensor)>();
        foreach (var (name, tensor) in file.Tensors)
            if (name.StartsWith(OptimizerPrefix, StringComparison.Ordinal)) tensor.Dispose();
            else weights.Add((name, tensor));
        return (weights, file.Metadata);
    }

    /// <summary>Disposes the tensors read from a file once they are copied into the model.</summary>
    private sealed class TensorList(List<(string Name, Tensor Value)> tensors) : IDisposable
    {
        public void Dispose()
        {
            foreach (var (_, t) in tensors) t.Dispose();
        }
    }

    /// <summary>
    /// The description of a state dict of a known architecture: input channels from the first 4-d weight, classes
    /// from the last 2-d one, shortcut B when a downsample projection exists, the ImageNet VGG head when classifier.6 does.
    /// </summary>
    public static ModelSpec InferSpec(string architecture, IReadOnlyList<(string Name, Tensor Value)> weights, string source)
    {
        var firstConv = weights.FirstOrDefault(t => t.Value.Rank == 4).Value
            ?? throw new InvalidDataException($"model file {source}: no convolution weight found to read the input channels from");
        var lastLinear = weights.LastOrDefault(t => t.Value.Rank == 2).Value
            ?? throw new InvalidDataException($"model file {source}: no linear weight found to read the number of classes from");
        return new ModelSpec
        {
            Architecture = architecture,
            InChannels = firstConv.Shape[1],
            NumClasses = lastLinear.Shape[0],
            Shortcut = ModelZoo.IsCifarResNet(architecture) ? (weights.Any(t => t.Name.Contains(".downsample.", StringComparison.Ordinal)) ? "B" : "A") : "B",
            Head = weights.Any(t => t.Name.StartsWith("classifier.6.", StringComparison.Ordinal)) ? "imagenet" : "cifar",
        };
    }

    /// <summary>Restores optimizer state saved with SaveModel(optimizer: ...) into an optimizer over model's parameters.</summary>
    public static void LoadOptimizerState(SafeTensorsFile file, Module model, Optimizer optimizer)
    {
        var byName = model.NamedParameters().ToDictionary(p => p.Name, p => p.Parameter, StringComparer.Ordinal);
        foreach (var (key, value) in file.Tensors)
        {
            if (!key.StartsWith(OptimizerPrefix, StringComparison.Ordinal)) continue;
            int slash = key.LastIndexOf('/');
            string parameter = key[OptimizerPrefix.Length..slash], state = key[(slash + 1)..];
            if (!byName.TryGetValue(parameter, out var p))
                throw new InvalidDataException($"checkpoint {file.Path}: optimizer state '{key}' names no parameter of the model");
            optimizer.SetState(p, state, value.To(p.Data.Backend));
        }
    }
}
