// Data sets by name, and where to find them: --data DIR when given; otherwise the shipped copy in data/<name> (looked
// for above the working directory and above the program), then the Debian package's directory.
//   fashion-mnist, mnist   IDX files (gz or raw)
//   cifar10, cifar100      the binary versions
//   folder                 DIR/train/<class>/*.png and DIR/test/<class>/*.png (classes sorted by name)
//   synthetic              a seeded, learnable set of class patterns, 3×32×32, 10 classes (tests and smoke runs)
namespace Standalone.Models.Data;

public static class DataCatalog
{
    public static IReadOnlyList<string> Names { get; } = ["fashion-mnist", "mnist", "cifar10", "cifar100", "folder", "synthetic"];

    /// <summary>Sizes of the synthetic set's splits (both cut from one generated set, so they share its class patterns).</summary>
    public const int SyntheticTrain = 2048, SyntheticTest = 512;

    private static readonly Dictionary<string, string> SystemDirectories = new()
    {
        ["fashion-mnist"] = "/usr/share/datasets/fashion-mnist",
        ["mnist"] = "/usr/share/datasets/mnist",
    };

    /// <summary>
    /// The training or test split of a named data set. <paramref name="checkShape"/> (channels, height, width, source)
    /// is called with the images' shape before their pixels are read where the format allows it (IDX), so data that
    /// does not fit a model is refused before it is loaded.
    /// </summary>
    public static ImageDataset Load(string name, string? directory, bool train, Action<int, int, int, string>? checkShape = null)
    {
        var set = LoadSplit(name, directory, train, checkShape);
        if (set.Count == 0) throw new InvalidDataException($"data set {set.Name} holds no images");
        checkShape?.Invoke(set.Channels, set.Height, set.Width, set.Name);
        return set;
    }

    private static ImageDataset LoadSplit(string name, string? directory, bool train, Action<int, int, int, string>? checkShape)
    {
        if (name == "synthetic")
        {
            var all = Synthetic.Create(SyntheticTrain + SyntheticTest, 3, 32, 32, 10, seed: 0);
            return all.Subset(train ? Enumerable.Range(0, SyntheticTrain).ToArray() : Enumerable.Range(SyntheticTrain, SyntheticTest).ToArray(),
                $"synthetic ({(train ? "train" : "test")})");
        }
        string dir = Locate(name, directory);
        return name switch
        {
            "fashion-mnist" => Mnist.Load(dir, train, Mnist.FashionClasses, checkShape),
            "mnist" => Mnist.Load(dir, train, Mnist.DigitClasses, checkShape),
            "cifar10" => Cifar.Load(dir, train, 10),
            "cifar100" => Cifar.Load(dir, train, 100),
            "folder" => ImageFolder.Load(Path.Combine(dir, train ? "train" : "test")),
            _ => throw Unknown(name),
        };
    }

    /// <summary>The directory holding a data set: the one given, else the shipped or system copy.</summary>
    public static string Locate(string name, string? directory)
    {
        if (!Names.Contains(name)) throw Unknown(name);
        if (directory != null)
            return Directory.Exists(directory) ? directory : throw new DirectoryNotFoundException($"data directory {directory} does not exist");
        if (name == "folder") throw new ArgumentException("--dataset folder needs --data DIR (holding train/<class>/*.png and test/<class>/*.png)");
        foreach (string start in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
            for (var d = new DirectoryInfo(start); d != null; d = d.Parent)
            {
                string candidate = Path.Combine(d.FullName, "data", name);
                if (Directory.Exists(candidate)) return candidate;
            }
        if (SystemDirectories.TryGetValue(name, out string? system) && Directory.Exists(system)) return system;
        throw new DirectoryNotFoundException($"data set {name} not found: pass --data DIR (looked for data/{name} above the working " +
            $"directory and above the program{(system != null ? ", and in " + system : "")})");
    }

    private static ArgumentException Unknown(string name) =>
        new($"unknown data set '{name}' (expected one of {string.Join(", ", Names)})");
}
