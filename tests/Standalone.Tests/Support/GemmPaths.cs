// The GEMM paths a backend can take. On the GPU backend: the own kernels in both families — tiled (GPUs) and
// single-item (CPU-like devices), whichever this device would pick — and the vendor GEMM too (cuBLAS, CLBlast) where it
// is installed (GpuBackend.SingleItemGemms and UseVendorGemm switch between them). Tests of MatMul and of the conv
// primitives (which run on that GEMM) check every path, so the simulator also tests the GPU's tiled kernels, and a
// machine with a vendor GEMM still tests the fallback.
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
