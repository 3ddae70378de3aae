using System.Diagnostics;
using System.Text.Json;
using MarrowDiff.Workbooks;

namespace MarrowDiff.Tests.Architecture;

/// <summary>The GPU in one switch: the environment variable MarrowTorchBackend (MSBuild reads environment variables as
/// properties) selects TorchSharp's CUDA package instead of the CPU one. Checked by evaluating the project, without a
/// restore: the CUDA package is not served on these machines, and a user's GPU build must not be attempted here.</summary>
public class GpuSwitchTests
{
    private static IReadOnlyList<string> TorchPackages(string? backend)
    {
        var start = new ProcessStartInfo("dotnet", ["msbuild", Path.Combine(Workbook.RepositoryRoot, "lib", "MarrowDiff", "MarrowDiff.csproj"), "-getItem:PackageReference"])
        {
            RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
        };
        start.Environment.Remove("MarrowTorchBackend");
        if (backend is not null) start.Environment["MarrowTorchBackend"] = backend;
        using var p = Process.Start(start)!;
        string output = p.StandardOutput.ReadToEnd();
        string errors = p.StandardError.ReadToEnd();
        Assert.True(p.WaitForExit(TimeSpan.FromMinutes(2)), "dotnet msbuild -getItem did not finish");
        Assert.True(p.ExitCode == 0, output + errors);
        using var json = JsonDocument.Parse(output);
        return [.. json.RootElement.GetProperty("Items").GetProperty("PackageReference").EnumerateArray()
                     .Select(i => i.GetProperty("Identity").GetString()!).Where(id => id.StartsWith("TorchSharp", StringComparison.Ordinal))];
    }

    [Fact]
    public void TheEnvironmentVariable_SelectsTheCudaPackage_AndItsAbsenceTheCpuOne()
    {
        Assert.Equal(["TorchSharp-cpu"], TorchPackages(null));
        Assert.Equal(["TorchSharp-cuda-linux"], TorchPackages("cuda"));
    }
}
