using MarrowDiff.Core;
using MarrowDiff.Reports;
using MarrowDiff.Tests.Preparation;

namespace MarrowDiff.Tests.Cli;

/// <summary>`marrow learning-curve` as a user runs it: the table, the files, and a clear refusal of what it cannot do.</summary>
public class LearningCurveCommandTests(PreparedPhantomFixture fx) : IClassFixture<PreparedPhantomFixture>
{
    [Fact]
    public void ALearningCurve_PrintsItsTableAndFit_AndSavesTheThreeFiles()
    {
        string outDir = Path.Combine(fx.Root, "curve");
        var (code, output) = MarrowProcess.Run(["learning-curve", "--data", fx.Dataset.Root, "--profile", "smoke", "--set", "ensemble_folds=2", "--set", "epochs=1",
                                                "--set", "oversample=5,10", "--shares", "0.5,1", "--models", Path.Combine(fx.Root, "curve-models"), "--out", outDir],
                                               MarrowProcess.TrainingCommand);
        Assert.True(code == 0, output);
        Assert.Contains("# Learning curve: AG+OS10", output);
        Assert.Contains("| 0.5 |", output);
        Assert.Contains("| 1 |", output);
        Assert.Contains("Fit: ", output);
        Assert.Contains("SYNTHETIC", output); // the phantom says so on the stamp
        var rows = Csv.Parse(File.ReadAllText(Path.Combine(outDir, LearningCurveViews.CsvFile)));
        Assert.Equal(3, rows.Count);
        Assert.True(File.Exists(Path.Combine(outDir, LearningCurveViews.ChartFile)));
        Assert.True(File.Exists(Path.Combine(outDir, LearningCurveViews.TextFile)));
    }

    [Theory]
    [InlineData("--shares", "0.5,0", "'0' is not a share in (0, 1]")]
    [InlineData("--shares", "half", "'half' is not a share in (0, 1]")]
    [InlineData("--profile", "smoke", "needs a profile that trains fold models")]
    public void WhatItCannotDo_IsRefusedInOneLine_BeforeAnythingTrains(string option, string value, string reason)
    {
        string outDir = Path.Combine(fx.Root, "curve-refused");
        var (code, output) = MarrowProcess.Run(["learning-curve", "--data", fx.Dataset.Root, option, value, "--models", Path.Combine(fx.Root, "refused-models"), "--out", outDir], MarrowProcess.ShortCommand);
        Assert.Equal(1, code);
        Assert.Contains(reason, output);
        Assert.False(Directory.Exists(outDir));
        Assert.False(Directory.Exists(Path.Combine(fx.Root, "refused-models")));
    }
}
