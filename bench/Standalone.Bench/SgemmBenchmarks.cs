// BenchmarkDotNet micro-benchmark of CpuGemm.Sgemm on square row-major problems, multi-threaded
// (C = A·B, beta = 0). GFLOP/s = 2·N³ / mean time.
using System.Runtime.InteropServices;
using BenchmarkDotNet.Attributes;
using Standalone.Backends.Cpu;

namespace Standalone.Bench;

[MemoryDiagnoser]
public unsafe class SgemmBenchmarks
{
    private float* _a, _b, _c;

    [Params(256, 1024, 2048)]
    public int N { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        nuint bytes = (nuint)N * (nuint)N * sizeof(float);
        _a = (float*)NativeMemory.AlignedAlloc(bytes, 64);
        _b = (float*)NativeMemory.AlignedAlloc(bytes, 64);
        _c = (float*)NativeMemory.AlignedAlloc(bytes, 64);
        var rng = new Random(42);
        for (long i = 0; i < (long)N * N; i++)
        {
            _a[i] = (float)(rng.NextDouble() - 0.5);
            _b[i] = (float)(rng.NextDouble() - 0.5);
            _c[i] = 0f;
        }
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        NativeMemory.AlignedFree(_a);
        NativeMemory.AlignedFree(_b);
        NativeMemory.AlignedFree(_c);
        _a = _b = _c = null;
    }

    [Benchmark]
    public void SgemmParallel() => CpuGemm.Sgemm(false, false, N, N, N, 1f, _a, N, _b, N, 0f, _c, N, parallel: true);
}
