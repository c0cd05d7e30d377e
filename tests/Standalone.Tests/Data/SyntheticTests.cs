// The synthetic set: the same seed gives the same bytes, another seed other bytes, labels are balanced, and it is
// learnable — a nearest-class-mean classifier fitted on one half labels the other half almost perfectly.
using Standalone.Models.Data;

namespace Standalone.Tests.Data;

[TestFixture]
public sealed class SyntheticTests
{
    // Class patterns differ by ~55 levels a pixel against noise of standard deviation 32, averaged over 192 pixels:
    // nearest-mean errors should be practically absent, and 95 % leaves ample room.
    private const double MinimumNearestMeanAccuracy = 0.95;

    [Test]
    public void SameSeedGivesTheSameSetAndAnotherSeedAnother()
    {
        var first = Synthetic.Create(50, 3, 8, 6, 5, seed: 7);
        var again = Synthetic.Create(50, 3, 8, 6, 5, seed: 7);
        var other = Synthetic.Create(50, 3, 8, 6, 5, seed: 8);

        Assert.That(again.Pixels, Is.EqualTo(first.Pixels));
        Assert.That(again.Labels, Is.EqualTo(first.Labels));
        Assert.That(other.Pixels, Is.Not.EqualTo(first.Pixels));
        Assert.That((first.Count, first.Channels, first.Height, first.Width, first.Classes.Count), Is.EqualTo((50, 3, 8, 6, 5)));
    }

    [Test]
    public void LabelsAreBalancedAndShuffled()
    {
        var set = Synthetic.Create(103, 1, 4, 4, 10, seed: 1);
        var counts = set.Labels.GroupBy(l => l).ToDictionary(g => g.Key, g => g.Count());
        Assert.That(counts.Keys, Is.EquivalentTo(Enumerable.Range(0, 10)));
        Assert.That(counts.Values, Has.All.InRange(10, 11));
        Assert.That(set.Labels, Is.Not.EqualTo(Enumerable.Range(0, 103).Select(i => i % 10).ToArray()), "labels are not left in round-robin order");
    }

    [Test]
    public void NearestClassMeanLearnsTheSet()
    {
        const int classes = 4;
        var set = Synthetic.Create(400, 3, 8, 8, classes, seed: 3);
        int half = set.Count / 2, size = set.ImageSize;
        var means = new double[classes, size];
        var counts = new int[classes];
        for (int i = 0; i < half; i++)
        {
            counts[set.Labels[i]]++;
            for (int p = 0; p < size; p++) means[set.Labels[i], p] += set.Image(i)[p];
        }
        int correct = 0;
        for (int i = half; i < set.Count; i++)
        {
            int best = -1;
            double bestDistance = double.MaxValue;
            for (int k = 0; k < classes; k++)
            {
                double distance = 0;
                for (int p = 0; p < size; p++)
                {
                    double d = set.Image(i)[p] - means[k, p] / counts[k];
                    distance += d * d;
                }
                if (distance < bestDistance) (best, bestDistance) = (k, distance);
            }
            if (best == set.Labels[i]) correct++;
        }
        Assert.That(correct / (double)(set.Count - half), Is.GreaterThanOrEqualTo(MinimumNearestMeanAccuracy));
    }
}
