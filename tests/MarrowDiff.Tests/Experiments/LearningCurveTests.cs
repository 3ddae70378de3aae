using MarrowDiff.Core;
using MarrowDiff.Experiments;
using MarrowDiff.Imaging;
using MarrowDiff.Reports;

namespace MarrowDiff.Tests.Experiments;

public class LearningCurveTests
{
    private static readonly Provenance Stamp = new("real-transfer", "PBC_dataset_normal_DIB", 2017, "test", Synthetic: false);

    private static LearningCurvePoint Point(double share, double cells, double f1) =>
        new(share, cells, 625, f1, f1 - 0.03, f1 + 0.03, [f1 - 0.01, f1 + 0.01], 10);

    private static LearningCurve Curve(params LearningCurvePoint[] points) => new(points, 0.85, "AG+OS150", "real-transfer profile: not comparable to the paper", Stamp);

    [Fact]
    public void TheFit_IsTheLineOfMacroF1OnLog2OfTheCells_AndSaysWhereItWouldReachTheTarget()
    {
        // 70, 74, 78 at 100, 200, 400 cells: 4 points a doubling, 85 at 400 × 2^(7/4) ≈ 1,345 cells, 3.4× the largest.
        var curve = Curve(Point(1, 400, 0.78), Point(0.25, 100, 0.70), Point(0.5, 200, 0.74));
        Assert.Equal([0.25, 0.5, 1], curve.Points.Select(p => p.Share)); // ordered by share whatever the order given
        Assert.Equal(4, curve.PointsPerDoubling!.Value, 9);
        Assert.Equal(78, curve.FittedPercent(400)!.Value, 9);
        Assert.Equal(400 * Math.Pow(2, 7 / 4.0), curve.CellsForTarget!.Value, 6);
        Assert.Equal(Math.Pow(2, 7 / 4.0), curve.TimesTheLargest!.Value, 9);
        string fit = curve.FitText();
        Assert.Contains("4.0 points a doubling", fit);
        Assert.Contains("near 1345 training cells a fold model, 3.4x the largest point's 400", fit);
        Assert.Contains("extrapolation", fit);
        // Noisy points: the least-squares slope, not the last step's.
        var noisy = Curve(Point(0.25, 100, 0.70), Point(0.5, 200, 0.78), Point(1, 400, 0.76));
        Assert.Equal(3, noisy.PointsPerDoubling!.Value, 9);
    }

    [Fact]
    public void AFlatOrFallingCurve_ReachesNoTarget_AndOnePointFitsNoLine()
    {
        var falling = Curve(Point(0.5, 200, 0.80), Point(1, 400, 0.79));
        Assert.True(falling.PointsPerDoubling < 0);
        Assert.Null(falling.CellsForTarget);
        Assert.Contains("does not rise", falling.FitText());
        var one = Curve(Point(1, 400, 0.80));
        Assert.Null(one.PointsPerDoubling);
        Assert.Null(one.CellsForTarget);
        Assert.Contains("no line to fit", one.FitText());
        var above = Curve(Point(0.5, 200, 0.84), Point(1, 400, 0.88));
        Assert.Contains("within the measured range", above.FitText());
        Assert.Throws<ArgumentOutOfRangeException>(() => new LearningCurve([Point(1, 400, 0.8)], 85, "AG+OS150", "c", Stamp)); // a percent, not a share
        Assert.Throws<ArgumentException>(() => new LearningCurve([], 0.85, "AG+OS150", "c", Stamp));
    }

    [Fact]
    public void Save_WritesTheTableTheTextAndTheChart_AndRefusesAFolderOfOtherFiles()
    {
        string root = Directory.CreateTempSubdirectory("marrow-curve-").FullName;
        try
        {
            var curve = Curve(Point(0.25, 100, 0.70), Point(0.5, 200, 0.74), Point(1, 400, 0.78));
            string folder = curve.Save(Path.Combine(root, "curve"));
            var rows = Csv.Parse(File.ReadAllText(Path.Combine(folder, LearningCurveViews.CsvFile)));
            Assert.Equal(["share", "cells_per_model", "held_out_cells", "cv_macro_f1", "ci_low", "ci_high", "folds_macro_f1", "training_min"], rows[0]);
            Assert.Equal(["0.5", "200", "625", "74.00", "71.00", "77.00", "73.0 75.0", "10.0"], rows[2]);
            string text = File.ReadAllText(Path.Combine(folder, LearningCurveViews.TextFile));
            Assert.Contains("| 0.25 | 100 | 70.0 (67.0–73.0) | 69.0, 71.0 | 10.0 min |", text);
            Assert.Contains(Stamp.Stamp, text);
            Assert.Contains("No test cell is read", text);
            var png = RgbImage.FromPng(File.ReadAllBytes(Path.Combine(folder, LearningCurveViews.ChartFile)));
            Assert.True(png.Width > 800 && png.Height > 300, $"{png.Width}x{png.Height}");
            Assert.False(Directory.Exists(folder + ".writing"));
            // Saved again over itself: replaced. Over a folder of other files: refused, and the files are kept.
            curve.Save(folder);
            string other = Path.Combine(root, "other");
            Directory.CreateDirectory(other);
            File.WriteAllText(Path.Combine(other, "notes.txt"), "mine");
            Assert.Contains("holds other files", Assert.Throws<IOException>(() => curve.Save(other)).Message);
            Assert.Equal("mine", File.ReadAllText(Path.Combine(other, "notes.txt")));
            // Nor beside an earlier curve: the rename would take the other file with the folder.
            File.WriteAllText(Path.Combine(folder, "notes.txt"), "mine too");
            Assert.Contains("(notes.txt)", Assert.Throws<IOException>(() => curve.Save(folder)).Message);
            Assert.Equal("mine too", File.ReadAllText(Path.Combine(folder, "notes.txt")));
        }
        finally { Directory.Delete(root, recursive: true); }
    }
}
