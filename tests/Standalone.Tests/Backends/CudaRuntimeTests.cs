// The CUDA runtime, as far as it goes without a GPU: every kernel file compiles with NVRTC (for compute 7.0 and for
// the newest architecture this NVRTC knows), a broken one reports the compiler log and the numbered source, PTX is
// cached on disk, the architecture follows the device, and device discovery says why there is no device. The NVRTC
// tests count under "nvrtc" in the backend coverage, so CI can require that they ran.
using System.Text;
using System.Text.RegularExpressions;
using Standalone.Backends.Cuda;
using Standalone.Backends.Cuda.Native;
using Standalone.Kernels;
using Standalone.Tests.Support;

namespace Standalone.Tests.Backends;

[TestFixture]
public sealed class CudaRuntimeTests
{
    /// <summary>Inconclusive when NVRTC is missing here; either way counted under "nvrtc" in the coverage.</summary>
    private static void RequireNvrtc()
    {
        TestBackends.Count("nvrtc", Nvrtc.Available);
        if (!Nvrtc.Available) Assert.Inconclusive($"nvrtc: not available on this machine ({Nvrtc.Unavailable})");
    }

    [Test]
    public void EveryKernelFileCompilesWithNvrtc()
    {
        RequireNvrtc();
        Assert.That(KernelSources.Files, Is.Not.Empty);
        int newest = Nvrtc.SupportedArchs[^1];
        TestContext.Progress.WriteLine($"NVRTC {Nvrtc.Version.Major}.{Nvrtc.Version.Minor} ({Nvrtc.LibraryPath}): compiling for compute_70 and compute_{newest}");
        foreach (var (major, minor) in new[] { (7, 0), (newest / 10, newest % 10) })
            foreach (var file in KernelSources.Files)
            {
                string source = KernelSources.Program(file, KernelDialect.Cuda);
                string ptx = Encoding.UTF8.GetString(CudaCompiler.Compile(file, source, major, minor, cacheDirectory: null));
                Assert.That(ptx, Does.Contain($".target sm_{major}{minor}"), $"{file}: PTX for compute_{major}{minor}");
                var entries = Regex.Matches(ptx, @"\.entry\s+(\w+)").Select(m => m.Groups[1].Value).ToList();
                Assert.That(entries, Is.SupersetOf(KernelNames(source)), $"{file} for compute_{major}{minor}: every KERNEL is a PTX .entry");
            }
    }

    [Test]
    public void ACompileFailureReportsTheLogAndTheNumberedSource()
    {
        RequireNvrtc();
        string source = KernelSources.Read("prelude_cuda.h") + "\nKERNEL broken(GLOBAL float* y)\n{\n    y[0] = undefined_name;\n}\n";
        var error = Assert.Throws<CudaException>(() => CudaCompiler.Compile("broken.c", source, 7, 0, cacheDirectory: null))!;
        Assert.That(error.Library, Is.EqualTo(CudaLibrary.Nvrtc));
        Assert.That(error.Message, Does.Contain("NVRTC_ERROR_COMPILATION (6)"));
        int line = source.Split('\n').ToList().FindIndex(l => l.Contains("undefined_name")) + 1;
        Assert.That(error.Message, Does.Contain($"broken.c({line}): error").And.Contain("undefined_name"), "the compiler log names the file and line");
        Assert.That(error.Message, Does.Contain($"{line,5}      y[0] = undefined_name;"), "the source is numbered line by line");
    }

    [Test]
    public void ASecondCompileReadsTheCache()
    {
        RequireNvrtc();
        string folder = Path.Combine(Path.GetTempPath(), $"standalone-cuda-cache-{Guid.NewGuid():N}");
        try
        {
            string source = KernelSources.Program("elementwise.c", KernelDialect.Cuda);
            var compiled = CudaCompiler.Compile("elementwise.c", source, 7, 0, folder);
            var cached = Directory.GetFiles(folder).Single();
            Assert.That(Path.GetFileName(cached), Does.StartWith("elementwise-compute_70-").And.EndWith(".ptx"));
            Assert.That(File.ReadAllBytes(cached), Is.EqualTo(compiled));

            // Mark the cached copy: a second compile that returns the mark read the cache rather than running NVRTC.
            var marked = Encoding.ASCII.GetBytes("// from the cache\n").Concat(compiled).ToArray();
            File.WriteAllBytes(cached, marked);
            Assert.That(CudaCompiler.Compile("elementwise.c", source, 7, 0, folder), Is.EqualTo(marked));

            // Another architecture is another key, so it is compiled and cached beside the first.
            CudaCompiler.Compile("elementwise.c", source, Nvrtc.SupportedArchs[^1] / 10, Nvrtc.SupportedArchs[^1] % 10, folder);
            Assert.That(Directory.GetFiles(folder), Has.Length.EqualTo(2));
        }
        finally
        {
            if (Directory.Exists(folder)) Directory.Delete(folder, recursive: true);
        }
    }

