// Writes files so that a reader never sees a half-written one: write a temporary file beside it, then rename.
namespace Standalone.Models.IO;

public static class AtomicFile
{
    public static void WriteAllText(string path, string contents)
    {
        string full = Path.GetFullPath(path);
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        string temp = full + ".tmp-" + Environment.ProcessId;
        File.WriteAllText(temp, contents);
        File.Move(temp, full, overwrite: true);
    }

    public static void WriteAllBytes(string path, ReadOnlySpan<byte> contents)
    {
        string full = Path.GetFullPath(path);
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        string temp = full + ".tmp-" + Environment.ProcessId;
        File.WriteAllBytes(temp, contents);
        File.Move(temp, full, overwrite: true);
    }
}
