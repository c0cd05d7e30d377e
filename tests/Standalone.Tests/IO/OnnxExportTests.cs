// ONNX export, read back with the tests' own protobuf decoder (OnnxFile.cs): the wire encoding against the protobuf
// documentation's examples; the model header (IR 7, opset 13, producer); input/output names and dims; the op
// sequence of ResNet-20 (shortcut A and B) and VGG-11 derived by hand from the architectures; initializers that
// equal the state dict byte for byte; the attributes of strided convs, batch norm, pooling, Slice and Pad; a pruned
// network's widths and uneven shortcut padding; dropout left out in evaluation; a clear error for an op ONNX lacks.
using System.Buffers.Binary;
using Standalone.Autograd;
using Standalone.Models.IO.Onnx;
using Standalone.Models.Nn;
using Standalone.Models.Zoo;
using Standalone.Tests.Support;

namespace Standalone.Tests.IO;

public sealed class OnnxExportTests : ScratchDirectoryTest
{
    // AttributeProto.type values (onnx.proto).
    private const long AttributeFloat = 1, AttributeInt = 2, AttributeString = 3, AttributeInts = 7;
    // TensorProto.DataType values.
    private const long Float = 1, Int64 = 7;

    [Test]
    public void ProtoMessageEncodesAsTheProtobufDocumentationSays()
    {
        // protobuf.dev/programming-guides/encoding: field 1 = 150 is 08 96 01 (tag 1<<3|0; 150 = 0b1_0010110 → 96 01);
        // field 2 = "testing" is 12 07 + the bytes (tag 2<<3|2, length 7).
        Assert.That(new ProtoMessage().Varint(1, 150).ToArray(), Is.EqualTo(new byte[] { 0x08, 0x96, 0x01 }));
        Assert.That(new ProtoMessage().String(2, "testing").ToArray(), Is.EqualTo(new byte[] { 0x12, 0x07, 0x74, 0x65, 0x73, 0x74, 0x69, 0x6e, 0x67 }));
        // A negative int64 is its two's complement as a 64-bit varint: nine 0xFF bytes and a final 0x01.
        Assert.That(new ProtoMessage().Varint(3, -1).ToArray(), Is.EqualTo(new byte[] { 0x18, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01 }));
        // float 1.0 = 0x3F800000, little-endian after tag 2<<3|5 = 0x15.
        Assert.That(new ProtoMessage().Float(2, 1f).ToArray(), Is.EqualTo(new byte[] { 0x15, 0x00, 0x00, 0x80, 0x3F }));
        // A nested message is length-delimited: field 3 holding {1: 150} is 1A 03 08 96 01.
        var outer = new ProtoMessage().Message(3, new ProtoMessage().Varint(1, 150));
        Assert.That(outer.ToArray(), Is.EqualTo(new byte[] { 0x1A, 0x03, 0x08, 0x96, 0x01 }));
        Assert.That(outer.Size, Is.EqualTo(5));
        // Field 20 (AttributeProto.type) needs a two-byte tag: 20<<3|0 = 160 → A0 01.
        Assert.That(new ProtoMessage().Varint(20, 7).ToArray(), Is.EqualTo(new byte[] { 0xA0, 0x01, 0x07 }));
    }

