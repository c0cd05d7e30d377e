// Micro-benchmarks of the ResNet-20 layers at training batch size: conv forward/backward on each stage's shape,
// batch norm forward/backward, ReLU — the pieces `standalone bench` composes.
using BenchmarkDotNet.Attributes;
using Standalone;
using Standalone.Autograd;
using Standalone.Backends;

namespace Standalone.Bench;

[MemoryDiagnoser]
public class LayerBenchmarks
{
    private Tensor _x = null!, _w = null!, _dy = null!;
    private Conv2dParams _p;

    /// <summary>channels × spatial size of the three ResNet-20 stages.</summary>
    [Params("16x32", "32x16", "64x8")]
    public string Stage { get; set; } = "16x32";

    private const int Batch = 128;

    [GlobalSetup]
    public void Setup()
    {
        var parts = Stage.Split('x');
        int c = int.Parse(parts[0]), s = int.Parse(parts[1]);
        var rng = new Rng(1);
        _x = Tensor.RandomNormal(new Shape(Batch, c, s, s), 0, 1, rng);
        _w = Tensor.RandomNormal(new Shape(c, c, 3, 3), 0, 0.1, rng);
        _dy = Tensor.RandomNormal(new Shape(Batch, c, s, s), 0, 1, rng);
        _p = new Conv2dParams(1, 1, 1, 1, 1, 1, 1);
    }

    [Benchmark]
    public void ConvForward()
    {
        using var y = Tensor.Conv2d(_x, _w, null, _p);
    }

    [Benchmark]
    public void ConvBackwardInput()
    {
        using var dx = Tensor.Conv2dBackwardInput(_dy, _w, _x.Shape, _p);
    }

    [Benchmark]
    public void ConvBackwardWeight()
    {
        var (dw, _) = Tensor.Conv2dBackwardWeight(_dy, _x, _w.Shape, false, _p);
        dw.Dispose();
    }

    [Benchmark]
    public void BatchNormTrainForwardBackward()
    {
        using var scope = TensorScope.Begin();
        int c = _x.Shape[1];
        var gamma = Variable.Parameter(Tensor.Ones(new Shape(c)));
        var beta = Variable.Parameter(Tensor.Zeros(new Shape(c)));
        var y = F.BatchNorm2d(new Variable(_x, true), gamma, beta, null, null, training: true);
        y.Backward(_dy);
    }

    [Benchmark]
    public void Relu()
    {
        using var y = _x.Relu();
    }
}
