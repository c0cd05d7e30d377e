// BenchmarkDotNet entry point for the micro-benchmarks:
//   dotnet run -c Release --project bench/Standalone.Bench -- --filter '*Sgemm*'
// The end-to-end throughput numbers come from `standalone bench` (src/Models/Benchmarks/ThroughputBenchmark.cs).
using BenchmarkDotNet.Running;

BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
