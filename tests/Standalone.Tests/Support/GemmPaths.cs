// The GEMM paths a backend can take: on OpenCL the own tiled kernel always, and CLBlast too where libclblast.so.1 is
// installed (OpenClBackend.UseClBlast switches between them). Tests of MatMul and of the conv primitives (which run on
// that GEMM) check every path, so a machine with CLBlast still tests the fallback kernel.
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
        bool saved = openCl.UseClBlast;
        try
        {
            openCl.UseClBlast = false;
            check("own GEMM kernel");
            if (!ClBlast.Available) return;
            openCl.UseClBlast = true;
            check("CLBlast");
            Assert.That(openCl.ClBlastError, Is.Null, "CLBlast reported an error, so the GEMMs above fell back to the own kernel");
        }
        finally { openCl.UseClBlast = saved; }
    }
}
