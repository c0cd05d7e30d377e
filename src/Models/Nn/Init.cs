// Weight initialisers (PyTorch's definitions), drawing from a seeded generator.
namespace Standalone.Models.Nn;

public static class Init
{
    /// <summary>Kaiming-normal for ReLU networks: N(0, 2/fan), fan = fan_out (torchvision ResNet) or fan_in.</summary>
    public static Tensor KaimingNormal(Shape shape, Rng rng, bool fanOut = true)
    {
        long receptive = 1;
        for (int i = 2; i < shape.Rank; i++) receptive *= shape[i];
        long fan = (fanOut ? shape[0] : shape[1]) * receptive;
        return Tensor.RandomNormal(shape, 0, Math.Sqrt(2.0 / fan), rng);
    }

    /// <summary>PyTorch's default Linear/Conv init: U(−1/√fan_in, 1/√fan_in) (kaiming_uniform with a = √5).</summary>
    public static Tensor UniformFanIn(Shape shape, long fanIn, Rng rng)
    {
        double bound = 1 / Math.Sqrt(fanIn);
        return Tensor.RandomUniform(shape, -bound, bound, rng);
    }
}
