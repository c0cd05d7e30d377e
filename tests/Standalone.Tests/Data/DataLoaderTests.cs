// The data loader: exact normalised values without augmentation, centring by PadTo, crops and flips that are each a
// true shift/mirror of the source image, seeded shuffles that are permutations, and batches that depend only on
// (seed, epoch, index) — the same with or without prefetching and when an epoch starts part-way (resume); Prepare
// gives one image exactly as an evaluation batch holds it.
using Standalone.Models.Data;

namespace Standalone.Tests.Data;

[TestFixture]
public sealed class DataLoaderTests
{
    private const float Tolerance = 1e-6f;

    /// <summary>count images of 2×3×4 whose pixel p of image i is (i·13 + p·5) mod 256; label i mod 3.</summary>
    private static ImageDataset Tiny(int count = 10) => new("tiny",
        Enumerable.Range(0, count * 24).Select(k => (byte)((k / 24 * 13 + k % 24 * 5) % 256)).ToArray(),
        Enumerable.Range(0, count).Select(i => i % 3).ToArray(), 2, 3, 4, ["a", "b", "c"]);

    private static List<(float[] Images, long[] Labels, int Count)> Collect(DataLoader loader, int epoch, int skip = 0)
    {
        var batches = new List<(float[], long[], int)>();
        foreach (var b in loader.Epoch(epoch, skip))
        {
            batches.Add((b.Images[..(b.Count * loader.ImageSize)], b.Labels[..b.Count], b.Count));
            loader.Return(b);
        }
        return batches;
    }

    [Test]
    public void PlainBatchesAreTheNormalisedImagesInOrder()
    {
        var data = Tiny();
        var loader = new DataLoader(data, new LoaderOptions { BatchSize = 4, Mean = [0.5f, 0.25f], Std = [0.5f, 2f] });
        var batches = Collect(loader, 0);
        Assert.That(batches.Select(b => b.Count), Is.EqualTo(new[] { 4, 4, 2 }));
        for (int i = 0; i < data.Count; i++)
        {
            var (images, labels, _) = batches[i / 4];
            Assert.That(labels[i % 4], Is.EqualTo(data.Labels[i]));
            for (int p = 0; p < 24; p++)
            {
                int c = p / 12;
                float expected = (data.Image(i)[p] / 255f - (c == 0 ? 0.5f : 0.25f)) / (c == 0 ? 0.5f : 2f);
                Assert.That(images[i % 4 * 24 + p], Is.EqualTo(expected).Within(Tolerance), $"image {i} pixel {p}");
            }
        }
    }

