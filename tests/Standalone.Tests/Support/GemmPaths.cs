// The GEMM paths a backend can take. On OpenCL: the own kernels in both families — tiled (GPUs) and single-item (CPU
// devices), whichever this device would pick — and CLBlast too where libclblast.so.1 is installed
// (GpuBackend.SingleItemGemms and UseVendorGemm switch between them). Tests of MatMul and of the conv primitives
// (which run on that GEMM) check every path, so PoCL also tests the GPU kernels, and a machine with CLBlast still tests
// the fallback.
using Standalone.Backends;
using Standalone.Backends.Gpu;

namespace Standalone.Tests.Support;

public static class GemmPaths
{
    /// <summary>Runs <paramref name="check"/> once per GEMM path of <paramref name="backend"/>, passing the path's name.</summary>
    public static void ForEach(IBackend backend, Action<string> check)
    {
        if (backend is not GpuBackend gpu)
        {
            check(backend.Device.ToString());
            return;
        }
        bool savedVendor = gpu.UseVendorGemm, savedFamily = gpu.SingleItemGemms;
        try
        {
            gpu.UseVendorGemm = false;
            foreach (bool singleItem in new[] { false, true })
            {
                gpu.SingleItemGemms = singleItem;
                check(singleItem ? "own single-item GEMM kernels" : "own tiled GEMM kernels");
            }
            gpu.SingleItemGemms = savedFamily;
            if (gpu.VendorGemmName is not { } vendor) return;
            gpu.UseVendorGemm = true;
            check(vendor);
            Assert.That(gpu.VendorGemmError, Is.Null, $"{vendor} reported an error, so the GEMMs above fell back to the own kernel");
        }
        finally
        {
            gpu.UseVendorGemm = savedVendor;
            gpu.SingleItemGemms = savedFamily;
        }
    }
}
