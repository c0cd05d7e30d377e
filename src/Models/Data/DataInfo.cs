// How a model's inputs were prepared: stored with every checkpoint ("standalone.data") so that evaluating, scoring
// or pruning it later feeds it the same normalisation and image size it was trained on.
using Standalone.Models.IO;

namespace Standalone.Models.Data;

public sealed record DataInfo
{
    /// <summary>Data set name as given to the loader ("fashion-mnist", "cifar10", a folder path, ...).</summary>
    public required string Dataset { get; init; }
    public required float[] Mean { get; init; }
    public required float[] Std { get; init; }
    /// <summary>Images smaller than this are centred on a zero canvas of this size (0: none).</summary>
    public int PadTo { get; init; }
    /// <summary>The input the model sees: channels, height, width (after PadTo).</summary>
    public required int[] Input { get; init; }
    public required string[] Classes { get; init; }

    public string ToJson() => MetadataJson.Write(this);

    public static DataInfo FromJson(string json, string source) => MetadataJson.Read<DataInfo>(json, source, "data description");

    /// <summary>Loader options that reproduce this preparation (no augmentation, no shuffling).</summary>
    public LoaderOptions EvalLoader(int batchSize) => new()
    {
        BatchSize = batchSize,
        PadTo = PadTo,
        Mean = Mean,
        Std = Std,
    };

    /// <summary>Training loader options: this preparation plus seeded shuffling, pad-and-crop and flips, whole batches only.</summary>
    public LoaderOptions TrainLoader(int batchSize, ulong seed, int cropPadding, bool horizontalFlip) => EvalLoader(batchSize) with
    {
        Shuffle = true,
        Seed = seed,
        CropPadding = cropPadding,
        HorizontalFlip = horizontalFlip,
        DropLast = true,
    };
}
