// Finite-difference gradient checks (Float64) for every differentiable op, over shapes that hit vector tails
// (sizes not multiples of 4/8), strides, padding, dilation, groups and broadcasting. The same cases run once more per
// GPU backend ("opencl"): there, forward and backward in Float32 must match the CPU's (GradCheck.CompareWithCpu) —
// the CPU being proven right by the finite differences.
using Standalone.Autograd;
using Standalone.Backends;
using Standalone.Tests.Support;
using static Standalone.Tests.Support.GradCheck;

namespace Standalone.Tests.Autograd;

[TestFixtureSource(nameof(Modes))]
public class GradientCheckTests(string mode) : BackendTest(mode == FiniteDifferences ? "cpu" : mode)
{
    private const string FiniteDifferences = "finite-differences";
    public static readonly string[] Modes = [FiniteDifferences, .. TestBackends.All.Where(b => b != "cpu")];

    /// <summary>The dtype constants inside a checked function use: Float64 for finite differences, else Float32.</summary>
    private DType WorkingType => mode == FiniteDifferences ? DType.Float64 : DType.Float32;

    private Tensor Constant(double[] values, Shape shape) => WorkingType == DType.Float64
        ? Tensor.FromArray<double>(values, shape)
        : Tensor.FromArray<float>(Array.ConvertAll(values, v => (float)v), shape);

    private void Check(string name, Func<Variable[], Variable> f, params (Shape Shape, double[] Values)[] inputs)
    {
        if (mode == FiniteDifferences) GradCheck.Check(name, f, inputs);
        else GradCheck.CompareWithCpu(Backend, name, f, inputs);
    }

    [TestCase(new[] { 3, 5 }, new[] { 3, 5 })]
    [TestCase(new[] { 2, 3, 7 }, new[] { 3, 1 })]
    [TestCase(new[] { 4, 1 }, new[] { 1, 9 })]
    [TestCase(new[] { 17 }, new int[0])]
    public void Arithmetic(int[] a, int[] b)
    {
        var x = Random(new Shape(a), 1);
        var y = Random(new Shape(b), 2, 0.5, 2);
        Check("add", v => F.Add(v[0], v[1]), x, y);
        Check("sub", v => F.Sub(v[0], v[1]), x, y);
        Check("mul", v => F.Mul(v[0], v[1]), x, y);
        Check("div", v => F.Div(v[0], v[1]), x, y);
    }

    [Test]
    public void Pointwise()
    {
        var x = Random(new Shape(3, 11), 3);
        var positive = Random(new Shape(3, 11), 4, 0.2, 3);
        Check("scale", v => F.Scale(v[0], -2.5, 0.3), x);
        Check("exp", v => F.Exp(v[0]), x);
        Check("log", v => F.Log(v[0]), positive);
        Check("sqrt", v => F.Sqrt(v[0]), positive);
        Check("square", v => F.Square(v[0]), x);
        Check("tanh", v => F.Tanh(v[0]), x);
        Check("sigmoid", v => F.Sigmoid(v[0]), x);
        Check("abs", v => F.Abs(v[0]), Distinct(new Shape(3, 11), 5));
        Check("relu", v => F.Relu(v[0]), Distinct(new Shape(2, 3, 13), 6));
    }

    [TestCase(null)]
    [TestCase(new[] { 0 })]
    [TestCase(new[] { 1, 2 })]
    [TestCase(new[] { 0, 2 })]
    [TestCase(new[] { -1 })]
    public void Reductions(int[]? axes)
    {
        var x = Distinct(new Shape(3, 4, 5), 7);
        Check("sum", v => F.Sum(v[0], axes), x);
        Check("sum keepdims", v => F.Sum(v[0], axes, keepDims: true), x);
        Check("mean", v => F.Mean(v[0], axes), x);
        Check("max", v => F.Max(v[0], axes), x);
    }

    [Test]
    public void ReshapeAndFlatten()
    {
        var x = Random(new Shape(2, 3, 4, 5), 8);
        Check("reshape", v => F.Mul(F.Reshape(v[0], 6, -1), F.Reshape(v[0], 6, 20)), x);
        Check("flatten", v => F.Square(F.Flatten(v[0])), x);
    }

