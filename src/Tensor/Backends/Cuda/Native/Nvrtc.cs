// NVRTC, the CUDA run-time compiler (libnvrtc.so.*), loaded on first use from the newest copy this machine has
// (NativeProbe): the CUDA backend compiles its kernel sources to PTX with it, so no toolkit is needed at build time,
// and a newer NVRTC knows newer GPUs. Bound through function pointers after NativeLibrary.Load, since its soname
// changes with every CUDA release (libnvrtc.so.11.2, .12, .13). Status codes become CudaException through Check.
using System.Runtime.InteropServices;
using System.Text;

namespace Standalone.Backends.Cuda.Native;

internal static unsafe class Nvrtc
{
    /// <summary>The sonames NVRTC has shipped under, newest first (11.2 to 11.8 all kept libnvrtc.so.11.2).</summary>
    private static readonly string[] Sonames =
        ["libnvrtc.so", "libnvrtc.so.13", "libnvrtc.so.12", "libnvrtc.so.11.2", "libnvrtc.so.11.1", "libnvrtc.so.11.0", "libnvrtc.so.10.2", "libnvrtc.so.10.1", "libnvrtc.so.10.0"];

    private static readonly Lazy<(Entries? Loaded, string? Unavailable)> State = new(() =>
        NativeProbe.Load("NVRTC", "libnvrtc", Sonames, "cuda_nvrtc", "nvrtcVersion", ReadVersion, found => new Entries(found)));

    /// <summary>True when an NVRTC library loaded (looked for once, on first use).</summary>
    public static bool Available => State.Value.Loaded != null;

    /// <summary>Why NVRTC is not available, or null when it is.</summary>
    public static string? Unavailable => State.Value.Unavailable;

    /// <summary>NVRTC's version (nvrtcVersion), (0, 0) when unavailable.</summary>
    public static (int Major, int Minor) Version => State.Value.Loaded is { } e ? (e.Found.Version.Major, e.Found.Version.Minor) : (0, 0);

    /// <summary>The file NVRTC was loaded from, or null when unavailable.</summary>
    public static string? LibraryPath => State.Value.Loaded?.Found.Path;

    /// <summary>The virtual architectures it compiles for, as 10·major + minor (70 = compute_70), ascending.</summary>
    public static IReadOnlyList<int> SupportedArchs => State.Value.Loaded?.Archs ?? [];

    /// <summary>
    /// Compiles one CUDA C++ source; returns the status of nvrtcCompileProgram, its log (warnings, or the errors), and
    /// on success the PTX text, NUL-terminated as cuModuleLoadData wants it.
    /// </summary>
    public static (int Status, string Log, byte[]? Ptx) Compile(string name, string source, IReadOnlyList<string> options)
    {
        var e = State.Value.Loaded ?? throw new InvalidOperationException($"CUDA: NVRTC is not available ({Unavailable})");
        nint program;
        var sourceBytes = Encoding.UTF8.GetBytes(source + "\0");
        var nameBytes = Encoding.UTF8.GetBytes(name + "\0");
        fixed (byte* s = sourceBytes, n = nameBytes) Check(e.CreateProgram(&program, s, n, 0, null, null), $"nvrtcCreateProgram({name})");
        try
        {
            var optionBytes = options.Select(o => Encoding.UTF8.GetBytes(o + "\0")).ToArray();
            var handles = optionBytes.Select(b => GCHandle.Alloc(b, GCHandleType.Pinned)).ToArray();
            int status;
            try
            {
                var pointers = handles.Select(h => h.AddrOfPinnedObject()).ToArray();
                fixed (nint* o = pointers) status = e.CompileProgram(program, pointers.Length, (byte**)o);
            }
            finally
            {
                foreach (var handle in handles) handle.Free();
            }
            nuint logSize;
            Check(e.GetProgramLogSize(program, &logSize), $"nvrtcGetProgramLogSize({name})");
            var log = new byte[(int)logSize];
            fixed (byte* l = log) Check(e.GetProgramLog(program, l), $"nvrtcGetProgramLog({name})");
            string logText = Encoding.UTF8.GetString(log).TrimEnd('\0');
            if (status != 0) return (status, logText, null);
            nuint ptxSize;
            Check(e.GetPtxSize(program, &ptxSize), $"nvrtcGetPTXSize({name})");
            var ptx = new byte[(int)ptxSize]; // includes the terminating NUL
            fixed (byte* p = ptx) Check(e.GetPtx(program, p), $"nvrtcGetPTX({name})");
            return (0, logText, ptx);
        }
        finally
        {
            e.DestroyProgram(&program);
        }
    }

