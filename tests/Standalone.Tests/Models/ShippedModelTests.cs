// The shipped model (data/models/resnet20-fashion-mnist.safetensors) loads from its own description and reaches
// the accuracy the README states on the 10,000 shipped Fashion-MNIST test images.
using Standalone.Models.Data;
using Standalone.Models.Training;

namespace Standalone.Tests.Models;

[TestFixture]
public sealed class ShippedModelTests
{
    private const double RequiredAccuracy = 0.93;

    [Test]
    public void ResNet20FashionMnistReachesItsAccuracy()
    {
        string path = Path.Combine(Reference.Fixture.RepositoryRoot(), "data", "models", "resnet20-fashion-mnist.safetensors");
        var loaded = Checkpoint.LoadModel(path);
        Assert.That(loaded.Spec.Architecture, Is.EqualTo("resnet20"));
        Assert.That(loaded.Data!.Dataset, Is.EqualTo("fashion-mnist"));
        var test = DataCatalog.Load("fashion-mnist", null, train: false);
        var result = Evaluator.Evaluate(loaded.Model, new DataLoader(test, loaded.Data.EvalLoader(500)));
        Assert.That(result.Images, Is.EqualTo(10_000));
        Assert.That(result.Accuracy, Is.GreaterThanOrEqualTo(RequiredAccuracy));
        TestContext.Out.WriteLine($"shipped ResNet-20: {result.Accuracy:P2}, loss {result.Loss:F4}");
    }
}
