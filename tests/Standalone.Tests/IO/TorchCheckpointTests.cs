// PyTorch checkpoints (.pth, the zip format) read by TorchCheckpoint: the fixtures of data/reference/pth (made by
// data/reference/make_pth_fixtures.py with Debian's PyTorch 1.13) load into the zoo's ResNet-20 and give PyTorch's
// logits — float32, a float16 DataParallel checkpoint under "model", and bfloat16 views with offsets and a
// transposed stride under "state_dict" — while a pickled nn.Module and the legacy format are refused by name.
using Standalone.Autograd;
using Standalone.Models.IO;
using Standalone.Models.Training;
using Standalone.Tests.Reference;

namespace Standalone.Tests.IO;

[TestFixture]
public sealed class TorchCheckpointTests
{
    private const string Script = "data/reference/make_pth_fixtures.py";

    private static string FixturePath(string name) => Path.Combine(Fixture.RepositoryRoot(), "data", "reference", "pth", name);

    [TestCase("resnet20.pth", "logits")]
    [TestCase("resnet20-fp16-dataparallel.pth", "logits_fp16")]
    [TestCase("resnet20-bf16-views.pth", "logits_bf16")]
    public void LoadsAndGivesPyTorchsLogits(string file, string logits)
    {
        using var scope = TensorScope.Begin();
        using var fixture = Fixture.Load(Path.Combine("pth", "pth_logits"), Script);
        var loaded = Checkpoint.LoadModel(FixturePath(file), "resnet20");
        Assert.That(loaded.Spec.InChannels, Is.EqualTo(1));
        Assert.That(loaded.Spec.NumClasses, Is.EqualTo(10));
        Assert.That(loaded.Spec.Shortcut, Is.EqualTo("B"));
        loaded.Model.Eval();
        using var noGrad = Grad.Disabled();
        var output = loaded.Model.Forward(Variable.Constant(fixture["x"])).Data;
        TensorAssert.Close(output, fixture[logits], new Tolerance(1e-4, 1e-4), $"{file}: logits");
    }

    [Test]
    public void ViewsWithOffsetsAndStridesAreReadAsPyTorchSeesThem()
    {
        var plain = TorchCheckpoint.Read(FixturePath("resnet20.pth")).ToDictionary(t => t.Name, t => t.Value);
        var views = TorchCheckpoint.Read(FixturePath("resnet20-bf16-views.pth")).ToDictionary(t => t.Name, t => t.Value);
        Assert.That(views.Keys, Is.EquivalentTo(plain.Keys));
        // fc.weight was stored transposed: the reader must follow its strides back to the [10, 64] layout.
        Assert.That(views["fc.weight"].Shape, Is.EqualTo(plain["fc.weight"].Shape));
        var (a, b) = (views["fc.weight"].ToArray<float>(), plain["fc.weight"].ToArray<float>());
        for (int i = 0; i < a.Length; i++) Assert.That(a[i], Is.EqualTo(b[i]).Within(Math.Abs(b[i]) / 128 + 1e-6), $"fc.weight[{i}] (bfloat16 keeps 8 bits)");
    }

    [Test]
    public void APickledModuleIsRefusedByName()
    {
        var e = Assert.Throws<InvalidDataException>(() => TorchCheckpoint.Read(FixturePath("module.pth")))!;
        Assert.That(e.Message, Does.Contain("torch.nn.modules.container.Sequential").And.Contain("model.state_dict()"));
    }

    [Test]
    public void TheLegacyFormatIsRefusedWithAdvice()
    {
        var e = Assert.Throws<NotSupportedException>(() => TorchCheckpoint.Read(FixturePath("legacy.pth")))!;
        Assert.That(e.Message, Does.Contain("legacy (pre-1.6) format").And.Contain("torch.save(torch.load(PATH), NEW_PATH)"));
    }
}
