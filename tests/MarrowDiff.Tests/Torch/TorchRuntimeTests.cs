using MarrowDiff.Torch;
using static TorchSharp.torch;

namespace MarrowDiff.Tests.Torch;

public class TorchRuntimeTests
{
    [Fact]
    public void Report_LoadsThePackagesLibTorch210_FromNextToTheDll()
    {
        TorchReport report = TorchRuntime.Report();
        Assert.StartsWith("2.10", report.LibTorchVersion);
        Assert.Contains(report.MappedLibraries, p => p.EndsWith("/libtorch_cpu.so", StringComparison.Ordinal));
        Assert.True(report.AllFromPackage, "libtorch mapped from elsewhere:\n" + report);
        using Tensor t = ones(3, 3, device: TorchRuntime.Device).matmul(ones(3, 3, device: TorchRuntime.Device));
        Assert.Equal(27f, t.sum().item<float>());
    }

    /// <summary>glibc is told to keep freed tensor buffers for reuse (<see cref="TorchRuntime.KeepFreedTensorMemory"/>).
    /// What it buys is a speed, so it is measured where speeds are: `marrow bench --model` prints each path's page faults.</summary>
    [SkippableFact]
    public void OnLinux_FreedTensorMemoryIsKept_UnlessTheUserSetsMallocVariables()
    {
        Skip.IfNot(OperatingSystem.IsLinux(), "glibc's allocator is Linux's");
        Skip.If(TorchRuntime.UserSetsMalloc, "the user's own MALLOC_ settings rule");
        TorchRuntime.Initialise();
        Assert.True(TorchRuntime.KeepFreedTensorMemory);
    }

    /// <summary>The counter `marrow bench --model` prints must be the process's minor faults (field 10 of
    /// /proc/self/stat), not another field: touching 64 MiB of fresh pages must raise it by at least half their count.</summary>
    [SkippableFact]
    public void MinorPageFaults_CountsTheFreshPagesTouched()
    {
        Skip.IfNot(OperatingSystem.IsLinux(), "/proc/self/stat is Linux's");
        const int bytes = 64 << 20, page = 4096;
        // A new anonymous mapping, not the managed heap or malloc, which may hand back pages already touched.
        using var map = System.IO.MemoryMappedFiles.MemoryMappedFile.CreateNew(null, bytes);
        using var view = map.CreateViewAccessor();
        long before = TorchRuntime.MinorPageFaults()!.Value;
        for (int i = 0; i < bytes; i += page) view.Write(i, (byte)1);
        long after = TorchRuntime.MinorPageFaults()!.Value;
        Assert.True(after - before >= bytes / page / 2, $"{after - before} minor faults for {bytes / page} fresh pages touched");
    }

    [Fact]
    public void Seed_MakesTorchRandomnessRepeatable()
    {
        TorchRuntime.Seed(42);
        float[] a = randn(5).data<float>().ToArray();
        TorchRuntime.Seed(42);
        float[] b = randn(5).data<float>().ToArray();
        Assert.Equal(a, b);
    }

    /// <summary>A foreign libtorch earlier on the search path (a conda or pip PyTorch on LD_LIBRARY_PATH, or
    /// Debian's python3-torch in /usr/lib) must not be bound. The decoys here are not even libtorch: if the
    /// loader picked them, loading would fail.</summary>
    [SkippableFact]
    public void Doctor_WithDecoyLibTorchOnLibraryPath_StillLoadsThePackage()
    {
        Skip.IfNot(OperatingSystem.IsLinux(), "LD_LIBRARY_PATH and /proc/self/maps are Linux's");
        string decoys = Directory.CreateTempSubdirectory("marrow-decoy-libtorch-").FullName;
        try
        {
            string someLibrary = new[] { "/usr/lib/x86_64-linux-gnu/libz.so.1", "/lib/x86_64-linux-gnu/libz.so.1", "/usr/lib64/libz.so.1" }.First(File.Exists);
            foreach (string name in new[] { "libtorch.so", "libc10.so", "libtorch_cpu.so" }) File.Copy(someLibrary, Path.Combine(decoys, name));
            var (code, output) = MarrowProcess.Run(["doctor"], MarrowProcess.ShortCommand, new Dictionary<string, string> { ["LD_LIBRARY_PATH"] = decoys });
            Assert.True(code == 0, output);
            Assert.Contains("libtorch 2.10", output);
            Assert.DoesNotContain(decoys, output);
            Assert.Contains(Path.Combine(AppContext.BaseDirectory, "libtorch_cpu.so"), output);
        }
        finally { Directory.Delete(decoys, recursive: true); }
    }
}
