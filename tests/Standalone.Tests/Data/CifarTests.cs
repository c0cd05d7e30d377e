// The CIFAR binary readers on tiny hand-made files: labels and pixels come back in file order (CIFAR-10's five
// training batches one after another, CIFAR-100's fine label rather than the coarse one), the parent folder of
// cifar-10-batches-bin is accepted, and truncated files, missing files and out-of-range labels are rejected with
// messages naming the file and offset.
using Standalone.Models.Data;
using Standalone.Tests.Support;

namespace Standalone.Tests.Data;

[TestFixture]
public sealed class CifarTests : ScratchDirectoryTest
{
    /// <summary>A recognisable image for record number <paramref name="index"/>: byte p is (index·31 + p) mod 256.</summary>
    private static byte[] Pixels(int index) => Enumerable.Range(0, Cifar.ImageBytes).Select(p => (byte)(index * 31 + p)).ToArray();

    /// <summary>Writes records of (label bytes, pixels) and returns the file's path.</summary>
    private static string WriteRecords(string folder, string name, IEnumerable<(byte[] Labels, int Index)> records)
    {
        Directory.CreateDirectory(folder);
        string path = Path.Combine(folder, name);
        File.WriteAllBytes(path, records.SelectMany(r => r.Labels.Concat(Pixels(r.Index))).ToArray());
        return path;
    }

    private static void WriteCifar10(string folder)
    {
        // Batch b holds images 2b-2 and 2b-1 with labels (index mod 10); the test batch holds images 100..102.
        for (int b = 1; b <= 5; b++)
            WriteRecords(folder, $"data_batch_{b}.bin", new[] { 2 * b - 2, 2 * b - 1 }.Select(i => (new[] { (byte)(i % 10) }, i)));
        WriteRecords(folder, "test_batch.bin", new[] { 100, 101, 102 }.Select(i => (new[] { (byte)(9 - i % 10) }, i)));
    }

    [Test]
    public void Cifar10TrainAndTestRoundTripLabelsAndPixels()
    {
        WriteCifar10(Scratch);

        var train = Cifar.Load(Scratch, train: true, variant: 10);
        var test = Cifar.Load(Scratch, train: false, variant: 10);

        Assert.That((train.Channels, train.Height, train.Width), Is.EqualTo((3, 32, 32)));
        Assert.That(train.Labels, Is.EqualTo(Enumerable.Range(0, 10).ToArray()));
        for (int i = 0; i < 10; i++) Assert.That(train.Image(i).ToArray(), Is.EqualTo(Pixels(i)), $"train image {i}");
        Assert.That(test.Labels, Is.EqualTo(new[] { 9, 8, 7 }));
        Assert.That(test.Image(2).ToArray(), Is.EqualTo(Pixels(102)));
        Assert.That(train.Classes, Is.EqualTo(new[] { "airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck" }));
    }

    [Test]
    public void Cifar10IsFoundInsideItsArchiveFolder()
    {
        WriteCifar10(Path.Combine(Scratch, "cifar-10-batches-bin"));
        Assert.That(Cifar.Load(Scratch, train: false, variant: 10).Count, Is.EqualTo(3));
    }

    [Test]
    public void Cifar100UsesTheFineLabelAndOptionalClassNames()
    {
        string folder = Path.Combine(Scratch, "cifar-100-binary");
        // (coarse, fine) pairs whose coarse label would give different answers.
        WriteRecords(folder, "train.bin", [([19, 99], 0), ([0, 42], 1), ([5, 0], 2)]);
        WriteRecords(folder, "test.bin", [([3, 7], 3)]);

        var train = Cifar.Load(Scratch, train: true, variant: 100);
        Assert.That(train.Labels, Is.EqualTo(new[] { 99, 42, 0 }));
        Assert.That(train.Image(1).ToArray(), Is.EqualTo(Pixels(1)));
        Assert.That(train.Classes, Has.Count.EqualTo(100));
        Assert.That(train.Classes[42], Is.EqualTo("class42"));

        File.WriteAllLines(Path.Combine(folder, "fine_label_names.txt"), Enumerable.Range(0, 100).Select(i => $"name{i}").Append(""));
        var test = Cifar.Load(folder, train: false, variant: 100);
        Assert.That(test.Labels, Is.EqualTo(new[] { 7 }));
        Assert.That(test.Classes[7], Is.EqualTo("name7"));
    }

    [Test]
    public void TruncatedFileNamesTheFileTheLastWholeRecordAndTheRecordSize()
    {
        string path = WriteRecords(Scratch, "test_batch.bin", [([1], 0), ([2], 1)]);
        File.AppendAllText(path, new string('x', 100));

        var error = Assert.Throws<InvalidDataException>(() => Cifar.Load(Scratch, train: false, variant: 10))!;

        // Two records of 1 + 3,072 bytes end at byte 6,146; 100 bytes follow.
        Assert.That(error.Message, Does.Contain(path));
        Assert.That(error.Message, Does.Contain("3073-byte records"));
        Assert.That(error.Message, Does.Contain("last whole record ends at byte 6146"));
        Assert.That(error.Message, Does.Contain("100 bytes follow"));
    }

    [Test]
    public void MissingFilesAreListed()
    {
        WriteRecords(Scratch, "data_batch_1.bin", [([1], 0)]);
        WriteRecords(Scratch, "data_batch_2.bin", [([1], 0)]);

        var error = Assert.Throws<FileNotFoundException>(() => Cifar.Load(Scratch, train: true, variant: 10))!;

        Assert.That(error.Message, Does.Contain("expected data_batch_1.bin, data_batch_2.bin, data_batch_3.bin, data_batch_4.bin, data_batch_5.bin"));
        Assert.That(error.Message, Does.Contain($"missing from '{Scratch}': data_batch_3.bin, data_batch_4.bin, data_batch_5.bin"));
    }

    [Test]
    public void LabelOutsideTheClassesIsRejectedAtItsOffset()
    {
        string path = WriteRecords(Scratch, "test.bin", [([0, 1], 0), ([0, 100], 1)]);
        var error = Assert.Throws<InvalidDataException>(() => Cifar.Load(Scratch, train: false, variant: 100))!;
        // The second record starts at 3,074; its fine label is its second byte.
        Assert.That(error.Message, Does.Contain(path).And.Contain("at byte 3075").And.Contain("label below 100, found 100"));
    }

    [Test]
    public void OnlyVariantsTenAndHundredExist() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => Cifar.Load(Scratch, train: true, variant: 20));
}
