// MNIST-family data sets in IDX form: Fashion-MNIST (shipped in data/fashion-mnist) and MNIST. A directory holds
// train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte, each optionally
// with a .gz suffix.
namespace Standalone.Models.Data;

public static class Mnist
{
    public static readonly IReadOnlyList<string> FashionClasses =
        ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"];

    public static readonly IReadOnlyList<string> DigitClasses = ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"];

    /// <summary>The training (60,000) or test (10,000) split found in directory.</summary>
    public static ImageDataset Load(string directory, bool train, IReadOnlyList<string> classes, Action<int, int, int, string>? checkShape = null)
    {
        string prefix = train ? "train" : "t10k";
        string images = FindFile(directory, $"{prefix}-images-idx3-ubyte");
        string labels = FindFile(directory, $"{prefix}-labels-idx1-ubyte");
        var (imageDims, pixels) = Idx.Read(images, dims =>
        {
            if (dims.Length == 3) checkShape?.Invoke(1, dims[1], dims[2], images);
        });
        var (labelDims, labelBytes) = Idx.Read(labels);
        if (imageDims.Length != 3) throw new InvalidDataException($"IDX file {images}: expected images [N, H, W], found dimensions [{string.Join(", ", imageDims)}]");
        if (labelDims.Length != 1) throw new InvalidDataException($"IDX file {labels}: expected labels [N], found dimensions [{string.Join(", ", labelDims)}]");
        if (labelDims[0] != imageDims[0])
            throw new InvalidDataException($"IDX files {images} and {labels}: {imageDims[0]} images but {labelDims[0]} labels");
        var labelValues = new int[labelBytes.Length];
        for (int i = 0; i < labelBytes.Length; i++)
        {
            if (labelBytes[i] >= classes.Count)
                throw new InvalidDataException($"IDX file {labels}, offset {8 + i}: expected a label below {classes.Count}, found {labelBytes[i]}");
            labelValues[i] = labelBytes[i];
        }
        return new ImageDataset($"{directory} ({(train ? "train" : "test")})", pixels, labelValues, 1, imageDims[1], imageDims[2], classes);
    }

    private static string FindFile(string directory, string name)
    {
        foreach (string candidate in new[] { name + ".gz", name, name.Replace("-idx", ".idx") + ".gz", name.Replace("-idx", ".idx") })
        {
            string path = Path.Combine(directory, candidate);
            if (File.Exists(path)) return path;
        }
        throw new FileNotFoundException($"data directory {directory}: expected {name}.gz (or {name}) and found neither");
    }
}
