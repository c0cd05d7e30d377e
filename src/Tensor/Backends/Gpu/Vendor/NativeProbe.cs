// Finds the newest copy of an optional NVIDIA library (NVRTC, cuBLAS) that this machine has. Several CUDA versions
// often sit side by side (a distribution package, /usr/local/cuda-X.Y, a pip wheel under nvidia/*/lib), each under its
// own soname, and the loader alone would only find whichever one it is asked for by name. So every candidate is
// loaded, asked its version, and all but the newest are unloaded again. Candidates, in order (the first wins a tie):
// the bare sonames through the loader's own search (LD_LIBRARY_PATH, ld.so.cache), then every <stem>.so* file in
// LD_LIBRARY_PATH, the CUDA toolkit folders, the system library folders, conda and Python's nvidia/<package>/lib.
using System.Runtime.InteropServices;

namespace Standalone.Backends.Gpu.Vendor;

internal static unsafe class NativeProbe
{
    /// <summary>A loaded library: its handle (kept loaded), the file it came from and its version.</summary>
    public sealed record Found(nint Handle, string Path, Version Version);

    /// <summary>
    /// The newest copy of a library bound by <paramref name="bind"/> (which reads its entry points), or null with why
    /// not: none found, or the newest lacks an entry point. <paramref name="title"/> names it in the reason ("NVRTC").
    /// </summary>
    public static (T? Loaded, string? Unavailable) Load<T>(string title, string stem, IEnumerable<string> sonames, string pythonPackage,
        string probeExport, Func<nint, Version?> readVersion, Func<Found, T> bind) where T : class
    {
        var found = Newest(stem, sonames, pythonPackage, probeExport, readVersion, out var searched);
        if (found == null) return (null, $"{stem} ({title}) not found; looked for {searched}");
        try
        {
            return (bind(found), null);
        }
        catch (EntryPointNotFoundException e)
        {
            NativeLibrary.Free(found.Handle);
            return (null, $"{found.Path} lacks a {title} entry point ({e.Message})");
        }
    }

    /// <summary>
    /// Loads the newest of the candidates for <paramref name="stem"/> ("libnvrtc"), judged by
    /// <paramref name="readVersion"/> (null when a candidate is not usable). <paramref name="probeExport"/> is any export
    /// of the library, used to learn which file a bare soname resolved to. Null when there is none; searched then
    /// lists where it looked.
    /// </summary>
    public static Found? Newest(string stem, IEnumerable<string> sonames, string pythonPackage, string probeExport,
        Func<nint, Version?> readVersion, out string searched)
    {
        var folders = Folders(pythonPackage).ToList();
        searched = $"{string.Join(", ", sonames)} through the loader, and {stem}.so* in {string.Join(", ", folders)}";
        var files = folders.SelectMany(folder => SafeFiles(folder, stem + ".so*"));
        var seen = new HashSet<string>(StringComparer.Ordinal);
        Found? best = null;
        foreach (var candidate in sonames.Concat(files))
        {
            if (!NativeLibrary.TryLoad(candidate, out var handle)) continue;
            string path = PathOf(handle, probeExport) ?? candidate;
            var version = seen.Add(RealPath(path)) ? readVersion(handle) : null;
            if (version != null && (best == null || version > best.Version))
            {
                if (best != null) NativeLibrary.Free(best.Handle);
                best = new Found(handle, path, version);
            }
            else NativeLibrary.Free(handle); // each load counted a reference; this drops only this candidate's
        }
        return best;
    }

    /// <summary>The folders that may hold NVIDIA libraries, existing ones only, without repeats.</summary>
    private static IEnumerable<string> Folders(string pythonPackage)
    {
        var folders = new List<string>();
        if (Environment.GetEnvironmentVariable("LD_LIBRARY_PATH") is { Length: > 0 } ldPath) folders.AddRange(ldPath.Split(':'));
        folders.Add("/usr/local/cuda/lib64");
        folders.AddRange(SafeDirectories("/usr/local", "cuda-*").Order(StringComparer.Ordinal).Select(d => Path.Combine(d, "lib64")));
        string multiarch = RuntimeInformation.ProcessArchitecture == Architecture.Arm64 ? "aarch64-linux-gnu" : "x86_64-linux-gnu";
        folders.AddRange([$"/usr/lib/{multiarch}", "/usr/lib64", "/usr/lib"]);
        string? conda = Environment.GetEnvironmentVariable("CONDA_PREFIX"), venv = Environment.GetEnvironmentVariable("VIRTUAL_ENV");
        if (!string.IsNullOrEmpty(conda)) folders.Add(Path.Combine(conda, "lib"));
        string home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
        // pip's nvidia-*-cu12 wheels: <prefix>/lib/python3.N/{site,dist}-packages/nvidia/<package>/lib.
        foreach (var prefix in new[] { venv, conda, Path.Combine(home, ".local"), "/usr/local", "/usr" })
            if (!string.IsNullOrEmpty(prefix))
                foreach (var python in SafeDirectories(Path.Combine(prefix, "lib"), "python3*"))
                    foreach (var packages in new[] { "site-packages", "dist-packages" })
                        folders.Add(Path.Combine(python, packages, "nvidia", pythonPackage, "lib"));
        return folders.Where(f => f.Length > 0 && Directory.Exists(f)).Distinct(StringComparer.Ordinal);
    }

    private static IEnumerable<string> SafeFiles(string folder, string pattern)
    {
        try { return Directory.GetFiles(folder, pattern).Order(StringComparer.Ordinal); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return []; }
    }

    private static IEnumerable<string> SafeDirectories(string folder, string pattern)
    {
        try { return Directory.Exists(folder) ? Directory.GetDirectories(folder, pattern) : []; }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return []; }
    }

    private static string RealPath(string path)
    {
        try { return File.ResolveLinkTarget(path, returnFinalTarget: true)?.FullName ?? Path.GetFullPath(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException) { return path; }
    }

    // dladdr's Dl_info: the file an address belongs to (dli_fname), its base, the nearest symbol and its address.
    [StructLayout(LayoutKind.Sequential)]
    private struct DlInfo
    {
        public nint FileName, FileBase, SymbolName, SymbolAddress;
    }

    private static readonly Lazy<nint> Dladdr = new(() =>
        (NativeLibrary.TryLoad("libc.so.6", out var libc) && NativeLibrary.TryGetExport(libc, "dladdr", out var f)) ||
        (NativeLibrary.TryLoad("libdl.so.2", out var libdl) && NativeLibrary.TryGetExport(libdl, "dladdr", out f)) ? f : 0);

    /// <summary>The file a loaded library came from (through dladdr on one of its exports), or null when unknown.</summary>
    private static string? PathOf(nint library, string export)
    {
        if (Dladdr.Value == 0 || !NativeLibrary.TryGetExport(library, export, out var address)) return null;
        DlInfo info;
        return ((delegate* unmanaged<nint, DlInfo*, int>)Dladdr.Value)(address, &info) != 0 && info.FileName != 0
            ? Marshal.PtrToStringUTF8(info.FileName) : null;
    }
}
