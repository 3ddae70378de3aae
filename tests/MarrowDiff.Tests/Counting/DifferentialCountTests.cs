using MarrowDiff.Counting;

namespace MarrowDiff.Tests.Counting;

public class DifferentialCountTests
{
    [Fact]
    public void ClassShare_CarriesTheExactInterval()
    {
        var share = ClassShare.For("C5 Myeloblast", 5, 100);
        Assert.Equal(0.05, share.Share);
        Assert.Equal(0.0164, share.Low, 4);   // Clopper-Pearson 5/100: 1.64-11.28%
        Assert.Equal(0.1128, share.High, 4);
    }

    [Fact]
    public void MyeloidToErythroid_BoundsFollowTheMyeloidShare()
    {
        var r = DifferentialCounter.Ratio(150, 50)!;
        Assert.Equal(3.0, r.Ratio);
        Assert.InRange(r.Low, 2.0, 3.0);
        Assert.InRange(r.High, 3.0, 4.5);
        Assert.True(double.IsPositiveInfinity(DifferentialCounter.Ratio(10, 0)!.High));
        Assert.Null(DifferentialCounter.Ratio(0, 0));
    }

    [Fact]
    public void CellsNeeded_ForPlusMinus2Point5_AtAShare()
    {
        // A share of 50% needs about 1,600 cells for ±2.5 points (1.96·√(0.25/n) = 0.025 gives 1,537 by the normal
        // approximation; the exact interval is a little wider); 5% needs far fewer.
        int half = DifferentialCounter.CellsFor(0.5, 0.025);
        Assert.InRange(half, 1537, 1700);
        int five = DifferentialCounter.CellsFor(0.05, 0.025);
        Assert.InRange(five, 250, 400);
        var (l, h) = MarrowDiff.Evaluation.Intervals.ClopperPearson((int)Math.Round(0.5 * half), half);
        Assert.True((h - l) / 2 <= 0.025);
    }

    [Fact]
    public void BadSettings_AreRefused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => DifferentialCounter.Count([], null, target: 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => DifferentialCounter.Count([], null, reviewBelow: 1.5));
    }
}
