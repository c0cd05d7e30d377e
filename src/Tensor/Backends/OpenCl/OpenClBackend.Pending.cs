// TEMPORARY during the OpenCL bring-up: primitives not written yet. Each helper replaces its part with a real
// partial file and deletes its lines here; this file must be gone before anything lands.
namespace Standalone.Backends.OpenCl;

public sealed partial class OpenClBackend
{
    private NotImplementedException Pending(string op) => new($"{Device}: {op} is not implemented yet");

    // Helper A: MatMul, Conv

    // Helper B: Reduce, ArgMax, Pool, Norm, Index
    public void Reduce(ReduceOp op, in TensorView x, int reduceMask, in TensorView y) => throw Pending("reduce");
    public void ArgMax(in TensorView x, in TensorView y) => throw Pending("argmax");
    public void Pool2dForward(PoolKind kind, in TensorView x, in TensorView y, TensorView? indices, in Pool2dParams p) => throw Pending("pool");
    public void Pool2dBackward(PoolKind kind, in TensorView dy, TensorView? indices, in TensorView dx, in Pool2dParams p) => throw Pending("pool");
    public void ChannelMeanVar(in TensorView x, in TensorView mean, in TensorView variance) => throw Pending("norm");
    public void ChannelAffine(in TensorView x, in TensorView scale, in TensorView shift, in TensorView y, TensorView? x2 = null, TensorView? scale2 = null) => throw Pending("norm");
    public void ChannelGradSums(in TensorView dy, in TensorView x, in TensorView center, in TensorView sumDy, in TensorView sumDyX) => throw Pending("norm");
    public void GatherColumns(in TensorView x, in TensorView index, in TensorView y) => throw Pending("index");
    public void ScatterAddColumns(in TensorView x, in TensorView index, in TensorView values) => throw Pending("index");
    public void IndexSelect(in TensorView x, int axis, in TensorView index, in TensorView y) => throw Pending("index");
}
