// The kernel sources embedded in this assembly (Kernels/*.c, *.h), and how a backend assembles a program: its
// dialect's prelude, common.h, then the kernel file. Written once for OpenCL and CUDA (DESIGN.md).
using System.Reflection;
using System.Security.Cryptography;
using System.Text;

namespace Standalone.Kernels;

public enum KernelDialect { OpenCl, Cuda }

public static class KernelSources
{
    private const string Prefix = "Standalone.Kernels.";

    /// <summary>The kernel files (without the headers): "elementwise.c", "gemm.c", ...</summary>
    public static IReadOnlyList<string> Files { get; } = typeof(KernelSources).Assembly.GetManifestResourceNames()
        .Where(n => n.StartsWith(Prefix, StringComparison.Ordinal) && n.EndsWith(".c", StringComparison.Ordinal))
        .Select(n => n[Prefix.Length..]).Order(StringComparer.Ordinal).ToList();

    public static string Read(string file)
    {
        using var stream = typeof(KernelSources).Assembly.GetManifestResourceStream(Prefix + file)
            ?? throw new FileNotFoundException($"kernel source '{file}' is not embedded (have: {string.Join(", ", Files)})");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }

    /// <summary>The full program text for a dialect: prelude + common.h + the file.</summary>
    public static string Program(string file, KernelDialect dialect) =>
        Read(dialect == KernelDialect.OpenCl ? "prelude_opencl.h" : "prelude_cuda.h") + "\n" + Read("common.h") + "\n" + Read(file);

    /// <summary>The source numbered line by line, for build errors.</summary>
    public static string Numbered(string source)
    {
        var lines = source.Split('\n');
        var text = new StringBuilder();
        for (int i = 0; i < lines.Length; i++) text.Append($"{i + 1,5}  {lines[i]}\n");
        return text.ToString();
    }

    public static string Hash(string text) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)))[..32];
}
