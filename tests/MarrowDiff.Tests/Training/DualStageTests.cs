using MarrowDiff.Training;
using MarrowDiff.Evaluation;
using MarrowDiff.Model;

namespace MarrowDiff.Tests.Training;

public class DualStageTests
{
    [Fact]
    public void WhenTheGlobalTopIsInThePair_OnlyThePairsMassMoves_AndItStillSumsToOne()
    {
        float[] global = [0.05f, 0.05f, 0.05f, 0.05f, 0.05f, 0.05f, 0.05f, 0.05f, 0.45f, 0.15f]; // top: C9 (index 8)
        float[] combined = DualStage.Combine(global, [0.2f, 0.8f], 8, 9);
        Assert.Equal(1.0, combined.Sum(), 5);
        Assert.Equal(0.6 * 0.2, combined[8], 6);
        Assert.Equal(0.6 * 0.8, combined[9], 6);
        for (int c = 0; c < 8; c++) Assert.Equal(global[c], combined[c]);
        Assert.Equal(9, Array.IndexOf(combined, combined.Max())); // the local model turned band into segmented
    }

    [Fact]
    public void WhenTheGlobalTopIsOutsideThePair_NothingChanges()
    {
        float[] global = [0.7f, 0.05f, 0.05f, 0.05f, 0.05f, 0.0f, 0.0f, 0.0f, 0.05f, 0.05f];
        float[] combined = DualStage.Combine(global, [0.99f, 0.01f], 8, 9);
        Assert.Equal(global, combined);
    }

    [Fact]
    public void AnyPair_AndBadPairs()
    {
        float[] global = [0.1f, 0.1f, 0.1f, 0.1f, 0.1f, 0.1f, 0.3f, 0.0f, 0.05f, 0.05f]; // top: C7 (index 6)
        float[] combined = DualStage.Combine(global, [0.25f, 0.75f], 6, 7);                // C7 / C8 pair
        Assert.Equal(0.075, combined[6], 6); Assert.Equal(0.225, combined[7], 6);
        Assert.Equal(1.0, combined.Sum(), 5);
        Assert.Throws<ArgumentOutOfRangeException>(() => DualStage.Combine(global, [0.5f, 0.5f], 3, 3));
        Assert.Throws<ArgumentException>(() => DualStage.Combine(global, [1f], 8, 9));
    }
}

public class McNemarTests
{
    private static (bool[], bool[]) Pairs(int both, int firstOnly, int secondOnly, int neither)
    {
        var a = new List<bool>(); var b = new List<bool>();
        void Add(int n, bool x, bool y) { for (int i = 0; i < n; i++) { a.Add(x); b.Add(y); } }
        Add(both, true, true); Add(firstOnly, true, false); Add(secondOnly, false, true); Add(neither, false, false);
        return (a.ToArray(), b.ToArray());
    }

    [Fact]
    public void SmallCounts_UseTheExactBinomialTest()
    {
        // b = 1, c = 6: p = 2 · (C(7,0) + C(7,1)) / 2^7 = 16 / 128 = 0.125
        var (a, b) = Pairs(30, 1, 6, 2);
        var r = McNemarResult.Test(a, b);
        Assert.True(r.Exact);
        Assert.Equal(1, r.FirstOnlyCorrect); Assert.Equal(6, r.SecondOnlyCorrect);
        Assert.Equal(0.125, r.PValue, 12);
    }

    [Fact]
    public void LargeCounts_UseChiSquareWithContinuityCorrection()
    {
        // b = 10, c = 30: chi² = (|10 − 30| − 1)² / 40 = 9.025, p = erfc(√4.5125) ≈ 0.0026631
        var (a, b) = Pairs(100, 10, 30, 5);
        var r = McNemarResult.Test(a, b);
        Assert.False(r.Exact);
        Assert.Equal(9.025, r.Statistic, 9);
        Assert.Equal(0.0026631, r.PValue, 6);
    }

    [Fact]
    public void NoDiscordantCells_MeansNoEvidence()
    {
        var (a, b) = Pairs(10, 0, 0, 3);
        Assert.Equal(1.0, McNemarResult.Test(a, b).PValue);
        Assert.Throws<ArgumentException>(() => McNemarResult.Test([true], [true, false]));
    }
}