    [Test]
    public void TheArchitectureIsTheNewestNvrtcKnowsThatTheDeviceHas()
    {
        RequireNvrtc();
        int newest = Nvrtc.SupportedArchs[^1];
        Assert.That(CudaCompiler.Architecture(7, 0), Is.EqualTo(70));
        Assert.That(CudaCompiler.Architecture(7, 1), Is.EqualTo(70), "7.1 is no NVRTC architecture: the one below it");
        Assert.That(CudaCompiler.Architecture(99, 0), Is.EqualTo(newest), "a GPU newer than NVRTC gets its newest PTX, JIT-compiled by the driver");
        var error = Assert.Throws<NotSupportedException>(() => CudaCompiler.Architecture(1, 0))!;
        Assert.That(error.Message, Does.Contain("compute capability 1.0").And.Contain($"compute_{newest}"));
    }

    [Test]
    public void DiscoveryWithoutADriverSaysWhy()
    {
        var devices = CudaRuntime.Devices;
        if (devices.Count == 0)
        {
            Assert.That(CudaRuntime.Unavailable, Does.Contain("libcuda.so.1").Or.Contain("CUDA_ERROR_").Or.Contain("lists no device"));
            return;
        }
        Assert.That(CudaRuntime.Unavailable, Is.Null);
        Assert.That(devices.Select(d => d.Index), Is.EqualTo(Enumerable.Range(0, devices.Count)));
        Assert.That(devices.All(d => d.Name.Length > 0 && d.TotalMemory > 0 && d.ComputeCapabilityMajor >= 3 && d.Multiprocessors > 0 &&
            d.MaxThreadsPerBlock > 0 && d.DriverVersion >= 10000));
        Assert.That(devices[0].Facts.Select(f => f.Label), Does.Contain("compute capability").And.Contain("NVRTC"));
    }

    [Test]
    public void StatusCodesAreNamedPerLibrary()
    {
        var outOfMemory = new CudaException("cuMemAlloc", 2);
        Assert.That(outOfMemory.Message, Is.EqualTo("CUDA: cuMemAlloc failed: CUDA_ERROR_OUT_OF_MEMORY (2)"));
        Assert.That(outOfMemory.IsOutOfMemory);
        Assert.That(new CudaException("cuLaunchKernel", 700).Message, Does.Contain("CUDA_ERROR_ILLEGAL_ADDRESS (700)"));
        Assert.That(new CudaException("nvrtcCompileProgram", 6, "log", CudaLibrary.Nvrtc).Message,
            Is.EqualTo("CUDA: nvrtcCompileProgram failed: NVRTC_ERROR_COMPILATION (6)\nlog"));
        Assert.That(new CudaException("cublasSgemm", 3, library: CudaLibrary.CuBlas).IsOutOfMemory, "CUBLAS_STATUS_ALLOC_FAILED");
        Assert.That(new CudaException("cublasSgemm", 2, library: CudaLibrary.CuBlas).IsOutOfMemory, Is.False, "2 is no cuBLAS status");
    }

    /// <summary>
    /// The kernel names a file declares: each literal "KERNEL name(", with a kernel-stamping macro's parameter
    /// replaced by the names it is invoked with (index.c: INDEX_SELECT(index_select_4, i32)).
    /// </summary>
    private static List<string> KernelNames(string source)
    {
        var names = Regex.Matches(source, @"\bKERNEL\s+(\w+)\s*\(").Select(m => m.Groups[1].Value).ToList();
        foreach (Match macro in Regex.Matches(source, @"#define\s+(\w+)\((\w+)[^)]*\)(?:[^\n]*\\\n)*?[^\n]*\bKERNEL\s+\2\s*\("))
        {
            names.Remove(macro.Groups[2].Value);
            var stamped = Regex.Matches(source, $@"^\s*{macro.Groups[1].Value}\((\w+)", RegexOptions.Multiline).Select(m => m.Groups[1].Value).ToList();
            Assert.That(stamped, Is.Not.Empty, $"the kernel macro {macro.Groups[1].Value} is never invoked");
            names.AddRange(stamped);
        }
        return names;
    }
}
