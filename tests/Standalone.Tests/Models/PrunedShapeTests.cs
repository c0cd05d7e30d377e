// A pruned network survives a save and load: the zoo rebuilds the full architecture, PrunedShape.Fit resizes every
// layer (batch-norm running mean and variance included) to the file's tensors and sets the recorded shortcut padding.
using Standalone.Models.Training;
using Standalone.Models.Zoo;
using Standalone.Tests.Support;

namespace Standalone.Tests.Models;

public sealed class PrunedShapeTests : ScratchDirectoryTest
{
    [Test]
    public void CutResNetLoadsBackWithItsWidthsStatisticsAndPadding()
    {
        var cut = PrunedModels.CutResNet20A();
        string path = Path.Combine(Scratch, "pruned.safetensors");
        Checkpoint.SaveModel(path, cut, PrunedModels.ResNet20ASpec, data: null);

        var loaded = Checkpoint.LoadModel(path);
        var saved = cut.StateDict().ToDictionary(e => e.Name, e => e.Value);
        foreach (var (name, value) in loaded.Model.StateDict())
        {
            Assert.That(value.Shape, Is.EqualTo(saved[name].Shape), name);
            Assert.That(value.ToDoubleArray(), Is.EqualTo(saved[name].ToDoubleArray()), name);
        }
        Assert.That(loaded.Model.StateDict().Single(e => e.Name == "layer2.1.bn1.running_var").Value.Shape, Is.EqualTo(new Shape(16)), "32 channels cut to their 16 odd ones");
        var shortcuts = loaded.Model.NamedModules().Where(m => m.Module is ZeroPadShortcut)
            .ToDictionary(m => m.Name, m => new[] { ((ZeroPadShortcut)m.Module).PadBefore, ((ZeroPadShortcut)m.Module).PadAfter });
        Assert.That(shortcuts, Is.EqualTo(PrunedModels.ShortcutPadding));
    }
}
