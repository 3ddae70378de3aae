using MarrowDiff.Cli;

namespace MarrowDiff.Tests.Cli;

/// <summary>The command line's grammar (System.CommandLine): what it accepts, and what it refuses as a usage error
/// (exit 2) before any work starts.</summary>
public class CommandLineTests
{
    private static readonly string[] Names = ["notebooks", "synth", "prepare", "train", "evaluate", "errors", "count", "audit", "fuzz", "scale", "bench", "doctor", "learning-curve", "real-table1", "predict", "real-cells", "labels", "envelope"];

    public static TheoryData<string> CommandNames => [.. Names];

    [Fact]
    public void TheListAbove_IsEveryCommand() => Assert.Equal(Names.Order(), Program.Commands().Subcommands.Select(c => c.Name).Order());

    [Fact]
    public void TheProfileHelp_NamesEveryProfileOfTheRegistry()
    {
        var option = Program.Commands().Subcommands.Single(c => c.Name == "train").Options.Single(o => o.Name == "--profile");
        Assert.All(MarrowDiff.Experiments.ExperimentProfile.All, p => Assert.Contains(p.Name, option.Description));
    }

    [Theory]
    [MemberData(nameof(CommandNames))]
    public void EveryCommand_HasADescription_AndDescribedOptions(string name)
    {
        var command = Program.Commands().Subcommands.Single(c => c.Name == name);
        Assert.False(string.IsNullOrWhiteSpace(command.Description));
        Assert.All(command.Options, o => Assert.False(string.IsNullOrWhiteSpace(o.Description), $"{name} {o.Name}: no description"));
    }

    [Theory]
    [InlineData("train --data phantom --variant AG+OS60 --out /tmp/m --set epochs=3 --set cv_epochs=1")]
    [InlineData("errors --model /a --model /b --local /c --data phantom --out /tmp/e")]
    [InlineData("notebooks a.ipynb b.ipynb --profile smoke --seed 11 --cell-timeout 15")]
    [InlineData("doctor --selftest --iterations 20")]
    [InlineData("audit --data phantom")]
    [InlineData("bench --width 0.125 --input 48 --patch 96 --dropout 0 --steps 1")]
    [InlineData("learning-curve --data phantom --profile real-lite --shares 0.25,0.5,1 --target 0.9 --set epochs=2 --models /tmp/m --out /tmp/c")]
    [InlineData("real-table1 --data /tmp/cells --task all --set epochs=2 --models /tmp/m --out /tmp/t")]
    [InlineData("real-table1 --data /tmp/cells --from-predictions --out figures/table1-real-pbc")]
    [InlineData("real-table1 --data /tmp/cells --training-seeds 2017,2018,2019 --set steps=4000 --out /tmp/t")]
    [InlineData("real-cells build --pbc /tmp/PBC_dataset_normal_DIB --matek /tmp/BM_cytomorphology_data --out /tmp/rc --accept-changed")]
    [InlineData("train --data phantom --out /tmp/m --device cpu")]
    [InlineData("notebooks --device cuda --cell-timeout 7200")]
    public void ValidCommandLines_Parse(string line)
    {
        var parsed = Program.Commands().Parse(line.Split(' '));
        Assert.True(parsed.Errors.Count == 0, string.Join("; ", parsed.Errors.Select(e => e.Message)));
    }

    [Fact]
    public void RepeatedOptions_Accumulate()
    {
        var root = Program.Commands();
        var parsed = root.Parse(["train", "--data", "phantom", "--variant", "OG", "--out", "o", "--set", "epochs=3", "--set", "cv_epochs=1"]);
        Assert.Equal(["epochs=3", "cv_epochs=1"], parsed.GetValue<string[]>("--set")!);
    }

    [Theory]
    [InlineData("doctor --selftets", "--selftets")]                  // a typo is not ignored
    [InlineData("audit --out /tmp/x", "--data")]                     // a required option
    [InlineData("synth --size big --out /tmp/x", "big")]             // a value outside its choices
    [InlineData("train --data phantom --out /tmp/m --device gpu", "gpu")]
    [InlineData("real-table1 --data /tmp/c --task mixed --out /tmp/t", "mixed")]
    [InlineData("train --data phantom --variant OG --out o --profile fast", "fast")]
    [InlineData("bench --steps abc", "abc")]                         // not a number
    [InlineData("evaluate --model m --data phantom --part some --out o.json", "some")]
    [InlineData("learning-curve --data phantom --target most --out c", "most")]
    [InlineData("frobnicate", "frobnicate")]
    public async Task BadCommandLines_AreUsageErrors_NamingTheCulprit(string line, string named)
    {
        var parsed = Program.Commands().Parse(line.Split(' '));
        Assert.Contains(parsed.Errors, e => e.Message.Contains(named, StringComparison.Ordinal));
        var error = new StringWriter();
        var saved = Console.Error;
        Console.SetError(error);
        try { Assert.Equal(Program.UsageError, await Program.Main(line.Split(' '))); }
        finally { Console.SetError(saved); }
        Assert.Contains(named, error.ToString());
    }

    [Fact]
    public async Task Help_ExitsZero()
    {
        var output = new StringWriter();
        var saved = Console.Out;
        Console.SetOut(output);
        try { Assert.Equal(0, await Program.Main(["train", "--help"])); }
        finally { Console.SetOut(saved); }
        Assert.Contains("--variant", output.ToString());
    }

    /// <summary>`--device cuda` where there is no GPU (or the CPU build): one line saying why, exit 1, not a silent CPU run;
    /// and the help lists every exit code.</summary>
    [Fact]
    public void DeviceCuda_WithoutAGpu_SaysWhy_AndTheHelpListsTheExitCodes()
    {
        var (code, output) = MarrowProcess.Run(["--device", "cuda", "doctor"], MarrowProcess.ShortCommand);
        Assert.True(code == 1, output);
        Assert.Contains("MarrowDevice=cuda (--device cuda): no CUDA device here", output);
        var (cpu, cpuOutput) = MarrowProcess.Run(["doctor", "--device", "cpu"], MarrowProcess.ShortCommand);
        Assert.True(cpu == 0, cpuOutput);
        Assert.Contains("on CPU", cpuOutput);
        var (_, help) = MarrowProcess.Run(["--help"], MarrowProcess.ShortCommand);
        foreach (string exit in new[] { "0 done", "1 failed", "2 usage error", "3 done with a finding" }) Assert.Contains(exit, help);
    }
}
