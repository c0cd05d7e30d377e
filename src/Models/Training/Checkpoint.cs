// Model files and training checkpoints, both safetensors (FORMATS.md) with PyTorch state-dict keys:
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
    /// equal). A file without Standalone's description (one exported from PyTorch) needs spec.
    /// </summary>
    public static LoadedModel LoadModel(string path, ModelSpec? spec = null)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"model file {path} does not exist");
        using var file = SafeTensors.Read(path);
        if (spec == null)
        {
            if (!file.Metadata.TryGetValue(ModelKey, out string? json))
                throw new InvalidDataException($"model file {path} does not say which architecture it holds (no '{ModelKey}' metadata): " +
                    "it was not written by Standalone; name the architecture (--arch)");
            spec = ModelSpec.FromJson(json, path);
        }
        DataInfo? data = file.Metadata.TryGetValue(DataKey, out string? dataJson) ? DataInfo.FromJson(dataJson, path) : null;
        var model = ModelZoo.Create(spec);
        var weights = file.Tensors.Where(t => !t.Name.StartsWith(OptimizerPrefix, StringComparison.Ordinal))
            .ToDictionary(t => t.Name, t => t.Value, StringComparer.Ordinal);
        try
        {
            model.LoadStateDict(weights, strict: true);
        }
        catch (ArgumentException e)
        {
            throw new InvalidDataException($"model file {path} does not fit {spec}: {e.Message}", e);
        }
        return new LoadedModel(model, spec, data, file.Metadata, path);
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
            optimizer.SetState(p, state, value.Clone());
        }
    }
}
