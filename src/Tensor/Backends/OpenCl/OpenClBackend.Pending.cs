// TEMPORARY during the OpenCL bring-up: primitives not written yet. Each helper replaces its part with a real
// partial file and deletes its lines here; this file must be gone before anything lands.
namespace Standalone.Backends.OpenCl;

public sealed partial class OpenClBackend
{
    private NotImplementedException Pending(string op) => new($"{Device}: {op} is not implemented yet");

    // Helper A: MatMul, Conv
    public void MatMul(in TensorView a, bool transA, in TensorView b, bool transB, in TensorView c, double alpha, double beta) => throw Pending("matmul");
    public void Conv2dForward(in TensorView x, in TensorView weight, TensorView? bias, in TensorView y, in Conv2dParams p) => throw Pending("conv2d");
    public void Conv2dBackwardInput(in TensorView dy, in TensorView weight, in TensorView dx, in Conv2dParams p) => throw Pending("conv2d");
    public void Conv2dBackwardWeight(in TensorView dy, in TensorView x, in TensorView dWeight, TensorView? dBias, in Conv2dParams p) => throw Pending("conv2d");

    // Helper B: Reduce, ArgMax, Pool, Norm, Index
}
