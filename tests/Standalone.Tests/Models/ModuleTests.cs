// Module bookkeeping: PyTorch state-dict names and order, loading with clear errors, batch-norm counters.
using Standalone.Autograd;
using Standalone.Models.Nn;
using Standalone.Models.Zoo;

namespace Standalone.Tests.Models;

public class ModuleTests
{
    [Test]
    public void ResNet20StateDictNamesAndCounts()
    {
        var model = new ResNetCifar(20, 10, inChannels: 1);
        var keys = model.StateDict().Select(e => e.Name).ToList();
        Assert.That(keys[0..6], Is.EqualTo(new[] { "conv1.weight", "bn1.weight", "bn1.bias", "bn1.running_mean", "bn1.running_var", "bn1.num_batches_tracked" }));
        Assert.That(keys, Does.Contain("layer2.0.downsample.0.weight").And.Contain("layer3.0.downsample.1.running_var").And.Contain("fc.bias"));
        Assert.That(keys, Does.Not.Contain("layer1.0.downsample.0.weight"));
        // 9 blocks × 2 convs + stem + 2 downsample convs = 21 convs; each followed by BN (5 entries) → 126, + fc (2) = 128.
        Assert.That(keys, Has.Count.EqualTo(21 + 21 * 5 + 2));
        // docs/formats.md: ResNet-20 with shortcut A at 3 input channels has 269,722 parameters. One input channel removes
        // 16·2·9 = 288 stem weights; shortcut B adds two 1×1 convs (16·32 + 32·64 = 2,560) and their BNs (2·32 + 2·64 = 192).
        Assert.That(model.ParameterCount(), Is.EqualTo(269_722 - 288 + 2_560 + 192));
    }

    [Test]
    public void LoadStateDictReportsMissingUnexpectedAndMisshapedKeys()
    {
        var model = new ResNetCifar(20, 10, inChannels: 1);
        var state = model.StateDict().ToDictionary(e => e.Name, e => e.Value.Clone());
        state.Remove("fc.bias");
        state["extra.weight"] = Tensor.Zeros(new Shape(1));
        var strict = Assert.Throws<ArgumentException>(() => model.LoadStateDict(state))!;
        Assert.That(strict.Message, Does.Contain("missing keys: fc.bias").And.Contain("unexpected keys: extra.weight"));
        var (missing, unexpected) = model.LoadStateDict(state, strict: false);
        Assert.That(missing, Is.EqualTo(new[] { "fc.bias" }));
        Assert.That(unexpected, Is.EqualTo(new[] { "extra.weight" }));
        state["fc.weight"] = Tensor.Zeros(new Shape(3, 64));
        var shape = Assert.Throws<ArgumentException>(() => model.LoadStateDict(state, strict: false))!;
        Assert.That(shape.Message, Does.Contain("fc.weight: checkpoint [3, 64], model [10, 64]"));
    }

    [Test]
    public void BatchNormCountContinuesAfterLoading()
    {
        var bn = new BatchNorm2d(2);
        var state = bn.StateDict().ToDictionary(e => e.Name, e => e.Value.Clone());
        state["num_batches_tracked"] = Tensor.FromArray<long>([5], new Shape());
        bn.LoadStateDict(state);
        bn.Forward(Variable.Constant(Tensor.RandomNormal(new Shape(4, 2, 3, 3), 0, 1, new Rng(1))));
        Assert.That(bn.NumBatchesTracked.Item(), Is.EqualTo(6));
    }
}
