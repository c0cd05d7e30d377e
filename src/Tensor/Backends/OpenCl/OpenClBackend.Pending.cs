// TEMPORARY during the OpenCL bring-up: primitives not written yet. Each helper replaces its part with a real
// partial file and deletes its lines here; this file must be gone before anything lands.
namespace Standalone.Backends.OpenCl;

public sealed partial class OpenClBackend
{
    private NotImplementedException Pending(string op) => new($"{Device}: {op} is not implemented yet");

    // Helper A: MatMul, Conv

    // Helper B: Reduce, ArgMax, Pool, Norm, Index
}
