// Every file Standalone reads is checked here before it is opened: it exists, it is a regular file (opening a FIFO
// blocks until a writer comes; a device such as /dev/zero never ends), and it is no larger than what its kind may
// hold. The checks name the file and say what was expected.
using System.Runtime.InteropServices;

namespace Standalone.Models.IO;

public static partial class InputFile
{
    /// <summary>The largest file any reader accepts (a model, a data set's file): 16 GiB.</summary>
    public const long DefaultMaxBytes = 16L << 30;

    /// <summary>Throws unless <paramref name="path"/> is an existing regular file of at most maxBytes; returns its length.</summary>
    public static long Check(string path, string what, long maxBytes = DefaultMaxBytes)
    {
        if (Directory.Exists(path)) throw new IOException($"{what} {path} is a directory (expected a file)");
        if (!File.Exists(path)) throw new FileNotFoundException($"{what} {path} does not exist");
        if (Kind(path) is { } kind) throw new IOException($"{what} {path} is a {kind}, not a regular file (expected a file to read)");
        long length = new FileInfo(path).Length;
        if (length > maxBytes) throw new InvalidDataException($"{what} {path} is {length:N0} bytes, more than the {maxBytes:N0} such a file may hold");
        return length;
    }

    /// <summary>Opens a checked file for sequential reading.</summary>
    public static FileStream OpenRead(string path, string what, long maxBytes = DefaultMaxBytes)
    {
        Check(path, what, maxBytes);
        return new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.SequentialScan);
    }

    /// <summary>All bytes of a checked file.</summary>
    public static byte[] ReadAllBytes(string path, string what, long maxBytes = int.MaxValue)
    {
        using var stream = OpenRead(path, what, Math.Min(maxBytes, Array.MaxLength));
        var bytes = new byte[stream.Length];
        stream.ReadExactly(bytes);
        return bytes;
    }

    // ---- file type (Linux: statx, whose layout is the same on every architecture) ---------------------------

    private const int AtCurrentDirectory = -100;
    private const uint StatxType = 0x1;
    private const int ModeOffset = 28;

    [LibraryImport("libc", EntryPoint = "statx", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Statx(int directory, string path, int flags, uint mask, Span<byte> buffer);

    private static bool _statxMissing;

    /// <summary>"FIFO", "character device", ... for a path that exists but is no regular file; null for a regular file (or where this cannot be told).</summary>
    internal static string? Kind(string path)
    {
        if (!OperatingSystem.IsLinux() || _statxMissing) return null;
        Span<byte> buffer = stackalloc byte[256];
        try
        {
            if (Statx(AtCurrentDirectory, path, 0, StatxType, buffer) != 0) return null;
        }
        catch (EntryPointNotFoundException) { _statxMissing = true; return null; }
        catch (DllNotFoundException) { _statxMissing = true; return null; }
        int mode = BitConverter.ToUInt16(buffer[ModeOffset..]) & 0xF000;
        return mode switch
        {
            0x8000 => null,
            0x1000 => "FIFO",
            0x2000 => "character device",
            0x6000 => "block device",
            0xC000 => "socket",
            0x4000 => "directory",
            _ => "special file",
        };
    }
}
