using System.Runtime.InteropServices;
using TorchSharp;
using static TorchSharp.torch;

namespace MarrowDiff.Torch;

/// <summary>
/// The one place that loads libtorch, chooses the device and seeds every random source.
/// Call <see cref="Initialise"/> (or any member) before the first TorchSharp call.
/// </summary>
public static class TorchRuntime
{
    private static readonly Lock Gate = new();
    private static bool _loaded;

    /// <summary>Native libraries preloaded by full path, leaf first. libLibTorchSharp's RUNPATH is searched
    /// *after* LD_LIBRARY_PATH, so without this a foreign libtorch on that path (a conda or pip PyTorch, or
    /// Debian's python3-torch in the default path) could be bound instead of the package's 2.10. A library
    /// loaded by path is matched by its SONAME when later ones name it, so each NEEDED entry resolves here.</summary>
    private static readonly string[] LinuxPreload = ["libc10.so", "libtorch_cpu.so", "libtorch_cuda.so", "libtorch.so", "libLibTorchSharp.so"];

    /// <summary>The environment variable that chooses the device (<c>marrow --device</c> sets it): auto, cpu or cuda.
    /// An environment variable, not a setting of this process alone, so that notebook workers inherit it.</summary>
    public const string DeviceVariable = "MarrowDevice";

    /// <summary>The device every model and tensor is placed on. <see cref="DeviceVariable"/> auto (or unset): CUDA when a
    /// GPU and the CUDA build are present, else CPU; cpu: the CPU even beside a GPU; cuda: the GPU, or an error saying
    /// why there is none.</summary>
    public static Device Device
    {
        get
        {
            Initialise();
            string asked = Environment.GetEnvironmentVariable(DeviceVariable)?.Trim().ToLowerInvariant() is { Length: > 0 } v ? v : "auto";
            return asked switch
            {
                "auto" => cuda.is_available() ? CUDA : CPU,
                "cpu" => CPU,
                "cuda" => cuda.is_available() ? CUDA : throw new InvalidOperationException(
                    $"{DeviceVariable}=cuda (--device cuda): no CUDA device here, or this build carries the CPU libtorch " +
                    "(build with MarrowTorchBackend=cuda in the environment; see the README's GPU section)"),
                _ => throw new ArgumentException($"{DeviceVariable}={asked}: use auto, cpu or cuda"),
            };
        }
    }

    /// <summary>Loads the package's libtorch from next to TorchSharp.dll. Idempotent and thread-safe.</summary>
    public static void Initialise()
    {
        lock (Gate)
        {
            if (_loaded) return;
            if (OperatingSystem.IsLinux())
            {
                string dir = NativeDirectory;
                foreach (string name in LinuxPreload)
                {
                    string path = Path.Combine(dir, name);
                    if (File.Exists(path)) NativeLibrary.Load(path);
                    else if (name is "libc10.so" or "libtorch_cpu.so" or "libLibTorchSharp.so")
                        throw new DllNotFoundException(
                            $"{path} is missing. MarrowDiff needs libtorch next to TorchSharp.dll: build with a RuntimeIdentifier " +
                            "(Directory.Build.props sets one) and load the library from its build output.");
                }
            }
            _ = torch.get_num_threads(); // forces TorchSharp's own initialisation now, with the libraries above
            KeepFreedTensorMemory = TryKeepFreedTensorMemory();
            _loaded = true;
        }
    }

    /// <summary>Whether <see cref="Initialise"/> told glibc's allocator to keep freed tensor buffers for reuse (see
    /// <see cref="TryKeepFreedTensorMemory"/>); false off Linux, or where the user's own MALLOC_ settings rule.</summary>
    public static bool KeepFreedTensorMemory { get; private set; }

    /// <summary>Whether the environment sets any of glibc's MALLOC_ variables: then they rule, and nothing is changed.</summary>
    public static bool UserSetsMalloc =>
        Environment.GetEnvironmentVariables().Keys.Cast<string>().Any(k => k.StartsWith("MALLOC_", StringComparison.Ordinal));

    /// <summary>
    /// Tells glibc to serve LibTorch's tensor buffers up to 32 MB from its heap and to keep freed memory there, instead
    /// of mapping each large buffer fresh from the kernel and handing it back when freed. Why: by default glibc adapts
    /// its mmap threshold but trims the heap whenever more than twice that lies free at its top, which an inference
    /// pass does after every batch (a batch of 100 cells at 1/8 width frees tensors of 29.5 MB each); every new page
    /// of the next batch then costs a page fault and the kernel zeroing it; keeping them removes most of those faults and
    /// buys cells per second (measured: docs/measurements.md, "Freed tensor memory kept"). Numbers are unchanged: the memory a kernel reads is
    /// the same, only where it comes from differs. The price: memory freed by a forward pass stays with the process
    /// (a few hundred MB at most here). A user who sets any MALLOC_ variable keeps their own settings.
    /// </summary>
    private static bool TryKeepFreedTensorMemory()
    {
        if (!OperatingSystem.IsLinux()) return false;
        if (UserSetsMalloc) return false;
        try
        {
            // Setting any of these also stops glibc's own adaptation, so all three are set together.
            return MallOpt(MmapThreshold, 32 << 20) == 1 && MallOpt(TrimThreshold, int.MaxValue) == 1 && MallOpt(TopPad, 256 << 20) == 1;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return false; // not glibc (musl): its allocator has no such settings
        }
    }