    [Test]
    public void ResNet20ShortcutBIsTheHandDerivedGraph()
    {
        var model = Randomized(ModelZoo.Create(new ModelSpec { Architecture = "resnet20", InChannels = 1, Shortcut = "B" }));
        var (onnx, export) = Export(model, 1, 28, 28);

        Assert.That((onnx.IrVersion, onnx.Producer, onnx.GraphName), Is.EqualTo((7L, "standalone", "ResNetCifar")));
        Assert.That(onnx.Opsets, Is.EqualTo(new[] { ("", 13L) }));
        Assert.That(Describe(onnx.Inputs.Single()), Is.EqualTo("input float [batch, 1, 28, 28]"));
        Assert.That(Describe(onnx.Outputs.Single()), Is.EqualTo("logits float [batch, 10]"));
        Assert.That(onnx.Nodes.Select(n => n.OpType), Is.EqualTo(ResNet20Ops("B")));
        Assert.That(Counts(onnx), Is.EqualTo("Conv 21, BatchNormalization 21, Relu 19, Add 9, GlobalAveragePool 1, Flatten 1, Gemm 1"),
            "19 convs + 2 projections, each with its BN; ReLU after the stem and twice per block (9 blocks); one add per block");
        Assert.That((export.Nodes, export.OpSummary), Is.EqualTo((73, Counts(onnx))));
        Assert.That(onnx.Nodes[^1].Outputs, Is.EqualTo(new[] { "logits" }));
        AssertInitializersAreTheStateDict(onnx, model);
        AssertWellFormed(onnx);

        // The stride-2 conv opening stage 2, and its 1×1 stride-2 projection.
        var conv = onnx.Node("layer2.0.conv1");
        var blockInput = onnx.Nodes[Array.IndexOf(onnx.Nodes, conv) - 1];
        Assert.That((blockInput.OpType, conv.Inputs), Is.EqualTo(("Relu", new[] { blockInput.Outputs[0], "layer2.0.conv1.weight" })),
            "the block input (the ReLU closing stage 1) and the weight; no bias");
        Assert.That((conv.Ints("kernel_shape"), conv.Ints("strides"), conv.Ints("pads"), conv.Ints("dilations")),
            Is.EqualTo((new long[] { 3, 3 }, new long[] { 2, 2 }, new long[] { 1, 1, 1, 1 }, new long[] { 1, 1 })));
        Assert.That((conv.Attributes["group"].I, conv.Attributes["group"].Type, conv.Attributes["strides"].Type), Is.EqualTo((1L, AttributeInt, AttributeInts)));
        var projection = onnx.Node("layer2.0.downsample.0");
        Assert.That((projection.Ints("kernel_shape"), projection.Ints("strides"), projection.Ints("pads")),
            Is.EqualTo((new long[] { 1, 1 }, new long[] { 2, 2 }, new long[] { 0, 0, 0, 0 })));

        var bn = onnx.Node("bn1");
        Assert.That(bn.Inputs, Is.EqualTo(new[] { "conv1", "bn1.weight", "bn1.bias", "bn1.running_mean", "bn1.running_var" }));
        Assert.That((bn.Attributes["epsilon"].F, bn.Attributes["epsilon"].Type), Is.EqualTo((1e-5f, AttributeFloat)));
        var fc = onnx.Node("fc");
        Assert.That((fc.Inputs, fc.Attributes["transB"].I), Is.EqualTo((new[] { onnx.Nodes[^2].Name, "fc.weight", "fc.bias" }, 1L)));
        Assert.That(onnx.Nodes[^2].Attributes["axis"].I, Is.EqualTo(1), "Flatten(axis 1): [N, 64, 1, 1] → [N, 64]");
    }

    [Test]
    public void ResNet20ShortcutASlicesAndPadsChannels()
    {
        var model = Randomized(ModelZoo.Create(new ModelSpec { Architecture = "resnet20", InChannels = 3, Shortcut = "A" }));
        var (onnx, _) = Export(model, 3, 32, 32);

        Assert.That(onnx.Nodes.Select(n => n.OpType), Is.EqualTo(ResNet20Ops("A")));
        Assert.That(Counts(onnx), Is.EqualTo("Conv 19, BatchNormalization 19, Relu 19, Add 9, Slice 4, Pad 2, GlobalAveragePool 1, Flatten 1, Gemm 1"),
            "no projections: each of the two transitions slices rows and columns (x[:, :, ::2, ::2]) and pads channels");
        AssertInitializersAreTheStateDict(onnx, model);
        AssertWellFormed(onnx);

        // Stage 2 starts on 32×32 maps: ::2 keeps rows 0, 2, ..., 30, so end = 30 + 1; stage 3 on 16×16 maps: end 15.
        var slices = onnx.Nodes.Where(n => n.OpType == "Slice").Select(n => n.Inputs[1..].Select(i => onnx.Initializer(i).Int64s().Single()).ToArray()).ToArray();
        Assert.That(slices, Is.EqualTo(new[] { new long[] { 0, 31, 2, 2 }, [0, 31, 3, 2], [0, 15, 2, 2], [0, 15, 3, 2] }), "starts, ends, axes, steps");
        // planes/4 zero channels on each side of axis 1: 16 + 8 + 8 = 32, then 32 + 16 + 16 = 64.
        Assert.That(PadsOf(onnx), Is.EqualTo(new[] { new long[] { 0, 8, 0, 0, 0, 8, 0, 0 }, [0, 16, 0, 0, 0, 16, 0, 0] }));
        var pad = onnx.Nodes.First(n => n.OpType == "Pad");
        Assert.That((pad.Attributes["mode"].S, pad.Attributes["mode"].Type, pad.Inputs.Length), Is.EqualTo(("constant", AttributeString, 2)),
            "zero padding needs no constant_value input");
        Assert.That(onnx.Initializer(pad.Inputs[1]).DataType, Is.EqualTo(Int64));
    }

