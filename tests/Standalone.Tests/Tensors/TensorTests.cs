// Tensor semantics: views share storage and never copy, broadcasting, reductions, structure ops, and error messages
// that name the op, the shapes and the expectation. Expected values are worked out by hand in the comments.
namespace Standalone.Tests.Tensors;

public class TensorTests
{
    private static Tensor Range(params int[] shape)
    {
        var s = new Shape(shape);
        var v = new float[s.Numel];
        for (int i = 0; i < v.Length; i++) v[i] = i;
        return Tensor.FromArray<float>(v, s);
    }

    [Test]
    public void ViewsShareStorageAndDoNotCopy()
    {
        using var x = Range(2, 3, 4);
        using var t = x.Transpose(0, 2);              // [4, 3, 2]
        Assert.That(t.Shape, Is.EqualTo(new Shape(4, 3, 2)));
        Assert.That(t.IsContiguous, Is.False);
        // t[k, j, i] = x[i, j, k] = 12i + 4j + k
        Assert.That(t.ToFloatArray()[0..4], Is.EqualTo(new float[] { 0, 12, 4, 16 }));
        using var s = x.Slice(2, 1, 2, step: 2);        // columns 1 and 3
        Assert.That(s.ToFloatArray(), Is.EqualTo(new float[] { 1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23 }));
        s.Fill(-1);                                     // writes through the view into x
        Assert.That(x.ToFloatArray()[0..4], Is.EqualTo(new float[] { 0, -1, 2, -1 }));
        using var e = Range(3).Reshape(3, 1).Expand(new Shape(3, 2));
        Assert.That(e.Stride(1), Is.EqualTo(0));
        Assert.That(e.ToFloatArray(), Is.EqualTo(new float[] { 0, 0, 1, 1, 2, 2 }));
        using var u = Range(3).Unsqueeze(0);
        Assert.That(u.Shape, Is.EqualTo(new Shape(1, 3)));
        Assert.That(u.Squeeze(0).Shape, Is.EqualTo(new Shape(3)));
    }

    [Test]
    public void ReshapeInfersAndCopiesOnlyWhenNeeded()
    {
        using var x = Range(2, 6);
        using var r = x.Reshape(3, -1);
        Assert.That(r.Shape, Is.EqualTo(new Shape(3, 4)));
        r.Fill(7);
        Assert.That(x.ToFloatArray()[0], Is.EqualTo(7)); // a view
        using var t = Range(2, 6).Transpose(0, 1);
        using var flat = t.Reshape(-1);                 // not contiguous: copies, in transposed order
        Assert.That(flat.ToFloatArray()[0..4], Is.EqualTo(new float[] { 0, 6, 1, 7 }));
        var error = Assert.Throws<ArgumentException>(() => x.Reshape(5, -1))!;
        Assert.That(error.Message, Does.Contain("reshape").And.Contain("[2, 6]"));
    }

    [Test]
    public void BroadcastingArithmetic()
    {
        using var a = Range(2, 3);                      // [[0,1,2],[3,4,5]]
        using var b = Tensor.FromArray<float>([10, 20], new Shape(2, 1));
        using var sum = a + b;
        Assert.That(sum.ToFloatArray(), Is.EqualTo(new float[] { 10, 11, 12, 23, 24, 25 }));
        using var c = Tensor.FromArray<float>([1, 2, 3], new Shape(3));
        using var product = a * c;
        Assert.That(product.ToFloatArray(), Is.EqualTo(new float[] { 0, 2, 6, 3, 8, 15 }));
        using var scaled = a * 2 + 1;
        Assert.That(scaled.ToFloatArray(), Is.EqualTo(new float[] { 1, 3, 5, 7, 9, 11 }));
        var error = Assert.Throws<ArgumentException>(() => a.Add(Range(4)))!;
        Assert.That(error.Message, Does.Contain("add").And.Contain("[2, 3]").And.Contain("[4]").And.Contain("broadcast"));
    }

