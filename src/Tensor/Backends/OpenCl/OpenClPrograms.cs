// Compiles the kernel files for one device on first use and keeps the kernels. Built programs are also cached on disk
// (STANDALONE_CACHE, else $XDG_CACHE_HOME or ~/.cache, under standalone/opencl/), keyed by a hash of the device,
// driver, build options and full source, so a second process skips the compiler; a cached binary the driver rejects
// is rebuilt from source. A failed build throws with the build log and the numbered source.
using System.Text;
using Standalone.Backends.OpenCl.Native;
using Standalone.Kernels;

namespace Standalone.Backends.OpenCl;

internal sealed unsafe class OpenClPrograms
{
    private const string Options = "-cl-std=CL1.2";
    private readonly nint _context;
    private readonly OpenClDeviceInfo _device;
    private readonly Dictionary<string, nint> _programs = new();
    private readonly Dictionary<(string File, string Kernel), nint> _kernels = new();
    private readonly object _lock = new();

    public OpenClPrograms(nint context, OpenClDeviceInfo device)
    {
        _context = context;
        _device = device;
    }

    /// <summary>Where built programs are cached, or null when caching is off (STANDALONE_CACHE=off).</summary>
    public static string? CacheDirectory => KernelCache.Folder("opencl");

    /// <summary>The kernel <paramref name="name"/> of <paramref name="file"/>, building the file's program if needed.</summary>
    public nint Kernel(string file, string name)
    {
        lock (_lock)
        {
            if (_kernels.TryGetValue((file, name), out var kernel)) return kernel;
            if (!_programs.TryGetValue(file, out var program)) _programs[file] = program = Build(file);
            int status;
            var bytes = Encoding.ASCII.GetBytes(name + "\0");
            fixed (byte* p = bytes) kernel = Cl.clCreateKernel(program, p, &status);
            if (status != 0) throw new ClException($"clCreateKernel({file}:{name})", status);
            _kernels[(file, name)] = kernel;
            return kernel;
        }
    }

    /// <summary>Builds every kernel file now (tests, and a warm-up that moves compile time out of the first step).</summary>
    public void BuildAll()
    {
        lock (_lock)
            foreach (var file in KernelSources.Files)
                if (!_programs.ContainsKey(file)) _programs[file] = Build(file);
    }

    private nint Build(string file) => Build(file, KernelSources.Program(file, KernelDialect.OpenCl));

    /// <summary>Builds a program from full source text (tests use it to check the build-failure report).</summary>
    internal nint Build(string file, string source)
    {
        string key = KernelSources.Hash(string.Join("\n", _device.PlatformName, _device.PlatformVersion, _device.Name, _device.Version, _device.DriverVersion, Options, source));
        string? cached = CacheDirectory is { } dir ? Path.Combine(dir, $"{Path.GetFileNameWithoutExtension(file)}-{key}.bin") : null;
        if (cached != null && File.Exists(cached) && TryFromBinary(File.ReadAllBytes(cached)) is { } fromCache) return fromCache;

        int status;
        nint program;
        var text = Encoding.UTF8.GetBytes(source);
        fixed (byte* p = text)
        {
            byte* sources = p;
            nuint length = (nuint)text.Length;
            program = Cl.clCreateProgramWithSource(_context, 1, &sources, &length, &status);
        }
        Cl.Check(status, $"clCreateProgramWithSource({file})");
        status = BuildProgram(program);
        if (status != 0)
        {
            string log = BuildLog(program);
            Cl.clReleaseProgram(program);
            throw new ClException($"clBuildProgram({file}) on {_device.Name}", status, $"build log:\n{log}\nsource:\n{KernelSources.Numbered(source)}");
        }
        if (cached != null) TrySave(program, cached);
        return program;
    }

    private int BuildProgram(nint program)
    {
        var options = Encoding.ASCII.GetBytes(Options + "\0");
        nint device = _device.Handle;
        fixed (byte* o = options) return Cl.clBuildProgram(program, 1, &device, o, 0, 0);
    }

    private nint? TryFromBinary(byte[] binary)
    {
        int status, binaryStatus;
        nint device = _device.Handle;
        nint program;
        fixed (byte* b = binary)
        {
            nuint length = (nuint)binary.Length;
            byte* binaries = b;
            program = Cl.clCreateProgramWithBinary(_context, 1, &device, &length, &binaries, &binaryStatus, &status);
        }
        if (status != 0 || binaryStatus != 0) return null;
        if (BuildProgram(program) != 0)
        {
            Cl.clReleaseProgram(program);
            return null;
        }
        return program;
    }

    private void TrySave(nint program, string path)
    {
        nuint size;
        if (Cl.clGetProgramInfo(program, Cl.ProgramBinarySizes, (nuint)sizeof(nuint), &size, null) != 0 || size == 0) return;
        var binary = new byte[(int)size];
        fixed (byte* b = binary)
        {
            byte* pointer = b;
            if (Cl.clGetProgramInfo(program, Cl.ProgramBinaries, (nuint)sizeof(nint), &pointer, null) != 0) return;
        }
        KernelCache.TryWrite(path, binary); // a cache that cannot be written only costs a rebuild next time
    }

    private string BuildLog(nint program)
    {
        nuint size;
        if (Cl.clGetProgramBuildInfo(program, _device.Handle, Cl.ProgramBuildLog, 0, null, &size) != 0) return "(no build log)";
        var bytes = new byte[(int)size];
        fixed (byte* b = bytes) Cl.clGetProgramBuildInfo(program, _device.Handle, Cl.ProgramBuildLog, size, b, null);
        return Encoding.UTF8.GetString(bytes).TrimEnd('\0');
    }
}
