// State-dict keys and shapes, in order, against torchvision's (data/reference/torchvision_keys.json, written by
// data/reference/make_torchvision_keys.py): a checkpoint saved by torchvision loads here key for key, and back.
// Also the parameter counts the script printed (docs/formats.md: resnet18 11,689,512, vgg16_bn 138,365,992).
using System.Text.Json;
using Standalone.Models.Nn;
using Standalone.Models.Zoo;
using Standalone.Tests.Reference;

namespace Standalone.Tests.Models;

public class TorchvisionKeysTests
{
    private const string Script = "data/reference/make_torchvision_keys.py";

    private static List<(string Key, int[] Shape)> Reference(string model)
    {
        string path = Path.Combine(Fixture.RepositoryRoot(), "data", "reference", "torchvision_keys.json");
        if (!File.Exists(path)) Assert.Fail($"{path} is missing: run /usr/bin/python3 {Script}");
        using var json = JsonDocument.Parse(File.ReadAllText(path));
        if (!json.RootElement.TryGetProperty(model, out var entries)) Assert.Fail($"{path} has no '{model}': run /usr/bin/python3 {Script}");
        return entries.EnumerateArray()
            .Select(e => (e[0].GetString()!, e[1].EnumerateArray().Select(d => d.GetInt32()).ToArray()))
            .ToList();
    }

    private static void AssertSameKeys(Module model, string reference, long parameters)
    {
        Assert.That(model.ParameterCount(), Is.EqualTo(parameters), reference);
        var expected = Reference(reference);
        var actual = model.StateDict().Select(e => (e.Name, e.Value.Shape.ToArray())).ToList();
        var firstDifference = Enumerable.Range(0, Math.Min(expected.Count, actual.Count))
            .FirstOrDefault(i => expected[i].Key != actual[i].Name || !expected[i].Shape.SequenceEqual(actual[i].Item2), -1);
        Assert.That(firstDifference, Is.EqualTo(-1), () =>
            $"{reference}: entry {firstDifference} is {actual[firstDifference].Name} [{string.Join(", ", actual[firstDifference].Item2)}], torchvision has {expected[firstDifference].Key} [{string.Join(", ", expected[firstDifference].Shape)}]");
        Assert.That(actual, Has.Count.EqualTo(expected.Count), reference);
    }

    [Test]
    public void ResNet18() => AssertSameKeys(new ResNetImageNet(18), "resnet18", 11_689_512);

    [Test]
    public void ResNet50() => AssertSameKeys(new ResNetImageNet(50), "resnet50", 25_557_032);

    [Test]
    public void Vgg16Bn() => AssertSameKeys(new Vgg(16, numClasses: 1000, head: VggHead.ImageNet), "vgg16_bn", 138_365_992);
}
