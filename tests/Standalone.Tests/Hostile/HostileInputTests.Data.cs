// Harness families for data sets: IDX (gzip'd and raw), PNG image folders and CIFAR-10 binaries, each evaluated by a
// model made for the unmutated data.
using Standalone.Models.Data;
using Standalone.Tests.Data;

namespace Standalone.Tests.Hostile;

public sealed partial class HostileInputTests
{
    [Test]
    public void IdxData()
    {
        var harness = new HostileHarness("idx", Scratch);
        string model = Path.Combine(Scratch, "fmnist.safetensors"), dir = Path.Combine(Scratch, "idx");
        HostileFiles.Model(model, Spec with { NumClasses = 10 }, HostileFiles.Info("fashion-mnist", 1, 8, 10));
        Directory.CreateDirectory(dir);
        var random = new Random(23);
        var pixels = new byte[12 * 8 * 8];
        random.NextBytes(pixels);
        byte[] images = HostileFiles.IdxBytes([12, 8, 8], pixels), labels = HostileFiles.IdxBytes([12], Enumerable.Range(0, 12).Select(i => (byte)(i % 10)).ToArray());
        string imagesPath = Path.Combine(dir, "t10k-images-idx3-ubyte.gz"), labelsPath = Path.Combine(dir, "t10k-labels-idx1-ubyte.gz");
        string[] eval = ["eval", "--model", model, "--data", dir];
        void Write(byte[] imageFile, byte[] labelFile, bool gzip = true)
        {
            foreach (string f in Directory.GetFiles(dir)) File.Delete(f);
            File.WriteAllBytes(gzip ? imagesPath : imagesPath[..^3], gzip ? HostileFiles.Gzip(imageFile) : imageFile);
            File.WriteAllBytes(gzip ? labelsPath : labelsPath[..^3], gzip ? HostileFiles.Gzip(labelFile) : labelFile);
        }
        void Case(string name, Expect expect, Func<byte[]> imageFile, Func<byte[]>? labelFile = null, bool gzip = true) =>
            harness.Run(new(name, eval, expect, () => Write(imageFile(), labelFile?.Invoke() ?? labels, gzip), EvaluatedImages(12)));

        Case("unchanged gz", Expect.Success, () => images);
        Case("unchanged raw", Expect.Success, () => images, gzip: false);
        foreach (bool gzip in new[] { true, false })
        {
            string form = gzip ? "gz" : "raw";
            for (int at = 0; at < 16; at++)
                foreach (byte value in new byte[] { 0x00, 0x01, 0x7F, 0x80, 0xFF })
                {
                    int offset = at;
                    Case($"{form} images header byte {offset}={value}", images[offset] == value ? Expect.Success : Expect.Error,
                        () => { var b = (byte[])images.Clone(); b[offset] = value; return b; }, gzip: gzip);
                }
            for (int at = 0; at < 8; at++)
                foreach (byte value in new byte[] { 0x00, 0x03, 0xFF })
                {
                    int offset = at;
                    Case($"{form} labels header byte {offset}={value}", labels[offset] == value ? Expect.Success : Expect.Error,
                        () => images, () => { var b = (byte[])labels.Clone(); b[offset] = value; return b; }, gzip);
                }
            foreach (var dims in new[] { new[] { 12, 7, 8 }, [12, 9, 9], [12, 28, 28], [12, 4000, 4000], [12, 1024, 1024], [12, 0, 8], [0, 8, 8], [11, 8, 8], [13, 8, 8], [1 << 30, 8, 8], [-1, 8, 8] })
                Case($"{form} images dims [{string.Join(",", dims)}]", Expect.Error, () => HostileFiles.IdxBytes(dims, pixels), gzip: gzip);
            for (int i = 0; i < 12; i++)
            {
                int length = random.Next(0, images.Length);
                Case($"{form} images truncated to {length}", Expect.Error, () => images[..length], gzip: gzip);
                int labelLength = random.Next(0, labels.Length);
                Case($"{form} labels truncated to {labelLength}", Expect.Error, () => images, () => labels[..labelLength], gzip);
            }
            Case($"{form} trailing byte", Expect.Error, () => [.. images, 0], gzip: gzip);
            foreach (byte label in new byte[] { 10, 200, 255 })
                Case($"{form} label {label}", Expect.Error, () => images, () => { var b = (byte[])labels.Clone(); b[^1] = label; return b; }, gzip);
            for (int i = 0; i < 10; i++)
            {
                int at = 16 + random.Next(pixels.Length);
                Case($"{form} pixel {at}", Expect.Success, () => { var b = (byte[])images.Clone(); b[at] ^= 0x55; return b; }, gzip: gzip);
            }
        }
        // A gzip bomb: a few kilobytes that announce 64 images of 1024×1024 (refused before they are inflated), and a
        // damaged deflate stream.
        harness.Run(new("gzip bomb", eval, Expect.Error, () =>
        {
            foreach (string f in Directory.GetFiles(dir)) File.Delete(f);
            File.WriteAllBytes(imagesPath, HostileFiles.Gzip(HostileFiles.IdxBytes([64, 1024, 1024], new byte[64 << 20])));
            File.WriteAllBytes(labelsPath, HostileFiles.Gzip(HostileFiles.IdxBytes([64], new byte[64])));
        }));
        byte[] gz = HostileFiles.Gzip(images);
        for (int i = 0; i < 30; i++)
        {
            int at = 10 + random.Next(gz.Length - 10);
            harness.Run(new($"deflate flip {at}", eval, Expect.Either, () =>
            {
                var b = (byte[])gz.Clone();
                b[at] ^= (byte)(1 << (at % 8));
                File.WriteAllBytes(imagesPath, b);
                File.WriteAllBytes(labelsPath, HostileFiles.Gzip(labels));
            }, EvaluatedImages(12)));
        }
        harness.Run(new("images fifo", eval, Expect.Error, () => { Write(images, labels); HostileFiles.Fifo(imagesPath); }));
        harness.Run(new("images directory", eval, Expect.Error, () => { Write(images, labels); File.Delete(imagesPath); Directory.CreateDirectory(imagesPath); }));
        Directory.Delete(imagesPath);
        harness.Run(new("no files", eval, Expect.Error, () => { foreach (string f in Directory.GetFiles(dir)) File.Delete(f); }));
        Finish(harness, 250);
    }

