// Compiles the kernel files to PTX with NVRTC for one compute capability. The target is a virtual architecture
// (compute_XY, the newest NVRTC knows that the device also has), so the driver JIT-compiles the PTX for the actual
// GPU — including GPUs newer than this NVRTC. PTX is also cached on disk (STANDALONE_CACHE, else $XDG_CACHE_HOME or
// ~/.cache, under standalone/cuda/), keyed by a hash of the NVRTC version, the options and the full source, so a
// second process skips the compiler. A failed compile throws with the compiler log and the numbered source.
using Standalone.Backends.Cuda.Native;
using Standalone.Kernels;

namespace Standalone.Backends.Cuda;

internal static class CudaCompiler
{
    /// <summary>Where compiled PTX is cached, or null when caching is off (STANDALONE_CACHE=off).</summary>
    public static string? CacheDirectory => KernelCache.Folder("cuda");

    /// <summary>
    /// The virtual architecture to compile for, as 10·major + minor: the newest one NVRTC supports that is not newer
    /// than the device's compute capability.
    /// </summary>
    public static int Architecture(int ccMajor, int ccMinor)
    {
        RequireNvrtc();
        var archs = Nvrtc.SupportedArchs;
        int device = ccMajor * 10 + ccMinor, chosen = archs.Where(a => a <= device).DefaultIfEmpty(-1).Max();
        if (chosen < 0)
            throw new NotSupportedException($"CUDA: a device of compute capability {ccMajor}.{ccMinor} is older than every architecture " +
                $"NVRTC {Nvrtc.Version.Major}.{Nvrtc.Version.Minor} compiles for (compute_{archs[0]} to compute_{archs[^1]})");
        return chosen;
    }

    /// <summary>The PTX (NUL-terminated) of one kernel file: prelude_cuda.h + common.h + the file.</summary>
    public static byte[] Compile(string file, int ccMajor, int ccMinor) =>
        Compile(file, KernelSources.Program(file, KernelDialect.Cuda), ccMajor, ccMinor);

    /// <summary>The PTX (NUL-terminated) of full program text, through the disk cache when it is on.</summary>
    public static byte[] Compile(string file, string source, int ccMajor, int ccMinor) =>
        Compile(file, source, ccMajor, ccMinor, CacheDirectory);

    /// <summary>Compiles every kernel file (tests, and a warm-up that moves compile time out of the first step).</summary>
    public static IReadOnlyDictionary<string, byte[]> CompileAll(int ccMajor, int ccMinor) =>
        KernelSources.Files.ToDictionary(file => file, file => Compile(file, ccMajor, ccMinor));

    /// <summary>As above with an explicit cache folder (null: no cache); tests use it to stay out of the user's cache.</summary>
    internal static byte[] Compile(string file, string source, int ccMajor, int ccMinor, string? cacheDirectory)
    {
        RequireNvrtc();
        int arch = Architecture(ccMajor, ccMinor);
        string[] options = [$"--gpu-architecture=compute_{arch}"];
        var (major, minor) = Nvrtc.Version;
        string key = KernelSources.Hash(string.Join("\n", $"nvrtc {major}.{minor}", string.Join(" ", options), source));
        string? cached = cacheDirectory is { } dir ? Path.Combine(dir, $"{Path.GetFileNameWithoutExtension(file)}-compute_{arch}-{key}.ptx") : null;
        if (cached != null && TryRead(cached) is { } fromCache) return fromCache;

        var (status, log, ptx) = Nvrtc.Compile(file, source, options);
        if (status != 0)
            throw new CudaException($"nvrtcCompileProgram({file}) for compute_{arch}", status,
                $"compile log:\n{log}\nsource:\n{KernelSources.Numbered(source)}", CudaLibrary.Nvrtc);
        if (cached != null) KernelCache.TryWrite(cached, ptx!);
        return ptx!;
    }

    private static void RequireNvrtc()
    {
        if (!Nvrtc.Available) throw new InvalidOperationException($"CUDA: NVRTC is not available ({Nvrtc.Unavailable})");
    }

    /// <summary>A cached PTX, or null when missing or unreadable (an interrupted write leaves only a temporary file).</summary>
    private static byte[]? TryRead(string path)
    {
        try
        {
            if (!File.Exists(path)) return null;
            var ptx = File.ReadAllBytes(path);
            return ptx.Length > 0 && ptx[^1] == 0 ? ptx : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }
}