    [Test]
    public void ViewsPaddingAndStridedInputs()
    {
        var x = Random(new Shape(2, 3, 5, 6), 80);
        Check("permute", v => F.Square(F.Permute(v[0], 3, 1, 0, 2)), x);
        Check("transpose then broadcast mul", v => F.Mul(F.Transpose(v[0], 2, 3), v[1]), x, Random(new Shape(6, 1), 81));
        Check("slice with step", v => F.Square(F.Slice(v[0], 3, 1, 3, step: 2)), x);
        Check("pad", v => F.Square(F.Pad(v[0], [(1, 2), (0, 3)], value: 0.5)), x);
        // A strided (transposed) input and a padded input into a convolution.
        var w = Random(new Shape(4, 3, 3, 3), 82);
        Check("conv of transposed input", v => F.Conv2d(F.Transpose(v[0], 2, 3), v[1], padding: 1), x, w);
        Check("conv of padded input", v => F.Conv2d(F.Pad(v[0], [(1, 1), (2, 0)]), v[1], stride: 2), x, w);
        // Shortcut A of the CIFAR ResNet: x[:, :, ::2, ::2] zero-padded by planes/4 channels on each side.
        Check("shortcut A", v => F.Pad(F.Slice(F.Slice(v[0], 2, 0, 3, step: 2), 3, 0, 3, step: 2), [(1, 1), (0, 0), (0, 0)]), x);
    }

    [Test]
    public void MatMulAndLinear()
    {
        Check("matmul", v => F.MatMul(v[0], v[1]), Random(new Shape(5, 7), 9), Random(new Shape(7, 3), 10));
        Check("batched matmul", v => F.MatMul(v[0], v[1]), Random(new Shape(2, 3, 9), 11), Random(new Shape(2, 9, 4), 12));
        Check("linear", v => F.Linear(v[0], v[1], v[2]), Random(new Shape(4, 9), 13), Random(new Shape(5, 9), 14), Random(new Shape(5), 15));
        Check("linear no bias", v => F.Linear(v[0], v[1]), Random(new Shape(3, 17), 16), Random(new Shape(2, 17), 17));
    }

    [TestCase(1, 0, 1, 1, true)]
    [TestCase(1, 1, 1, 1, false)]
    [TestCase(2, 1, 1, 1, true)]
    [TestCase(2, 0, 1, 1, false)]
    [TestCase(1, 2, 2, 1, true)]
    [TestCase(1, 1, 1, 2, true)]
    [TestCase(2, 1, 1, 4, false)]
    public void Conv2d(int stride, int padding, int dilation, int groups, bool bias)
    {
        int cin = 4, cout = 4;
        var x = Random(new Shape(2, cin, 7, 6), 20);
        var w = Random(new Shape(cout, cin / groups, 3, 3), 21);
        var b = Random(new Shape(cout), 22);
        var p = new Conv2dParams(stride, stride, padding, padding, dilation, dilation, groups);
        if (bias) Check($"conv2d {p}", v => F.Conv2d(v[0], v[1], v[2], p), x, w, b);
        else Check($"conv2d {p}", v => F.Conv2d(v[0], v[1], null, p), x, w);
    }

    [Test]
    public void Conv2dOneByOneStrided()
    {
        var p = new Conv2dParams(2, 2, 0, 0, 1, 1, 1);
        Check("conv2d 1x1 s2", v => F.Conv2d(v[0], v[1], null, p), Random(new Shape(2, 3, 5, 5), 23), Random(new Shape(5, 3, 1, 1), 24));
    }

    [TestCase(true)]
    [TestCase(false)]
    public void BatchNorm2d(bool training)
    {
        var x = Random(new Shape(3, 5, 4, 3), 30, -2, 3);
        var gamma = Random(new Shape(5), 31, 0.5, 1.5);
        var beta = Random(new Shape(5), 32);
        Check($"batch_norm training={training}", v =>
        {
            using var mean = Constant([0.1, -0.2, 0.3, 0.0, 0.5], new Shape(5));
            using var variance = Constant([1.0, 0.5, 2.0, 1.5, 0.8], new Shape(5));
            return F.BatchNorm2d(v[0], v[1], v[2], mean, variance, training);
        }, x, gamma, beta);
    }

