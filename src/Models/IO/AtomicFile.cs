// Writes files so that a reader never sees a half-written one: write a temporary file beside it, then rename.
namespace Standalone.Models.IO;

public static class AtomicFile
{
    public static void WriteAllText(string path, string contents) => Write(path, stream =>
    {
        using var writer = new StreamWriter(stream, leaveOpen: true);
        writer.Write(contents);
    });

    public static void WriteAllBytes(string path, ReadOnlySpan<byte> contents)
    {
        var (full, temp) = Prepare(path);
        File.WriteAllBytes(temp, contents);
        File.Move(temp, full, overwrite: true);
    }

    /// <summary>
    /// Streams a file that should not be held in memory whole: <paramref name="write"/> fills the temporary file,
    /// which is then renamed over <paramref name="path"/> (or deleted, if write throws). Returns the file's length.
    /// </summary>
    public static long Write(string path, Action<Stream> write)
    {
        var (full, temp) = Prepare(path);
        long length;
        try
        {
            using (var stream = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None, bufferSize: 1 << 16))
            {
                write(stream);
                length = stream.Length;
            }
            File.Move(temp, full, overwrite: true);
        }
        catch
        {
            File.Delete(temp);
            throw;
        }
        return length;
    }

    /// <summary>The full path, its directory created, and the temporary file beside it.</summary>
    private static (string Full, string Temp) Prepare(string path)
    {
        string full = Path.GetFullPath(path);
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        return (full, full + ".tmp-" + Environment.ProcessId);
    }
}
