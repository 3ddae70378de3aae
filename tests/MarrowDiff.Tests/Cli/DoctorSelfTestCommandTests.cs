
namespace MarrowDiff.Tests.Cli;

/// <summary>`marrow doctor --selftest`, the command a user runs on their own CPU.</summary>
public class DoctorSelfTestCommandTests
{
    [Fact]
    public void SelfTest_ReportsTheCpuAndEachCheck_AndExitsByWhatMatters()
    {
        var (code, output) = MarrowProcess.Run(["doctor", "--selftest", "--iterations", "20"], MarrowProcess.ShortCommand);
        Assert.Contains("CPU: ", output);
        Assert.Contains("8 channels as plain nn.Conv2d runs them", output);
        Assert.Contains("ok   8 channels as MarrowDiff runs them", output);
        Assert.Contains("ok   16 channels as MarrowDiff runs them", output);
        // 0 on a clean CPU; 3 on one with the narrow-kernel fault (training still safe); 1 only if what trains fails.
        Assert.True(code is 0 or 3, $"exit {code}:\n{output}");
        Assert.Contains(code == 0 ? "All passed" : "MarrowDiff never runs such a convolution", output);
    }

    [Fact]
    public void Doctor_RejectsAnUnknownOption()
    {
        var (code, output) = MarrowProcess.Run(["doctor", "--selftets"], MarrowProcess.ShortCommand);
        Assert.Equal(2, code); // a usage error
        Assert.Contains("--selftets", output);
    }
}