    [TestCase(true, false)]
    [TestCase(true, true)]
    [TestCase(false, true)]
    public void BatchNorm2dRelu(bool training, bool residual)
    {
        var x = Random(new Shape(3, 5, 4, 3), 33, -2, 3);
        var gamma = Random(new Shape(5), 34, 0.5, 1.5);
        var beta = Random(new Shape(5), 35);
        var r = Random(new Shape(3, 5, 4, 3), 36);
        (Shape, double[])[] inputs = residual ? [x, gamma, beta, r] : [x, gamma, beta];
        Check($"batch_norm_relu training={training} residual={residual}", v =>
        {
            using var mean = Constant([0.1, -0.2, 0.3, 0.0, 0.5], new Shape(5));
            using var variance = Constant([1.0, 0.5, 2.0, 1.5, 0.8], new Shape(5));
            return F.BatchNorm2dRelu(v[0], v[1], v[2], mean, variance, training, residual ? v[3] : null);
        }, inputs);
    }

    [Test]
    public void Pooling()
    {
        var x = Distinct(new Shape(2, 3, 7, 6), 40);
        Check("max_pool 2", v => F.MaxPool2d(v[0], 2), x);
        Check("max_pool 3 s2 p1", v => F.MaxPool2d(v[0], 3, 2, 1), x);
        Check("avg_pool 2", v => F.AvgPool2d(v[0], 2), x);
        Check("avg_pool 3 s1 p1", v => F.AvgPool2d(v[0], 3, 1, 1), x);
        Check("global_avg_pool", v => F.GlobalAvgPool2d(v[0]), x);
    }

    [Test]
    public void Dropout()
    {
        Check("dropout", v => F.Dropout(v[0], 0.3, training: true, new Rng(99)), Random(new Shape(4, 13), 50));
    }

    [TestCase(0.0, Reduction.Mean)]
    [TestCase(0.1, Reduction.Mean)]
    [TestCase(0.2, Reduction.Sum)]
    public void LogSoftmaxAndCrossEntropy(double smoothing, Reduction reduction)
    {
        var logits = Random(new Shape(5, 7), 60, -3, 3);
        Check("log_softmax", v => F.LogSoftmax(v[0]), logits);
        Check($"cross_entropy ε={smoothing} {reduction}", v =>
        {
            using var labels = Tensor.FromArray<long>([0, 6, 3, 3, 1], new Shape(5));
            return F.CrossEntropy(v[0], labels, smoothing, reduction);
        }, logits);
    }


    [TestCase(1.0, Reduction.Mean)]
    [TestCase(4.0, Reduction.Mean)]
    [TestCase(2.5, Reduction.Sum)]
    public void KlDivergence(double temperature, Reduction reduction)
    {
        var logits = Random(new Shape(5, 7), 61, -3, 3);
        var teacher = Random(new Shape(5, 7), 62, -4, 4).Item2;
        Check($"kl_divergence T={temperature} {reduction}", v =>
        {
            using var t = Constant(teacher, new Shape(5, 7));
            return F.KlDivergence(v[0], t, temperature, reduction);
        }, logits);
    }
    [Test]
    public void ResidualBlockComposite()
    {
        // conv → BN → ReLU → conv + identity: exercises gradient accumulation where a variable feeds two consumers.
        var x = Random(new Shape(2, 3, 5, 5), 70);
        var w1 = Random(new Shape(3, 3, 3, 3), 71);
        var w2 = Random(new Shape(3, 3, 3, 3), 72);
        Check("residual", v =>
        {
            using var mean = Tensor.Zeros(new Shape(3), WorkingType);
            using var variance = Tensor.Ones(new Shape(3), WorkingType);
            var gamma = Variable.Constant(Tensor.Ones(new Shape(3), WorkingType));
            var beta = Variable.Constant(Tensor.Zeros(new Shape(3), WorkingType));
            var h = F.Relu(F.BatchNorm2d(F.Conv2d(v[0], v[1], padding: 1), gamma, beta, mean, variance, training: true));
            return F.Add(F.Conv2d(h, v[2], padding: 1), v[0]);
        }, x, w1, w2);
    }
}