    [Test]
    public void Vgg11CifarIsConvBnReluBlocksAndPools()
    {
        // Width ×0.25 keeps the file small; the layer sequence does not depend on it.
        var model = Randomized(ModelZoo.Create(new ModelSpec { Architecture = "vgg11", InChannels = 3, Head = "cifar", WidthMultiplier = 0.25 }));
        var (onnx, _) = Export(model, 3, 32, 32);

        string[] block = ["Conv", "BatchNormalization", "Relu"];
        // vgg11: 64, M, 128, M, 256, 256, M, 512, 512, M, 512, 512, M; then flatten the 1×1 map and one Linear.
        string[] expected = [.. block, "MaxPool", .. block, "MaxPool", .. block, .. block, "MaxPool", .. block, .. block, "MaxPool",
            .. block, .. block, "MaxPool", "Flatten", "Gemm"];
        Assert.That(onnx.Nodes.Select(n => n.OpType), Is.EqualTo(expected));
        Assert.That(Counts(onnx), Is.EqualTo("Conv 8, BatchNormalization 8, Relu 8, MaxPool 5, Flatten 1, Gemm 1"));
        Assert.That(Describe(onnx.Outputs.Single()), Is.EqualTo("logits float [batch, 10]"));
        AssertInitializersAreTheStateDict(onnx, model);
        AssertWellFormed(onnx);
        Assert.That(onnx.Node("features.0").Inputs, Is.EqualTo(new[] { "input", "features.0.weight", "features.0.bias" }), "VGG convs have a bias");
        var pool = onnx.Nodes.First(n => n.OpType == "MaxPool");
        Assert.That((pool.Ints("kernel_shape"), pool.Ints("strides"), pool.Ints("pads")), Is.EqualTo((new long[] { 2, 2 }, new long[] { 2, 2 }, new long[] { 0, 0, 0, 0 })));
    }

    [Test]
    public void PrunedResNetIsExportedAtItsWidthsAndPadding()
    {
        var model = Randomized(PrunedModels.CutResNet20A());
        var (onnx, export) = Export(model, 1, 28, 28);

        Assert.That(onnx.Initializer("layer1.0.conv1.weight").Dims, Is.EqualTo(new long[] { 8, 16, 3, 3 }));
        Assert.That(onnx.Initializer("layer3.2.conv2.weight").Dims, Is.EqualTo(new long[] { 64, 32, 3, 3 }));
        AssertInitializersAreTheStateDict(onnx, model);
        AssertWellFormed(onnx);
        Assert.That(PadsOf(onnx), Is.EqualTo(new[] { new long[] { 0, 6, 0, 0, 0, 10, 0, 0 }, [0, 12, 0, 0, 0, 20, 0, 0] }), "PrunedModels.ShortcutPadding");
        Assert.That(export.OutputDims, Is.EqualTo(new[] { 10 }));
    }

    [Test]
    public void DropoutIsLeftOutAndTheModeIsRestored()
    {
        var model = new Sequential(new Flatten(), new Linear(4, 8, new Rng(1)), new Dropout(0.5, new Rng(2)), new ReLU(), new Linear(8, 3, new Rng(3)));
        Assert.That(model.Training, Is.True);
        var (onnx, _) = Export(model, 1, 2, 2);
        Assert.That(onnx.Nodes.Select(n => n.OpType), Is.EqualTo(new[] { "Flatten", "Gemm", "Relu", "Gemm" }), "dropout is the identity in evaluation");
        Assert.That(onnx.Node("4").Inputs, Is.EqualTo(new[] { onnx.Nodes[2].Name, "4.weight", "4.bias" }));
        Assert.That(model.Training, Is.True, "export records in evaluation mode, then restores the model's mode");
    }

