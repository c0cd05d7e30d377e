// Double-precision finite-difference gradient check. The function under test maps Float64 inputs to one output;
// the scalar objective is L = Σ output ⊙ R for a fixed random R, so the analytic gradient is backward seeded with R
// and the numeric one is (L(x + h·e_i) − L(x − h·e_i)) / 2h for every element i of every input.
using Standalone.Autograd;
using Standalone.Backends;

namespace Standalone.Tests.Support;

public static class GradCheck
{
    public const double Step = 1e-6;
    public const double AbsoluteTolerance = 1e-7;
    public const double RelativeTolerance = 1e-5;

    /// <summary>Checks d(Σ f(inputs)⊙R)/d(input) for every input; inputs are given as (shape, values).</summary>
    public static void Check(string name, Func<Variable[], Variable> f, params (Shape Shape, double[] Values)[] inputs)
    {
        Variable[] Make(bool requiresGrad) => inputs.Select(i => new Variable(Tensor.FromArray<double>(i.Values, i.Shape), requiresGrad)).ToArray();

        var vars = Make(true);
        var output = f(vars);
        var r = Tensor.RandomUniform(output.Shape, -1, 1, new Rng(12345), DType.Float64);
        var rValues = r.ToDoubleArray();
        output.Backward(r);

        double Objective()
        {
            using var _ = Grad.Disabled();
            var y = f(Make(false)).Data.ToDoubleArray();
            double sum = 0;
            for (int i = 0; i < y.Length; i++) sum += y[i] * rValues[i];
            return sum;
        }

        for (int k = 0; k < inputs.Length; k++)
        {
            var analytic = vars[k].Grad?.ToDoubleArray() ?? new double[inputs[k].Values.Length];
            var values = inputs[k].Values;
            var mismatches = new List<string>();
            double maxDiff = 0;
            for (int i = 0; i < values.Length; i++)
            {
                double saved = values[i];
                values[i] = saved + Step;
                double plus = Objective();
                values[i] = saved - Step;
                double minus = Objective();
                values[i] = saved;
                double numeric = (plus - minus) / (2 * Step);
                double diff = Math.Abs(numeric - analytic[i]);
                maxDiff = Math.Max(maxDiff, diff);
                if (diff > AbsoluteTolerance + RelativeTolerance * Math.Abs(numeric) && mismatches.Count < 8)
                    mismatches.Add($"  [{i}] numeric {numeric:G10} analytic {analytic[i]:G10}");
            }
            if (mismatches.Count > 0)
                Assert.Fail($"{name}: gradient of input {k} {inputs[k].Shape} differs (max |diff| {maxDiff:G3}); first mismatches:\n{string.Join("\n", mismatches)}");
        }
    }

    /// <summary>
    /// The same function on <paramref name="backend"/> and on the CPU, both in Float32: outputs and the gradients of
    /// every input (backward seeded with the same random R) must agree within <paramref name="relative"/> of each
    /// tensor's largest magnitude. The finite-difference check proves the CPU right; this proves a device equal to it.
    /// </summary>
    public static void CompareWithCpu(IBackend backend, string name, Func<Variable[], Variable> f, (Shape Shape, double[] Values)[] inputs, double relative = 2e-5)
    {
        (double[] Output, double[][] Grads) Run(IBackend on)
        {
            var saved = Tensor.DefaultBackend;
            Tensor.DefaultBackend = on;
            try
            {
                var vars = inputs.Select(i => new Variable(Tensor.FromArray<float>(Array.ConvertAll(i.Values, v => (float)v), i.Shape, on), requiresGrad: true)).ToArray();
                var output = f(vars);
                using var r = Tensor.RandomUniform(output.Shape, -1, 1, new Rng(12345), DType.Float32, on);
                output.Backward(r);
                return (output.Data.ToDoubleArray(), vars.Select((v, k) => v.Grad?.ToDoubleArray() ?? new double[inputs[k].Values.Length]).ToArray());
            }
            finally { Tensor.DefaultBackend = saved; }
        }

        var expected = Run(Standalone.Backends.Cpu.CpuBackend.Instance);
        var actual = Run(backend);
        AssertClose($"{name}: output on {backend.Device}", actual.Output, expected.Output, relative);
        for (int k = 0; k < inputs.Length; k++)
            AssertClose($"{name}: gradient of input {k} {inputs[k].Shape} on {backend.Device}", actual.Grads[k], expected.Grads[k], relative);
    }

    private static void AssertClose(string what, double[] actual, double[] expected, double relative)
    {
        Assert.That(actual, Has.Length.EqualTo(expected.Length), what);
        double scale = expected.Length == 0 ? 0 : expected.Max(Math.Abs);
        double tolerance = relative * scale + 1e-6;
        var mismatches = new List<string>();
        for (int i = 0; i < actual.Length && mismatches.Count < 8; i++)
            if (!(Math.Abs(actual[i] - expected[i]) <= tolerance))
                mismatches.Add($"  [{i}] device {actual[i]:G9} cpu {expected[i]:G9}");
        if (mismatches.Count > 0)
            Assert.Fail($"{what} differs from the CPU's (tolerance {tolerance:G3}); first mismatches:\n{string.Join("\n", mismatches)}");
    }

    /// <summary>Random values in [low, high) of a shape, seeded.</summary>
    public static (Shape, double[]) Random(Shape shape, ulong seed, double low = -1, double high = 1)
    {
        var rng = new Rng(seed);
        var v = new double[shape.Numel];
        for (int i = 0; i < v.Length; i++) v[i] = low + (high - low) * rng.NextDouble();
        return (shape, v);
    }

    /// <summary>Distinct values (a shuffled, jittered ramp) — for max/relu/pooling, where ties or kinks break finite differences.</summary>
    public static (Shape, double[]) Distinct(Shape shape, ulong seed, double spacing = 0.01)
    {
        var rng = new Rng(seed);
        var v = new double[shape.Numel];
        for (int i = 0; i < v.Length; i++) v[i] = (i - v.Length / 2.0 + 0.37) * spacing;
        rng.Shuffle<double>(v);
        return (shape, v);
    }
}
