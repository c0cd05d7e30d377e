// The GEMM paths a backend can take. On OpenCL: the own kernels in both families — tiled (GPUs) and single-item (CPU
// devices), whichever this device would pick — and CLBlast too where libclblast.so.1 is installed
// (OpenClBackend.SingleItemGemms and UseClBlast switch between them). Tests of MatMul and of the conv primitives
// (which run on that GEMM) check every path, so PoCL also tests the GPU kernels, and a machine with CLBlast still tests
// the fallback.
using Standalone.Backends;
using Standalone.Backends.OpenCl;
using Standalone.Backends.OpenCl.Native;

namespace Standalone.Tests.Support;

public static class GemmPaths
{
    /// <summary>Runs <paramref name="check"/> once per GEMM path of <paramref name="backend"/>, passing the path's name.</summary>
    public static void ForEach(IBackend backend, Action<string> check)
    {
        if (backend is not OpenClBackend openCl)
        {
            check(backend.Device.ToString());
            return;
        }
        bool savedClBlast = openCl.UseClBlast, savedFamily = openCl.SingleItemGemms;
        try
        {
            openCl.UseClBlast = false;
            foreach (bool singleItem in new[] { false, true })
            {
                openCl.SingleItemGemms = singleItem;
                check(singleItem ? "own single-item GEMM kernels" : "own tiled GEMM kernels");
            }
            openCl.SingleItemGemms = savedFamily;
            if (!ClBlast.Available) return;
            openCl.UseClBlast = true;
            check("CLBlast");
            Assert.That(openCl.ClBlastError, Is.Null, "CLBlast reported an error, so the GEMMs above fell back to the own kernel");
        }
        finally
        {
            openCl.UseClBlast = savedClBlast;
            openCl.SingleItemGemms = savedFamily;
        }
    }
}