    [Test]
    public void PngFolders()
    {
        var harness = new HostileHarness("png", Scratch);
        string mutant = Path.Combine(Scratch, "mutant-folder");
        string target = Path.Combine(mutant, "test", "a", "0.png");
        byte[] good = File.ReadAllBytes(Path.Combine(_folder, "test", "a", "0.png"));
        string[] eval = ["eval", "--model", _model, "--data", mutant];
        void Case(string name, Expect expect, Action change) =>
            harness.Run(new(name, eval, expect, () => { HostileFiles.CopyTree(_folder, mutant); change(); }, EvaluatedImages(8)));
        void Png(string name, Expect expect, Func<byte[]> bytes) => Case(name, expect, () => File.WriteAllBytes(target, bytes()));

        Case("unchanged", Expect.Success, () => { });
        var random = new Random(29);
        for (int i = 0; i < 120; i++)
        {
            int at = random.Next(good.Length);
            byte xor = (byte)(1 << random.Next(8));
            Png($"flip {at}^{xor}", Expect.Error, () => { var b = (byte[])good.Clone(); b[at] ^= xor; return b; }); // every byte is under the signature or a CRC
        }
        for (int i = 0; i < 30; i++)
        {
            int length = random.Next(good.Length);
            Png($"truncated to {length}", Expect.Error, () => good[..length]);
        }
        // Well-formed chunks (CRCs right) that say something else.
        byte[] Gray(int w, int h, byte depth = 8, byte colour = 0, byte interlace = 0, byte[]? raw = null) => PngFiles.File(
            PngFiles.Header(w, h, depth, colour, interlace),
            PngFiles.Chunk("IDAT", PngFiles.Zlib(raw ?? new byte[h * (1 + (w * depth * (colour == 2 ? 3 : colour == 6 ? 4 : 1) + 7) / 8)])),
            PngFiles.Chunk("IEND", []));
        foreach (var (w, h) in new[] { (8, 8), (9, 8), (8, 7), (1, 1), (4096, 4096), (4097, 8), (0, 8), (int.MaxValue, 1) })
            Png($"size {w}x{h}", w == 8 && h == 8 ? Expect.Success : Expect.Error, () => Gray(w, h));
        foreach (var (depth, colour) in new[] { ((byte)16, (byte)0), ((byte)3, (byte)0), ((byte)8, (byte)5), ((byte)8, (byte)7), ((byte)8, (byte)2), ((byte)8, (byte)6), ((byte)1, (byte)0), ((byte)8, (byte)3) })
            Png($"depth {depth} colour {colour}", depth is 1 && colour is 0 ? Expect.Success : Expect.Error, () => Gray(8, 8, depth, colour));
        Png("interlaced", Expect.Error, () => Gray(8, 8, interlace: 1));
        Png("idat too short", Expect.Error, () => Gray(8, 8, raw: new byte[40]));
        Png("idat too long", Expect.Error, () => Gray(8, 8, raw: new byte[100]));
        Png("bad filter byte", Expect.Error, () => Gray(8, 8, raw: Enumerable.Repeat((byte)9, 72).ToArray()));
        Png("no IEND", Expect.Error, () => good[..^12]);
        Png("empty", Expect.Error, () => []);
        Png("not a png", Expect.Error, () => "hello"u8.ToArray());
        Case("extra class", Expect.Error, () => { Directory.CreateDirectory(Path.Combine(mutant, "test", "c")); File.WriteAllBytes(Path.Combine(mutant, "test", "c", "0.png"), good); });
        Case("empty class", Expect.Error, () => Directory.CreateDirectory(Path.Combine(mutant, "test", "c")));
        Case("one class", Expect.Error, () => Directory.Delete(Path.Combine(mutant, "test", "b"), recursive: true));
        Case("no test split", Expect.Error, () => Directory.Delete(Path.Combine(mutant, "test"), recursive: true));
        Case("a colour image", Expect.Error, () => File.WriteAllBytes(target, Gray(8, 8, 8, 2)));
        Case("fifo image", Expect.Error, () => HostileFiles.Fifo(target));
        Case("directory named .png", Expect.Success, () => Directory.CreateDirectory(Path.Combine(mutant, "test", "a", "x.png")));
        Case("other files", Expect.Success, () => File.WriteAllText(Path.Combine(mutant, "test", "a", "notes.txt"), "x"));
        Finish(harness, 180);
    }