    /// <summary>Minor page faults of this process so far (field 10 of /proc/self/stat), or null off Linux: how often
    /// the kernel had to map and zero a fresh page, which <see cref="KeepFreedTensorMemory"/> is there to avoid.</summary>
    public static long? MinorPageFaults() =>
        OperatingSystem.IsLinux() ? long.Parse(File.ReadAllText("/proc/self/stat").Split(") ")[1].Split(' ')[7], System.Globalization.CultureInfo.InvariantCulture) : null;

    private const int TrimThreshold = -1, TopPad = -2, MmapThreshold = -3; // malloc.h: M_TRIM_THRESHOLD, M_TOP_PAD, M_MMAP_THRESHOLD

    [DllImport("libc.so.6", EntryPoint = "mallopt")]
    private static extern int MallOpt(int parameter, int value);

    /// <summary>
    /// Channels per block of oneDNN's widest CPU kernels here: 16 floats fill an AVX-512 register, 8 an AVX2 one.
    /// <c>Model.BlockAlignedConv2d</c> gives oneDNN only whole blocks of this size (docs/engine.md, "The AVX-512 fault"). Decided from
    /// what the CPU reports, not from a self-test outcome: the fault comes and goes, a clean self-test proves nothing.
    /// </summary>
    public static int ConvolutionChannelBlock { get; } = CpuInfo.Current().Avx512 ? 16 : 8;

    /// <summary>Folder holding TorchSharp.dll and, with a RuntimeIdentifier build, the native libraries.</summary>
    public static string NativeDirectory => Path.GetDirectoryName(typeof(torch).Assembly.Location)!;

    /// <summary>Seeds torch (CPU and CUDA generators) for a run. MarrowDiff's own randomness (phantom, splits,
    /// shuffling) never uses a global generator: it derives <see cref="Core.Rng"/> streams from the same seed.</summary>
    public static void Seed(int seed)
    {
        Initialise();
        torch.manual_seed(seed);
        if (cuda.is_available()) torch.cuda.manual_seed_all(seed);
    }

    /// <summary>What was loaded, from where: for `marrow doctor` and the loading test.</summary>
    public static TorchReport Report()
    {
        Initialise();
        var mapped = OperatingSystem.IsLinux()
            ? File.ReadLines("/proc/self/maps")
                  .Select(l => l.IndexOf('/') is var i and >= 0 ? l[i..].Trim() : "")
                  .Where(p => Path.GetFileName(p) is var f && (f.StartsWith("libtorch", StringComparison.Ordinal) || f.StartsWith("libc10", StringComparison.Ordinal) || f == "libLibTorchSharp.so"))
                  .Distinct().Order().ToArray()
            : [];
        return new TorchReport(torch.__version__, Device.type.ToString(), torch.get_num_threads(), NativeDirectory, mapped);
    }

    /// <summary>
    /// Runs one step of torch work (a training step, an evaluation batch) with the garbage collector held off where it
    /// can be. Why: TorchSharp 0.107 passes a temporary <c>Scalar</c>'s raw handle to native code without keeping the
    /// managed object alive, so a collection during the native call lets the finalizer free the scalar while libtorch
    /// still reads it ("Unknown scalar type", "alpha must not be a floating point number" late in long runs). The fix
    /// is at the root: the project's hot paths pass no temporary Scalar (the SGD update holds its Scalars, BatchNorm2d
    /// owns its 1); tested by training with a thread collecting in a loop. This region is only a second line for
    /// TorchSharp internals not audited, and it is not a guarantee: its budget can run out (the batch loader's thread
    /// allocates too) and any induced collection ends it.
    /// </summary>
    public static T Step<T>(Func<T> work)
    {
        bool quiet = false;
        try { quiet = GC.TryStartNoGCRegion(NoGcBudget); }
        catch (InvalidOperationException) { /* already in a no-GC region (nested step) */ }
        try { return work(); }
        finally
        {
            if (quiet)
            {
                // A collection induced elsewhere (or the budget running out) may have ended the region already.
                try { if (System.Runtime.GCSettings.LatencyMode == System.Runtime.GCLatencyMode.NoGCRegion) GC.EndNoGCRegion(); }
                catch (InvalidOperationException) { }
            }
        }
    }

    /// <summary>Managed bytes a step may allocate before the collector must run anyway (tensor wrappers, small arrays).</summary>
    private const long NoGcBudget = 64L * 1024 * 1024;
}

/// <param name="LibTorchVersion">LibTorch version TorchSharp reports (the package's, e.g. 2.10.0.0).</param>
/// <param name="Device">"CPU" or "CUDA".</param>
/// <param name="Threads">Intra-op threads.</param>
/// <param name="NativeDirectory">Where TorchSharp.dll and its natives were loaded from.</param>
/// <param name="MappedLibraries">libtorch*/libc10* files mapped into this process (Linux), absolute paths.</param>
public sealed record TorchReport(string LibTorchVersion, string Device, int Threads, string NativeDirectory, IReadOnlyList<string> MappedLibraries)
{
    /// <summary>True when every mapped libtorch file comes from <see cref="NativeDirectory"/>.</summary>
    public bool AllFromPackage => MappedLibraries.Count > 0 &&
        MappedLibraries.All(p => string.Equals(Path.GetDirectoryName(p), NativeDirectory.TrimEnd('/'), StringComparison.Ordinal));

    public override string ToString() =>
        $"libtorch {LibTorchVersion} on {Device}, {Threads} threads, from {NativeDirectory}\n" +
        string.Join("\n", MappedLibraries.Select(m => "  mapped: " + m));

}
