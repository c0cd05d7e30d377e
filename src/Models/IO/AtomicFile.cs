// Writes files so that a reader never sees a half-written one: write a temporary file beside it, then rename.
namespace Standalone.Models.IO;

public static class AtomicFile
{
    public static void WriteAllText(string path, string contents) => Write(path, stream =>
    {
        using var writer = new StreamWriter(stream, leaveOpen: true);
        writer.Write(contents);
    });

    public static void WriteAllBytes(string path, byte[] contents) => Write(path, stream => stream.Write(contents));

    /// <summary>
    /// Deletes the temporary files (name.tmp-PID) in a directory that no running process is writing: those of a process
    /// that was killed mid-write. Call it before a run starts writing into the directory.
    /// </summary>
    public static void RemoveStale(string directory)
    {
        if (!Directory.Exists(directory)) return;
        foreach (string file in Directory.EnumerateFiles(directory, "*" + Marker + "*"))
        {
            string suffix = file[(file.LastIndexOf(Marker, StringComparison.Ordinal) + Marker.Length)..];
            if (!int.TryParse(suffix, out int pid) || (pid != Environment.ProcessId && IsRunning(pid))) continue;
            try { File.Delete(file); }
            catch (IOException) { } // another process may be renaming it right now; it is not ours to insist on
        }
    }

    private const string Marker = ".tmp-";

    private static bool IsRunning(int pid)
    {
        try
        {
            using var process = System.Diagnostics.Process.GetProcessById(pid);
            return !process.HasExited;
        }
        catch (ArgumentException) { return false; }
        catch (InvalidOperationException) { return false; }
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
        catch (Exception e)
        {
            try { File.Delete(temp); }
            catch (IOException) { } // the original failure is the one to report
            // The message names the file the user asked for, not its temporary twin.
            if (e is IOException or UnauthorizedAccessException)
                throw new IOException($"could not write {full}: {e.Message.Replace(temp, full, StringComparison.Ordinal)}", e);
            throw;
        }
        return length;
    }

    /// <summary>The full path, its directory created, and the temporary file beside it.</summary>
    private static (string Full, string Temp) Prepare(string path)
    {
        string full = Path.GetFullPath(path);
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        return (full, full + Marker + Environment.ProcessId);
    }
}
