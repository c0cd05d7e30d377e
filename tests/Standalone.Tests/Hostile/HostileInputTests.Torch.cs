// Harness family for PyTorch checkpoints (.pth): byte damage anywhere in the zip archive, truncations, damage inside
// the pickle itself (the archive rebuilt around it), and crafted pickles that call Python globals.
using System.IO.Compression;
using System.Text;
using Standalone.Tests.Reference;

namespace Standalone.Tests.Hostile;

public sealed partial class HostileInputTests
{
    [Test]
    public void PyTorchCheckpoints()
    {
        var harness = new HostileHarness("pth", Scratch);
        byte[] good = File.ReadAllBytes(Path.Combine(Fixture.RepositoryRoot(), "data", "reference", "pth", "resnet20-fp16-dataparallel.pth"));
        string mutant = Path.Combine(Scratch, "mutant.pth");
        string[] info = ["info", mutant, "--arch", "resnet20", "--input", "1,28,28"];
        void Case(string name, Expect expect, Func<byte[]> bytes, Func<string, string?>? check = null) =>
            harness.Run(new(name, info, expect, () => File.WriteAllBytes(mutant, bytes()), check));

        Case("unchanged", Expect.Success, () => good);
        var random = new Random(41);
        for (int i = 0; i < 150; i++)
        {
            int at = random.Next(good.Length);
            byte xor = (byte)(1 << random.Next(8));
            Case($"flip {at}^{xor}", Expect.Either, () => { var b = (byte[])good.Clone(); b[at] ^= xor; return b; });
        }
        for (int i = 0; i < 40; i++)
        {
            int length = random.Next(good.Length);
            Case($"truncated to {length}", Expect.Error, () => good[..length]);
        }
        // Damage inside data.pkl, with a consistent archive around it.
        byte[] pickle = Entry(good, "data.pkl");
        for (int i = 0; i < 120; i++)
        {
            int at = random.Next(pickle.Length);
            byte value = (byte)random.Next(256);
            Case($"pickle byte {at}={value}", Expect.Either, () => { var p = (byte[])pickle.Clone(); p[at] = value; return WithPickle(good, p); });
        }
        for (int i = 0; i < 20; i++)
        {
            int length = random.Next(pickle.Length);
            Case($"pickle truncated to {length}", Expect.Error, () => WithPickle(good, pickle[..length]));
        }
        // Pickles that would run code in Python: the globals are refused by name, nothing is called.
        string? NamesGlobal(string _) => "must not succeed";
        foreach (var (module, name) in new[] { ("os", "system"), ("posix", "system"), ("builtins", "eval"), ("subprocess", "Popen"), ("torch", "load") })
        {
            byte[] crafted = [0x80, 0x02, .. Encoding.ASCII.GetBytes($"c{module}\n{name}\n"), .. "X\u0007\0\0\0echo hi\u0085R."u8];
            Case($"global {module}.{name}", Expect.Error, () => WithPickle(good, crafted), NamesGlobal);
        }
        Case("a list", Expect.Error, () => WithPickle(good, [0x80, 0x02, (byte)']', (byte)'.']));
        Case("a string", Expect.Error, () => WithPickle(good, [0x80, 0x02, .. "X\u0001\0\0\0a."u8]));
        Case("not a zip", Expect.Error, () => "not a checkpoint"u8.ToArray());
        Case("legacy format", Expect.Error, () => File.ReadAllBytes(Path.Combine(Fixture.RepositoryRoot(), "data", "reference", "pth", "legacy.pth")));
        Case("pickled module", Expect.Error, () => File.ReadAllBytes(Path.Combine(Fixture.RepositoryRoot(), "data", "reference", "pth", "module.pth")));
        harness.Run(new("fifo", info, Expect.Error, () => HostileFiles.Fifo(mutant)));
        Finish(harness, 330);
    }

    private static byte[] Entry(byte[] zip, string suffix)
    {
        using var archive = new ZipArchive(new MemoryStream(zip), ZipArchiveMode.Read);
        using var stream = archive.Entries.Single(e => e.FullName.EndsWith(suffix, StringComparison.Ordinal)).Open();
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    }

    /// <summary>The archive with its data.pkl replaced (every other entry as it was, stored uncompressed like torch.save does).</summary>
    private static byte[] WithPickle(byte[] zip, byte[] pickle)
    {
        using var output = new MemoryStream();
        using (var source = new ZipArchive(new MemoryStream(zip), ZipArchiveMode.Read))
        using (var target = new ZipArchive(output, ZipArchiveMode.Create, leaveOpen: true))
            foreach (var entry in source.Entries)
            {
                using var to = target.CreateEntry(entry.FullName, CompressionLevel.NoCompression).Open();
                if (entry.FullName.EndsWith("data.pkl", StringComparison.Ordinal)) to.Write(pickle);
                else
                {
                    using var from = entry.Open();
                    from.CopyTo(to);
                }
            }
        return output.ToArray();
    }
}
