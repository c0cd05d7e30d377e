// Typed access to the kernel cache: Load(kernel) gives the kernel (a static method of Kernels/*.cs) as an explicitly
// grouped ILGPU launcher, Action<stream, config, arguments...>, compiled on first use (GpuBackend.Kernel). One overload
// per argument count, since ILGPU's loaders are typed by arity.
using ILGPU;
using ILGPU.Runtime;

namespace Standalone.Backends.Gpu;

public sealed partial class GpuBackend
{
    internal Action<AcceleratorStream, KernelConfig, T1> Load<T1>(Action<T1> kernel) where T1 : struct =>
        Kernel(kernel, static (accelerator, k) => accelerator.LoadKernel(k));

    internal Action<AcceleratorStream, KernelConfig, T1, T2> Load<T1, T2>(Action<T1, T2> kernel) where T1 : struct where T2 : struct =>
        Kernel(kernel, static (accelerator, k) => accelerator.LoadKernel(k));

    internal Action<AcceleratorStream, KernelConfig, T1, T2, T3> Load<T1, T2, T3>(Action<T1, T2, T3> kernel) where T1 : struct where T2 : struct where T3 : struct =>
        Kernel(kernel, static (accelerator, k) => accelerator.LoadKernel(k));

    internal Action<AcceleratorStream, KernelConfig, T1, T2, T3, T4> Load<T1, T2, T3, T4>(Action<T1, T2, T3, T4> kernel) where T1 : struct where T2 : struct where T3 : struct where T4 : struct =>
        Kernel(kernel, static (accelerator, k) => accelerator.LoadKernel(k));

    internal Action<AcceleratorStream, KernelConfig, T1, T2, T3, T4, T5> Load<T1, T2, T3, T4, T5>(Action<T1, T2, T3, T4, T5> kernel) where T1 : struct where T2 : struct where T3 : struct where T4 : struct where T5 : struct =>
        Kernel(kernel, static (accelerator, k) => accelerator.LoadKernel(k));

    internal Action<AcceleratorStream, KernelConfig, T1, T2, T3, T4, T5, T6> Load<T1, T2, T3, T4, T5, T6>(Action<T1, T2, T3, T4, T5, T6> kernel) where T1 : struct where T2 : struct where T3 : struct where T4 : struct where T5 : struct where T6 : struct =>
        Kernel(kernel, static (accelerator, k) => accelerator.LoadKernel(k));

    internal Action<AcceleratorStream, KernelConfig, T1, T2, T3, T4, T5, T6, T7> Load<T1, T2, T3, T4, T5, T6, T7>(Action<T1, T2, T3, T4, T5, T6, T7> kernel) where T1 : struct where T2 : struct where T3 : struct where T4 : struct where T5 : struct where T6 : struct where T7 : struct =>
        Kernel(kernel, static (accelerator, k) => accelerator.LoadKernel(k));

    internal Action<AcceleratorStream, KernelConfig, T1, T2, T3, T4, T5, T6, T7, T8> Load<T1, T2, T3, T4, T5, T6, T7, T8>(Action<T1, T2, T3, T4, T5, T6, T7, T8> kernel) where T1 : struct where T2 : struct where T3 : struct where T4 : struct where T5 : struct where T6 : struct where T7 : struct where T8 : struct =>
        Kernel(kernel, static (accelerator, k) => accelerator.LoadKernel(k));

    internal Action<AcceleratorStream, KernelConfig, T1, T2, T3, T4, T5, T6, T7, T8, T9> Load<T1, T2, T3, T4, T5, T6, T7, T8, T9>(Action<T1, T2, T3, T4, T5, T6, T7, T8, T9> kernel) where T1 : struct where T2 : struct where T3 : struct where T4 : struct where T5 : struct where T6 : struct where T7 : struct where T8 : struct where T9 : struct =>
        Kernel(kernel, static (accelerator, k) => accelerator.LoadKernel(k));

    internal Action<AcceleratorStream, KernelConfig, T1, T2, T3, T4, T5, T6, T7, T8, T9, T10> Load<T1, T2, T3, T4, T5, T6, T7, T8, T9, T10>(Action<T1, T2, T3, T4, T5, T6, T7, T8, T9, T10> kernel) where T1 : struct where T2 : struct where T3 : struct where T4 : struct where T5 : struct where T6 : struct where T7 : struct where T8 : struct where T9 : struct where T10 : struct =>
        Kernel(kernel, static (accelerator, k) => accelerator.LoadKernel(k));
}
