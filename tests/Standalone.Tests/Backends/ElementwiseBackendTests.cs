// Element-wise primitives on every backend against the CPU backend: contiguous, strided and broadcast operands, every
// unary and binary op, copies and fills of each dtype.
using Standalone.Backends;
using Standalone.Tests.Support;

namespace Standalone.Tests.Backends;

[TestFixtureSource(typeof(TestBackends), nameof(TestBackends.All))]
public sealed class ElementwiseBackendTests(string device) : BackendTest(device)
{
    private static Tensor Random(Shape shape, int seed, double low = -2, double high = 2) =>
        Tensor.RandomUniform(shape, low, high, new Rng((ulong)seed), backend: Cpu);

    [Test]
    public void EveryUnaryOpMatchesTheCpu([Values] UnaryOp op, [Values(1, 7, 1000)] int length)
    {
        bool positive = op is UnaryOp.Log or UnaryOp.Sqrt or UnaryOp.Rsqrt or UnaryOp.Pow;
        using var x = Random(new Shape(length), 3, positive ? 0.1 : -2, 2);
        var values = x.ToFloatArray();
        if (length > 3) values[2] = 0; // sign, stabilize and relu at exactly zero
        using var xs = Tensor.FromArray<float>(positive ? x.ToFloatArray() : values, x.Shape, Cpu);
        using var expected = xs.Apply(op, 0.5, 1.5);
        using var onDevice = OnDevice(xs);
        using var actual = onDevice.Apply(op, 0.5, 1.5);
        Assert.That(actual.Device, Is.EqualTo(Backend.Device));
        AssertClose(actual, expected, 2e-6);
    }

    [Test]
    public void EveryBinaryOpMatchesTheCpuWithBroadcasting([Values] BinaryOp op)
    {
        using var a = Random(new Shape(3, 1, 5), 4, 0.5, 2);
        using var b = Random(new Shape(4, 1), 5, 0.5, 2);
        using var expected = a.Apply(op, b);
        using var da = OnDevice(a);
        using var db = OnDevice(b);
        using var actual = da.Apply(op, db);
        AssertClose(actual, expected, 2e-6);
        using var same = Random(new Shape(2, 33), 6, 0.5, 2);
        using var expectedSame = same.Apply(op, same);
        using var ds = OnDevice(same);
        using var actualSame = ds.Apply(op, ds);
        AssertClose(actualSame, expectedSame, 2e-6);
    }

    [Test]
    public void StridedViewsCopyAndComputeLikeTheCpu()
    {
        using var x = Random(new Shape(4, 6, 5), 7);
        using var dx = OnDevice(x);
        using var transposed = dx.Permute(2, 0, 1);
        using var sliced = transposed.Slice(1, 1, 2);
        using var contiguous = sliced.Contiguous();
        using var expected = x.Permute(2, 0, 1).Slice(1, 1, 2).Contiguous();
        AssertClose(contiguous, expected, 0);
        using var applied = sliced.Apply(UnaryOp.Square);
        using var expectedSquare = expected.Apply(UnaryOp.Square);
        AssertClose(applied, expectedSquare, 1e-6);
    }

    [Test]
    public void FillsAndCopiesEveryDType([Values(DType.Float32, DType.Int32, DType.Int64)] DType dtype)
    {
        using var full = Tensor.Full(new Shape(3, 4), 7, dtype, Backend);
        Assert.That(full.ToDoubleArray(), Is.All.EqualTo(7));
        using var window = full.Slice(1, 1, 2);
        window.Backend.Fill(window.View, -2);
        Assert.That(full.ToDoubleArray(), Is.EqualTo(new double[] { 7, -2, -2, 7, 7, -2, -2, 7, 7, -2, -2, 7 }));
        using var transposed = full.Permute(1, 0).Contiguous();
        Assert.That(transposed.ToDoubleArray(), Is.EqualTo(new double[] { 7, 7, 7, -2, -2, -2, -2, -2, -2, 7, 7, 7 }));
        using var back = transposed.To(Cpu);
        Assert.That(back.Device, Is.EqualTo(Device.Cpu));
    }

    private static void AssertClose(Tensor actual, Tensor expected, double relative)
    {
        Assert.That(actual.Shape, Is.EqualTo(expected.Shape));
        var a = actual.ToDoubleArray();
        var e = expected.ToDoubleArray();
        for (int i = 0; i < a.Length; i++)
        {
            if (double.IsNaN(e[i]) || double.IsInfinity(e[i])) { Assert.That(a[i], Is.EqualTo(e[i]), $"element {i}"); continue; }
            Assert.That(a[i], Is.EqualTo(e[i]).Within(relative * Math.Max(1, Math.Abs(e[i])) + 1e-30), $"element {i}");
        }
    }
}