    [Test]
    public void PrepareGivesOneImageAsAnEvaluationBatchHoldsIt()
    {
        // Augmentation options are ignored by Prepare: it is for explaining or scoring one image as evaluated.
        var options = new LoaderOptions { BatchSize = 4, Mean = [0.5f, 0.25f], Std = [0.5f, 2f], PadTo = 5 };
        var batches = Collect(new DataLoader(Tiny(), options), 0);
        var loader = new DataLoader(Tiny(), options with { CropPadding = 2, HorizontalFlip = true, Shuffle = true });
        for (int i = 0; i < 10; i++)
            Assert.That(loader.Prepare(i), Is.EqualTo(batches[i / 4].Images[(i % 4 * loader.ImageSize)..((i % 4 + 1) * loader.ImageSize)]), $"image {i}");
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => loader.Prepare(10))!;
        Assert.That(error.Message, Does.Contain("data set 'tiny': image 10 is outside its 10 images (0–9)"));
    }

    [Test]
    public void DropLastLeavesOffThePartialBatch()
    {
        var loader = new DataLoader(Tiny(), new LoaderOptions { BatchSize = 4, DropLast = true });
        Assert.That(loader.BatchesPerEpoch, Is.EqualTo(2));
        Assert.That(Collect(loader, 0).Count, Is.EqualTo(2));
    }

    [Test]
    public void PadToCentresTheImageOnZeros()
    {
        var data = Tiny(1);
        var loader = new DataLoader(data, new LoaderOptions { BatchSize = 1, PadTo = 6 });
        Assert.That((loader.Height, loader.Width), Is.EqualTo((6, 6)));
        var image = Collect(loader, 0)[0].Images;
        // 3×4 centred on 6×6: rows 1..3, columns 1..4.
        for (int c = 0; c < 2; c++)
            for (int y = 0; y < 6; y++)
                for (int x = 0; x < 6; x++)
                {
                    bool inside = y is >= 1 and <= 3 && x is >= 1 and <= 4;
                    float expected = inside ? data.Image(0)[c * 12 + (y - 1) * 4 + (x - 1)] / 255f : 0f;
                    Assert.That(image[c * 36 + y * 6 + x], Is.EqualTo(expected).Within(Tolerance), $"c{c} y{y} x{x}");
                }
    }

    [Test]
    public void ShuffleIsASeededPermutationThatChangesPerEpoch()
    {
        var options = new LoaderOptions { BatchSize = 4, Shuffle = true, Seed = 7 };
        var loader = new DataLoader(Tiny(50), options);
        var order0 = loader.Order(0);
        Assert.That(order0.OrderBy(i => i), Is.EqualTo(Enumerable.Range(0, 50)));
        Assert.That(order0, Is.Not.EqualTo(Enumerable.Range(0, 50)));
        Assert.That(loader.Order(1), Is.Not.EqualTo(order0));
        Assert.That(new DataLoader(Tiny(50), options).Order(0), Is.EqualTo(order0));
        Assert.That(new DataLoader(Tiny(50), options with { Seed = 8 }).Order(0), Is.Not.EqualTo(order0));
    }

    [Test]
    public void EveryCropAndFlipIsAShiftOrMirrorOfItsSource()
    {
        var data = Tiny(40);
        var loader = new DataLoader(data, new LoaderOptions { BatchSize = 8, Shuffle = true, Seed = 3, CropPadding = 1, HorizontalFlip = true });
        var order = loader.Order(2);
        var batches = Collect(loader, 2);
        var seen = new HashSet<(int, int, bool)>();
        for (int position = 0; position < data.Count; position++)
        {
            var image = batches[position / 8].Images.AsSpan(position % 8 * 24, 24).ToArray();
            var source = data.Image(order[position]).ToArray();
            var match = Candidates().Where(t => Matches(source, image, t.Dy, t.Dx, t.Flip)).ToList();
            Assert.That(match, Is.Not.Empty, $"position {position}: no shift/flip of image {order[position]} gives the output");
            seen.Add(match[0]);
        }
        // 40 draws from 18 (dy, dx, flip) choices: many distinct ones, flips included.
        Assert.That(seen.Count, Is.GreaterThan(8));
        Assert.That(seen.Any(s => s.Item3) && seen.Any(s => !s.Item3));

        static IEnumerable<(int Dy, int Dx, bool Flip)> Candidates() =>
            from dy in new[] { -1, 0, 1 } from dx in new[] { -1, 0, 1 } from flip in new[] { false, true } select (dy, dx, flip);

        static bool Matches(byte[] source, float[] image, int dy, int dx, bool flip)
        {
            for (int c = 0; c < 2; c++)
                for (int y = 0; y < 3; y++)
                    for (int x = 0; x < 4; x++)
                    {
                        int sy = y + dy, sx = (flip ? 3 - x : x) + dx;
                        float expected = sy is >= 0 and < 3 && sx is >= 0 and < 4 ? source[c * 12 + sy * 4 + sx] / 255f : 0f;
                        if (Math.Abs(image[c * 12 + y * 4 + x] - expected) > Tolerance) return false;
                    }
            return true;
        }
    }

    [Test]
    public void BatchesDependOnlyOnSeedEpochAndIndex()
    {
        var options = new LoaderOptions { BatchSize = 6, Shuffle = true, Seed = 11, CropPadding = 2, HorizontalFlip = true, Prefetch = 3 };
        var full = Collect(new DataLoader(Tiny(40), options), 5);
        var again = Collect(new DataLoader(Tiny(40), options with { Prefetch = 1 }), 5);
        var tail = Collect(new DataLoader(Tiny(40), options), 5, skip: 4);
        Assert.That(again.Select(b => b.Images), Is.EqualTo(full.Select(b => b.Images)));
        Assert.That(tail.Select(b => b.Images), Is.EqualTo(full.Skip(4).Select(b => b.Images)));
        Assert.That(tail.Select(b => b.Labels), Is.EqualTo(full.Skip(4).Select(b => b.Labels)));
    }

    [Test]
    public void LeavingAnEpochEarlyStopsItsProducer()
    {
        var loader = new DataLoader(Tiny(40), new LoaderOptions { BatchSize = 2 });
        foreach (var b in loader.Epoch(0))
        {
            loader.Return(b);
            break;
        }
        // A second pass starts from the beginning again.
        Assert.That(Collect(loader, 0).Count, Is.EqualTo(20));
    }

    [Test]
    public void BadOptionsAreNamed()
    {
        Assert.That(() => new DataLoader(Tiny(), new LoaderOptions { BatchSize = 0 }), Throws.ArgumentException.With.Message.Contains("batch size"));
        Assert.That(() => new DataLoader(Tiny(), new LoaderOptions { Mean = [0f], Std = [1f] }),
            Throws.ArgumentException.With.Message.Contains("1 means and 1 standard deviations given for 2-channel images"));
        Assert.That(() => new DataLoader(Tiny(), new LoaderOptions { Mean = [0f, 0f], Std = [1f, 0f] }),
            Throws.ArgumentException.With.Message.Contains("channel 1 must be positive"));
    }
}