    [Test]
    public void ElementwiseTailsAndStridedInputs()
    {
        // Every length from 0 to a few vector widths, contiguous and strided, against scalar math.
        for (int n = 0; n <= 37; n++)
        {
            using var x = Tensor.RandomUniform(new Shape(2, Math.Max(n, 1)), -2, 2, new Rng((ulong)n));
            using var strided = x.Slice(0, 0, 2).Transpose(0, 1);
            using var y = strided.Exp();
            var xs = strided.ToFloatArray();
            var ys = y.ToFloatArray();
            for (int i = 0; i < xs.Length; i++) Assert.That(ys[i], Is.EqualTo(MathF.Exp(xs[i])).Within(1e-6).Percent);
            using var relu = x.Relu();
            var xr = x.ToFloatArray();
            var rr = relu.ToFloatArray();
            for (int i = 0; i < xr.Length; i++) Assert.That(rr[i], Is.EqualTo(Math.Max(xr[i], 0f)));
        }
    }

    [Test]
    public void Reductions()
    {
        using var x = Range(2, 3, 4);
        // Sum over all: 0 + ... + 23 = 276.
        Assert.That(x.Sum().Item(), Is.EqualTo(276));
        // Sum over axis 1: out[i, k] = Σ_j 12i + 4j + k = 36i + 12 + 3k.
        Assert.That(x.Sum(1).ToFloatArray(), Is.EqualTo(new float[] { 12, 15, 18, 21, 48, 51, 54, 57 }));
        // Sum over (0, 2): out[j] = Σ_i Σ_k = 4·(0+12) + 2·16j... = 24·... computed: Σ_i (48i + 16j + 6) = 48 + 32j + 12.
        Assert.That(x.Sum([0, 2]).ToFloatArray(), Is.EqualTo(new float[] { 60, 92, 124 }));
        Assert.That(x.Mean([0, 2], keepDims: true).Shape, Is.EqualTo(new Shape(1, 3, 1)));
        Assert.That(x.Max(2).ToFloatArray(), Is.EqualTo(new float[] { 3, 7, 11, 15, 19, 23 }));
        Assert.That(x.Min(0).ToFloatArray()[0..3], Is.EqualTo(new float[] { 0, 1, 2 }));
        using var m = Tensor.FromArray<float>([1, 5, 5, 2, 9, 0], new Shape(2, 3));
        Assert.That(m.ArgMax(1).ToArray<long>(), Is.EqualTo(new long[] { 1, 1 }));  // first maximum wins
        Assert.That(m.ArgMax(0).ToArray<long>(), Is.EqualTo(new long[] { 1, 1, 0 }));
    }

    [Test]
    public void MatMulConcatPadIndexSelect()
    {
        using var a = Range(2, 3);
        using var b = Range(3, 2);
        // [[0,1,2],[3,4,5]]·[[0,1],[2,3],[4,5]] = [[10,13],[28,40]]
        Assert.That(Tensor.MatMul(a, b).ToFloatArray(), Is.EqualTo(new float[] { 10, 13, 28, 40 }));
        Assert.That(Tensor.MatMul(a, a, transB: true).ToFloatArray(), Is.EqualTo(new float[] { 5, 14, 14, 50 }));
        var error = Assert.Throws<ArgumentException>(() => Tensor.MatMul(a, a))!;
        Assert.That(error.Message, Does.Contain("matmul").And.Contain("inner dimensions"));
        using var c = Tensor.Concat(1, a, Range(2, 1));
        Assert.That(c.ToFloatArray(), Is.EqualTo(new float[] { 0, 1, 2, 0, 3, 4, 5, 1 }));
        using var p = Range(1, 2).Pad([(1, 0), (0, 2)], value: 9);
        Assert.That(p.Shape, Is.EqualTo(new Shape(2, 4)));
        Assert.That(p.ToFloatArray(), Is.EqualTo(new float[] { 9, 9, 9, 9, 0, 1, 9, 9 }));
        using var index = Tensor.FromArray<long>([2, 0], new Shape(2));
        Assert.That(a.IndexSelect(1, index).ToFloatArray(), Is.EqualTo(new float[] { 2, 0, 5, 3 }));
    }