    [Test]
    public void ScaleWithShiftBecomesMulThenAdd()
    {
        var (onnx, _) = Export(new ScaledHead(), 1, 2, 2);
        Assert.That(onnx.Nodes.Select(n => n.OpType), Is.EqualTo(new[] { "Flatten", "Gemm", "Mul", "Add", "Tanh" }));
        var mul = onnx.Nodes[2];
        var add = onnx.Nodes[3];
        Assert.That(add.Inputs[0], Is.EqualTo(mul.Outputs[0]));
        Assert.That((FloatsOf(onnx.Initializer(mul.Inputs[1])), FloatsOf(onnx.Initializer(add.Inputs[1]))), Is.EqualTo((new[] { 2f }, new[] { 0.5f })), "y = 2x + 0.5");
        Assert.That(onnx.Initializer(mul.Inputs[1]).Dims, Is.Empty, "a scalar");
    }

    [Test]
    public void AnOpOnnxLacksIsNamedWithWhereItSits()
    {
        string path = Path.Combine(Scratch, "model.onnx");
        var error = Assert.Throws<NotSupportedException>(() => OnnxExporter.Export(new LogSoftmaxHead(), 1, 2, 2, path))!;
        Assert.That(error.Message, Does.StartWith("ONNX export: the 'log_softmax' op (tape node 2 of 3, fed by fc) has no ONNX form"));
        Assert.That(error.Message, Does.Contain("the exporter writes conv2d, linear, batch_norm"));
        Assert.That(Directory.GetFiles(Scratch), Is.Empty, "nothing written, not even a temporary file");
    }

    [Test]
    public void BadInputSizesAreRejected()
    {
        var model = ModelZoo.Create(new ModelSpec { Architecture = "resnet20", InChannels = 1 });
        var error = Assert.Throws<ArgumentException>(() => OnnxExporter.Export(model, 1, 0, 28, Path.Combine(Scratch, "m.onnx")))!;
        Assert.That(error.Message, Is.EqualTo("ONNX export: the input size must be positive C×H×W, got 1×0×28"));
    }

    // ---- helpers ------------------------------------------------------------------------------------------------

    private (OnnxModel Onnx, OnnxExport Export) Export(Module model, int channels, int height, int width)
    {
        string path = Path.Combine(Scratch, "model.onnx");
        var export = OnnxExporter.Export(model, channels, height, width, path);
        Assert.That(export.Bytes, Is.EqualTo(new FileInfo(path).Length));
        return (OnnxModel.Read(path), export);
    }

    /// <summary>
    /// The CIFAR ResNet-20 in forward order: stem conv-BN-ReLU; per block conv-BN-ReLU-conv-BN, the shortcut of the
    /// first block of stages 2 and 3 (B: projection conv-BN; A: slice rows, slice columns, pad channels), add, ReLU;
    /// then global average pool, flatten, fc. (The add's first input, the residual branch, is traced first.)
    /// </summary>
    private static List<string> ResNet20Ops(string shortcut)
    {
        var ops = new List<string> { "Conv", "BatchNormalization", "Relu" };
        for (int stage = 0; stage < 3; stage++)
            for (int block = 0; block < 3; block++)
            {
                ops.AddRange(["Conv", "BatchNormalization", "Relu", "Conv", "BatchNormalization"]);
                if (stage > 0 && block == 0) ops.AddRange(shortcut == "B" ? ["Conv", "BatchNormalization"] : ["Slice", "Slice", "Pad"]);
                ops.AddRange(["Add", "Relu"]);
            }
        ops.AddRange(["GlobalAveragePool", "Flatten", "Gemm"]);
        return ops;
    }

    private static string Counts(OnnxModel onnx) =>
        string.Join(", ", onnx.Nodes.GroupBy(n => n.OpType).Select(g => $"{g.Key} {g.Count()}"));

    private static long[][] PadsOf(OnnxModel onnx) =>
        onnx.Nodes.Where(n => n.OpType == "Pad").Select(n => onnx.Initializer(n.Inputs[1]).Int64s()).ToArray();

    private static float[] FloatsOf(OnnxTensor t) =>
        Enumerable.Range(0, t.RawData.Length / 4).Select(i => BinaryPrimitives.ReadSingleLittleEndian(t.RawData.AsSpan(4 * i))).ToArray();

