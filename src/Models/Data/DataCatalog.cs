// Data sets by name, and where to find them: --data DIR when given; otherwise the shipped copy in data/<name> (looked
// for above the working directory and above the program), then the Debian package's directory.
namespace Standalone.Models.Data;

public static class DataCatalog
{
    public static IReadOnlyList<string> Names { get; } = ["fashion-mnist", "mnist"];

    private static readonly Dictionary<string, string> SystemDirectories = new()
    {
        ["fashion-mnist"] = "/usr/share/datasets/fashion-mnist",
        ["mnist"] = "/usr/share/datasets/mnist",
    };

    /// <summary>The training or test split of a named data set.</summary>
    public static ImageDataset Load(string name, string? directory, bool train)
    {
        string dir = Locate(name, directory);
        return name switch
        {
            "fashion-mnist" => Mnist.Load(dir, train, Mnist.FashionClasses),
            "mnist" => Mnist.Load(dir, train, Mnist.DigitClasses),
            _ => throw Unknown(name),
        };
    }

    /// <summary>The directory holding a data set: the one given, else the shipped or system copy.</summary>
    public static string Locate(string name, string? directory)
    {
        if (!Names.Contains(name)) throw Unknown(name);
        if (directory != null)
            return Directory.Exists(directory) ? directory : throw new DirectoryNotFoundException($"data directory {directory} does not exist");
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