    [Test]
    public void SeededRandomFillsAreReproducible()
    {
        using var a = Tensor.RandomNormal(new Shape(1000), 0, 1, new Rng(42));
        using var b = Tensor.RandomNormal(new Shape(1000), 0, 1, new Rng(42));
        using var c = Tensor.RandomNormal(new Shape(1000), 0, 1, new Rng(43));
        Assert.That(a.ToFloatArray(), Is.EqualTo(b.ToFloatArray()));
        Assert.That(a.ToFloatArray(), Is.Not.EqualTo(c.ToFloatArray()));
        Assert.That(a.Mean().Item(), Is.EqualTo(0).Within(0.1));
        using var sq = a.Square();
        Assert.That(sq.Mean().Item(), Is.EqualTo(1).Within(0.15));
    }

    [Test]
    public void DeviceNamesParseAndUnknownOnesAreRejected()
    {
        Assert.That(Device.Parse("cpu"), Is.EqualTo(Device.Cpu));
        Assert.That(Device.Parse("OpenCL:1"), Is.EqualTo(new Device(DeviceKind.OpenCl, 1)));
        Assert.That(Device.Parse("cuda").ToString(), Is.EqualTo("cuda:0"));
        Assert.That(Device.Parse("sim"), Is.EqualTo(new Device(DeviceKind.Simulator)));
        Assert.That(Device.Parse("Simulator").ToString(), Is.EqualTo("sim"));
        foreach (var bad in new[] { "tpu", "cuda:-1", "opencl:x", "cpu:0:1" })
            Assert.That(Assert.Throws<ArgumentException>(() => Device.Parse(bad))!.Message,
                Does.Contain($"'{bad}'").And.Contain("expected cpu, cuda[:N], opencl[:N] or sim"));
    }

    [Test]
    public void KeptTensorsOutliveEveryScope()
    {
        Tensor kept, dropped;
        using (TensorScope.Begin())
        {
            using (TensorScope.Begin())
            {
                kept = TensorScope.Keep(Tensor.Ones(new Shape(3)));
                dropped = Tensor.Ones(new Shape(3));
            }
            Assert.That(dropped.IsDisposed, Is.True);
        }
        Assert.That(kept.IsDisposed, Is.False);
        Assert.That(kept.ToFloatArray(), Is.EqualTo(new float[] { 1, 1, 1 }));
        kept.Dispose();
    }

    [Test]
    public void ScopeReturnsBuffersToThePool()
    {
        var backend = Standalone.Backends.Cpu.CpuBackend.Instance;
        using var keep = Tensor.Zeros(new Shape(123, 457));
        void Step()
        {
            using var scope = TensorScope.Begin();
            var y = keep + 1;
            var z = y * 2;
        }
        Step();
        var (allocated, _) = backend.PoolStatistics;
        for (int i = 0; i < 5; i++) Step();
        Assert.That(backend.PoolStatistics.Allocated, Is.EqualTo(allocated), "a warm loop should reuse pooled buffers");
    }

    [Test]
    public void ChannelOpsNameTheOpAndTheShapeWhenAGateOrVectorIsWrong()
    {
        using var x = Range(2, 3, 4);
        using var wrong = Range(2, 4, 3);
        using var vector = Range(3);
        using var shortVector = Range(2);
        var error = Assert.Throws<ArgumentException>(() => Tensor.ChannelGradSums(x, x, vector, new ReluGate(wrong)))!;
        Assert.That(error.Message, Does.Contain("channel_grad_sums").And.Contain("[2, 4, 3]").And.Contain("[2, 3, 4]"));
        error = Assert.Throws<ArgumentException>(() => Tensor.ChannelAffine(x, vector, vector, gate: new ReluGate(x, vector)))!;
        Assert.That(error.Message, Does.Contain("channel_affine").And.Contain("both scale and shift"));
        error = Assert.Throws<ArgumentException>(() => Tensor.ChannelGradSums(x, x, shortVector))!;
        Assert.That(error.Message, Does.Contain("channel_grad_sums").And.Contain("[3]").And.Contain("[2]"));
    }
}
