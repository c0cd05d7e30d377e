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

    /// <summary>The normalisation torchvision's ImageNet models were trained with (RGB, pixels scaled to [0, 1]).</summary>
    public static readonly float[] ImageNetMean = [0.485f, 0.456f, 0.406f], ImageNetStd = [0.229f, 0.224f, 0.225f];

    /// <summary>
    /// The mean and standard deviation a named preset gives: "data" (the training split's own statistics) or
    /// "imagenet" (what pretrained torchvision weights expect; RGB data only).
    /// </summary>
    public static (float[] Mean, float[] Std) Normalization(string preset, ImageDataset train) => preset switch
    {
        "data" => train.ChannelStatistics(),
        "imagenet" when train.Channels == 3 => (ImageNetMean, ImageNetStd),
        "imagenet" => throw new ArgumentException($"--normalize imagenet is for RGB images; {train.Name} has {train.Channels} channel(s) (use --normalize data)"),
        _ => throw new ArgumentException($"--normalize must be data or imagenet, got '{preset}'"),
    };

    public string ToJson() => MetadataJson.Write(this);

    public static DataInfo FromJson(string json, string source) => MetadataJson.Read<DataInfo>(json, source, "data description");

    /// <summary>
    /// Throws ArgumentException unless <paramref name="images"/> give the input the model was trained on (channels, and
    /// height and width after PadTo) and have as many classes: anything else would be evaluated as silent nonsense.
    /// </summary>
    public void RequireFits(ImageDataset images, string modelPath)
    {
        RequireShape(images.Channels, images.Height, images.Width, images.Name, modelPath);
        if (images.Classes.Count != Classes.Length)
            throw new ArgumentException($"{images.Name} has {images.Classes.Count} classes, but {modelPath} was trained on {Classes.Length}");
    }

    /// <summary>Throws ArgumentException unless images of this shape (before PadTo) give the model's input.</summary>
    public void RequireShape(int channels, int imageHeight, int imageWidth, string source, string modelPath)
    {
        int height = Math.Max(imageHeight, PadTo), width = Math.Max(imageWidth, PadTo);
        if (channels != Input[0] || height != Input[1] || width != Input[2])
            throw new ArgumentException($"{source} gives {channels}×{imageHeight}×{imageWidth} images" +
                (PadTo > 0 ? $" ({channels}×{height}×{width} after padding to {PadTo})" : "") +
                $", but {modelPath} takes {string.Join("×", Input)} (channels×height×width)");
    }

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
