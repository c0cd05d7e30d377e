// Where compiled kernels are cached on disk, and how a cache file is written: STANDALONE_CACHE, else $XDG_CACHE_HOME
// or ~/.cache, under standalone/<backend>/ (STANDALONE_CACHE=off or 0 turns caching off). A file is written under a
// temporary name and renamed, so no reader sees half of one; a cache that cannot be written only costs a recompile.
namespace Standalone.Kernels;

internal static class KernelCache
{
    /// <summary>The cache folder of one backend ("cuda"), or null when caching is off.</summary>
    public static string? Folder(string backend)
    {
        string? root = Environment.GetEnvironmentVariable("STANDALONE_CACHE");
        if (root is "off" or "0") return null;
        if (string.IsNullOrEmpty(root))
        {
            string? xdg = Environment.GetEnvironmentVariable("XDG_CACHE_HOME");
            root = Path.Combine(string.IsNullOrEmpty(xdg) ? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache") : xdg, "standalone");
        }
        return Path.Combine(root, backend);
    }

    /// <summary>Writes a cache file atomically (temporary file, then rename), ignoring a folder that cannot be written.</summary>
    public static void TryWrite(string path, byte[] contents)
    {
        try
        {
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            string temporary = $"{path}.{Environment.ProcessId}.{Environment.CurrentManagedThreadId}.tmp";
            File.WriteAllBytes(temporary, contents);
            File.Move(temporary, path, overwrite: true);
        }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
    }
}