    [Test]
    public void CifarData()
    {
        var harness = new HostileHarness("cifar", Scratch);
        string model = Path.Combine(Scratch, "cifar.safetensors"), dir = Path.Combine(Scratch, "cifar");
        HostileFiles.Model(model, Spec with { InChannels = 3, NumClasses = 10 }, HostileFiles.Info("cifar10", 3, 32, 10));
        Directory.CreateDirectory(dir);
        byte[] good = HostileFiles.CifarRecords(6, seed: 3);
        string test = Path.Combine(dir, "test_batch.bin");
        string[] eval = ["eval", "--model", model, "--data", dir];
        void Case(string name, Expect expect, Func<byte[]> bytes) => harness.Run(new(name, eval, expect, () => File.WriteAllBytes(test, bytes()), EvaluatedImages(6)));
        Case("unchanged", Expect.Success, () => good);
        var random = new Random(31);
        for (int i = 0; i < 30; i++)
        {
            int length = random.Next(good.Length);
            Case($"truncated to {length}", length % (1 + Cifar.ImageBytes) == 0 ? Expect.Either : Expect.Error, () => good[..length]);
        }
        foreach (byte label in new byte[] { 10, 99, 255 })
            Case($"label {label}", Expect.Error, () => { var b = (byte[])good.Clone(); b[(1 + Cifar.ImageBytes) * 2] = label; return b; });
        for (int i = 0; i < 20; i++)
        {
            int record = random.Next(6), at = record * (1 + Cifar.ImageBytes) + 1 + random.Next(Cifar.ImageBytes);
            Case($"pixel {at}", Expect.Success, () => { var b = (byte[])good.Clone(); b[at] ^= 0xFF; return b; });
        }
        Case("empty", Expect.Error, () => []);
        Case("trailing bytes", Expect.Error, () => [.. good, 1, 2]);
        harness.Run(new("fifo", eval, Expect.Error, () => HostileFiles.Fifo(test)));
        harness.Run(new("missing", eval, Expect.Error, () => File.Delete(test)));
        Finish(harness, 55);
    }
}
