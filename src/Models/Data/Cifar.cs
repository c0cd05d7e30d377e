// Reads the binary versions of CIFAR-10 and CIFAR-100 (docs/formats.md, "Data sets"). A record is the label byte(s)
// then 3,072 pixel bytes already planar (1,024 R, 1,024 G, 1,024 B, each 32×32 row-major), so pixels copy straight
// into ImageDataset's [N, 3, 32, 32] layout.
using Standalone.Models.IO;

namespace Standalone.Models.Data;

public static class Cifar
{
    public const int Side = 32;
    public const int ImageBytes = 3 * Side * Side;

    private static readonly string[] Cifar10Classes =
        ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"];

    /// <summary>
    /// The train or test split of CIFAR-10 (variant 10: data_batch_1..5.bin or test_batch.bin) or CIFAR-100 (variant
    /// 100: train.bin or test.bin, fine labels). directory holds the files or holds cifar-10-batches-bin / cifar-100-binary.
    /// </summary>
    public static ImageDataset Load(string directory, bool train, int variant)
    {
        var (subfolder, files, labelBytes) = variant switch
        {
            10 => ("cifar-10-batches-bin", train ? Enumerable.Range(1, 5).Select(i => $"data_batch_{i}.bin").ToArray() : ["test_batch.bin"], 1),
            100 => ("cifar-100-binary", train ? ["train.bin"] : new[] { "test.bin" }, 2),
            _ => throw new ArgumentOutOfRangeException(nameof(variant), variant, "CIFAR variant must be 10 or 100"),
        };
        string split = train ? "train" : "test";
        string folder = FindFolder(directory, subfolder, files, $"CIFAR-{variant} {split}");

        // CIFAR-100 records carry (coarse, fine); the fine label is the last label byte in both variants.
        int recordSize = labelBytes + ImageBytes;
        var contents = new byte[files.Length][];
        long records = 0;
        for (int f = 0; f < files.Length; f++)
        {
            string path = Path.Combine(folder, files[f]);
            contents[f] = InputFile.ReadAllBytes(path, $"CIFAR-{variant} file");
            long length = contents[f].LongLength;
            if (length % recordSize != 0)
                throw new InvalidDataException($"CIFAR-{variant} file '{path}': {length} bytes is not a whole number of {recordSize}-byte records; the last whole record ends at byte {length / recordSize * recordSize} and {length % recordSize} bytes follow (truncated file?)");
            records += length / recordSize;
        }

        if (records * ImageBytes > Array.MaxLength)
            throw new InvalidDataException($"CIFAR-{variant} {split} ({folder}): {records:N0} images are more than one data set may hold");
        var pixels = new byte[records * ImageBytes];
        var labels = new int[records];
        int image = 0;
        for (int f = 0; f < files.Length; f++)
            for (int offset = 0; offset < contents[f].Length; offset += recordSize, image++)
            {
                int label = contents[f][offset + labelBytes - 1];
                if (label >= variant)
                    throw new InvalidDataException($"CIFAR-{variant} file '{Path.Combine(folder, files[f])}': at byte {offset + labelBytes - 1}, expected a label below {variant}, found {label}");
                labels[image] = label;
                contents[f].AsSpan(offset + labelBytes, ImageBytes).CopyTo(pixels.AsSpan(image * ImageBytes, ImageBytes));
            }
        var classes = variant == 10 ? Cifar10Classes : Cifar100Classes(folder);
        return new ImageDataset($"CIFAR-{variant} {split} ({folder})", pixels, labels, 3, Side, Side, classes);
    }

    private static string FindFolder(string directory, string subfolder, string[] files, string what)
    {
        string nested = Path.Combine(directory, subfolder);
        foreach (string candidate in new[] { directory, nested })
            if (files.All(f => File.Exists(Path.Combine(candidate, f)))) return candidate;
        string reported = Directory.Exists(nested) ? nested : directory;
        var missing = files.Where(f => !File.Exists(Path.Combine(reported, f)));
        throw new FileNotFoundException($"{what}: expected {string.Join(", ", files)} in '{directory}' or in '{nested}'; missing from '{reported}': {string.Join(", ", missing)}");
    }

    /// <summary>fine_label_names.txt (one name a line, as in the official archive) when present, else class0..class99.</summary>
    private static string[] Cifar100Classes(string folder)
    {
        string path = Path.Combine(folder, "fine_label_names.txt");
        if (!File.Exists(path)) return Enumerable.Range(0, 100).Select(i => $"class{i}").ToArray();
        var names = System.Text.Encoding.UTF8.GetString(InputFile.ReadAllBytes(path, "CIFAR-100 class names", 1 << 20)).Split('\n').Select(l => l.Trim()).Where(l => l.Length > 0).ToArray();
        if (names.Length != 100) throw new InvalidDataException($"CIFAR-100 class names '{path}': expected 100 non-empty lines, found {names.Length}");
        return names;
    }
}