    /// <summary>Throws <see cref="CudaException"/> naming the call and the status when status is not NVRTC_SUCCESS.</summary>
    public static void Check(int status, string call)
    {
        if (status == 0) return;
        bool listed = !CudaException.StatusName(status, CudaLibrary.Nvrtc).StartsWith("unknown", StringComparison.Ordinal);
        string? text = listed || State.Value.Loaded is not { } e ? null : Marshal.PtrToStringUTF8((nint)e.GetErrorString(status));
        throw new CudaException(call, status, text == null ? null : $"NVRTC calls it {text}", CudaLibrary.Nvrtc);
    }

    private static Version? ReadVersion(nint library)
    {
        if (!NativeLibrary.TryGetExport(library, "nvrtcVersion", out var entry)) return null;
        int major, minor;
        return ((delegate* unmanaged<int*, int*, int>)entry)(&major, &minor) == 0 ? new Version(major, minor) : null;
    }

    /// <summary>The entry points of the loaded library (nvrtc.h; nvrtcProgram = nint, size_t = nuint, char = byte).</summary>
    private sealed class Entries
    {
        public readonly NativeProbe.Found Found;
        public readonly IReadOnlyList<int> Archs;
        public readonly delegate* unmanaged<int, byte*> GetErrorString;
        public readonly delegate* unmanaged<nint*, byte*, byte*, int, byte**, byte**, int> CreateProgram;
        public readonly delegate* unmanaged<nint*, int> DestroyProgram;
        public readonly delegate* unmanaged<nint, int, byte**, int> CompileProgram;
        public readonly delegate* unmanaged<nint, nuint*, int> GetProgramLogSize, GetPtxSize;
        public readonly delegate* unmanaged<nint, byte*, int> GetProgramLog, GetPtx;

        public Entries(NativeProbe.Found found)
        {
            Found = found;
            nint library = found.Handle;
            GetErrorString = (delegate* unmanaged<int, byte*>)NativeLibrary.GetExport(library, "nvrtcGetErrorString");
            CreateProgram = (delegate* unmanaged<nint*, byte*, byte*, int, byte**, byte**, int>)NativeLibrary.GetExport(library, "nvrtcCreateProgram");
            DestroyProgram = (delegate* unmanaged<nint*, int>)NativeLibrary.GetExport(library, "nvrtcDestroyProgram");
            CompileProgram = (delegate* unmanaged<nint, int, byte**, int>)NativeLibrary.GetExport(library, "nvrtcCompileProgram");
            GetProgramLogSize = (delegate* unmanaged<nint, nuint*, int>)NativeLibrary.GetExport(library, "nvrtcGetProgramLogSize");
            GetProgramLog = (delegate* unmanaged<nint, byte*, int>)NativeLibrary.GetExport(library, "nvrtcGetProgramLog");
            GetPtxSize = (delegate* unmanaged<nint, nuint*, int>)NativeLibrary.GetExport(library, "nvrtcGetPTXSize");
            GetPtx = (delegate* unmanaged<nint, byte*, int>)NativeLibrary.GetExport(library, "nvrtcGetPTX");
            Archs = ReadArchs(library, found.Version);
        }

        /// <summary>
        /// nvrtcGetSupportedArchs (NVRTC 11.2+); older releases lack it, and their lists are fixed by their release notes.
        /// </summary>
        private static IReadOnlyList<int> ReadArchs(nint library, Version version)
        {
            if (NativeLibrary.TryGetExport(library, "nvrtcGetNumSupportedArchs", out var countEntry) &&
                NativeLibrary.TryGetExport(library, "nvrtcGetSupportedArchs", out var listEntry))
            {
                int count;
                if (((delegate* unmanaged<int*, int>)countEntry)(&count) == 0 && count > 0)
                {
                    var archs = new int[count];
                    fixed (int* a = archs)
                        if (((delegate* unmanaged<int*, int>)listEntry)(a) == 0) return [.. archs.Order()];
                }
            }
            int[] cuda10 = [30, 32, 35, 37, 50, 52, 53, 60, 61, 62, 70, 72, 75];
            return version.Major < 11 ? cuda10 : version.Minor == 0 ? [.. cuda10[2..], 80] : [.. cuda10[2..], 80, 86];
        }
    }
}