    /// <summary>
    /// Every float32 entry of the state dict (parameters and batch-norm statistics; not the int64
    /// num_batches_tracked) is one FLOAT initializer of the same name, dims and little-endian bytes; every other
    /// initializer is an int64 operand of a Slice, Pad or Reshape named after its node.
    /// </summary>
    private static void AssertInitializersAreTheStateDict(OnnxModel onnx, Module model)
    {
        var state = model.StateDict().Where(e => e.Value.DType == DType.Float32).ToDictionary(e => e.Name, e => e.Value);
        Assert.That(onnx.Initializers.Select(t => t.Name).Where(state.ContainsKey), Is.EquivalentTo(state.Keys));
        foreach (var t in onnx.Initializers)
        {
            if (!state.TryGetValue(t.Name, out var value))
            {
                Assert.That(t.DataType, Is.EqualTo(Int64), t.Name);
                Assert.That(t.Name, Does.Match(@"\.(starts|ends|axes|steps|pads|shape)$"));
                continue;
            }
            Assert.That(t.Dims, Is.EqualTo(value.Shape.ToArray().Select(d => (long)d)), t.Name);
            Assert.That(t.DataType, Is.EqualTo(Float), t.Name);
            float[] floats = value.ToArray<float>();
            var bytes = new byte[floats.Length * 4];
            for (int i = 0; i < floats.Length; i++) BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(4 * i), floats[i]);
            Assert.That(t.RawData, Is.EqualTo(bytes), t.Name);
        }
    }

    /// <summary>Every node input is the graph input, an initializer or an earlier node's output; names are unique.</summary>
    private static void AssertWellFormed(OnnxModel onnx)
    {
        var known = new HashSet<string>(onnx.Initializers.Select(t => t.Name)) { "input" };
        Assert.That(known, Has.Count.EqualTo(onnx.Initializers.Length + 1), "initializer names are unique");
        Assert.That(onnx.Nodes.Select(n => n.Name), Is.Unique);
        foreach (var node in onnx.Nodes)
        {
            Assert.That(node.Inputs, Is.SubsetOf(known), $"{node.Name} reads a value no earlier node wrote");
            Assert.That(known.Add(node.Outputs.Single()), Is.True, $"{node.Name} writes a value twice");
        }
        Assert.That(known, Does.Contain("logits"));
    }

    /// <summary>Gives batch norms non-trivial statistics and affine terms, so that byte comparisons mean something.</summary>
    private static Module Randomized(Module model)
    {
        var rng = new Rng(7);
        foreach (var bn in model.NamedModules().Select(m => m.Module).OfType<BatchNorm2d>())
        {
            bn.Weight.ReplaceData(Tensor.RandomUniform(bn.Weight.Shape, 0.5, 1.5, rng));
            bn.Bias.ReplaceData(Tensor.RandomNormal(bn.Bias.Shape, 0, 0.1, rng));
            bn.ReplaceBuffer("running_mean", Tensor.RandomNormal(bn.RunningMean.Shape, 0, 0.1, rng));
            bn.ReplaceBuffer("running_var", Tensor.RandomUniform(bn.RunningVar.Shape, 0.5, 2, rng));
        }
        return model;
    }

    private static string Describe(OnnxValue v) => $"{v.Name} {(v.ElemType == Float ? "float" : v.ElemType)} [{string.Join(", ", v.Dims)}]";

    /// <summary>Flatten → fc → log-softmax: the last op has no ONNX form here.</summary>
    private sealed class LogSoftmaxHead : Module
    {
        private readonly Linear _fc;
        public LogSoftmaxHead() => _fc = Register("fc", new Linear(4, 3, new Rng(0)));
        public override Variable Forward(Variable x) => F.LogSoftmax(_fc.Forward(F.Flatten(x)));
    }

    /// <summary>Flatten → fc → 2x + 0.5 → tanh.</summary>
    private sealed class ScaledHead : Module
    {
        private readonly Linear _fc;
        public ScaledHead() => _fc = Register("fc", new Linear(4, 3, new Rng(0)));
        public override Variable Forward(Variable x) => F.Tanh(F.Scale(_fc.Forward(F.Flatten(x)), 2, 0.5));
    }
}
