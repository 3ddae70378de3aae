using MarrowDiff.Evaluation;

namespace MarrowDiff.Tests.Evaluation;

public class BootstrapTests
{
    [Fact]
    public void MacroF1Interval_HoldsTheEstimate_IsReproducible_AndNarrowsWithMoreCells()
    {
        // 5 classes, 24 cells each, 80% right (the wrong ones moved to the next class).
        (List<int> Truth, List<int> Predicted) Cells(int perClass)
        {
            var truth = new List<int>(); var predicted = new List<int>();
            for (int c = 0; c < 5; c++)
                for (int i = 0; i < perClass; i++) { truth.Add(c); predicted.Add(i % 5 == 0 ? (c + 1) % 5 : c); }
            return (truth, predicted);
        }
        var (t, p) = Cells(24);
        double estimate = ClassificationMetrics.From(t, p, ["a", "b", "c", "d", "e"]).MacroF1;
        var (low, high) = Intervals.BootstrapMacroF1(t, p, 5, seed: 1);
        Assert.InRange(estimate, low, high);
        Assert.True(high - low is > 0.05 and < 0.3, $"{low}-{high}");
        Assert.Equal((low, high), Intervals.BootstrapMacroF1(t, p, 5, seed: 1));
        var (t4, p4) = Cells(96);
        var (low4, high4) = Intervals.BootstrapMacroF1(t4, p4, 5, seed: 1);
        Assert.True(high4 - low4 < 0.7 * (high - low)); // four times the cells: about half the width
        Assert.Equal((1.0, 1.0), Intervals.BootstrapMacroF1(t, t, 5));
        Assert.Throws<ArgumentException>(() => Intervals.BootstrapMacroF1([], [], 5));
    }
}
